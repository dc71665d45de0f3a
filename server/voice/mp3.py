"""How long an MP3 plays, read from its MPEG audio frame headers (no decoding, no third-party parser).

Pure functions over bytes: ID3 tags, encoder tags (Xing/Info/VBRI) and junk between frames are
skipped, so the spoken length the timeline schedules by is the audio's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import MS_PER_S


class NotMpegAudio(ValueError):
    """The bytes hold no MPEG audio frame."""


_MPEG1, _MPEG2, _MPEG25 = 3, 2, 0  # the header's version bits (1 is reserved)
_LAYER1, _LAYER2, _LAYER3 = 3, 2, 1  # the header's layer bits (0 is reserved)
_FREE_FORMAT, _BAD_BITRATE, _BAD_SAMPLE_RATE = 0, 15, 3
# kbit/s by bitrate index 1..14 (index 0 is free format, which we do not measure).
_BITRATES_KBPS = {
    (_MPEG1, _LAYER1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (_MPEG1, _LAYER2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (_MPEG1, _LAYER3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (_MPEG2, _LAYER1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (_MPEG2, _LAYER2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (_MPEG2, _LAYER3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {
    _MPEG1: (44100, 48000, 32000),
    _MPEG2: (22050, 24000, 16000),
    _MPEG25: (11025, 12000, 8000),
}
_LAYER1_SAMPLES = 384
_LAYER1_SLOT_BYTES = 4
_FULL_FRAME_SAMPLES = 1152  # Layer II, and Layer III of MPEG 1
_HALF_FRAME_SAMPLES = 576  # Layer III of MPEG 2 and 2.5
_BITS_PER_BYTE = 8
_HEADER_BYTES = 4
_MONO = 3  # channel-mode bits
# Layer III side information, by (is MPEG 1, is mono); a Xing/Info tag follows it.
_SIDE_INFO_BYTES = {(True, False): 32, (True, True): 17, (False, False): 17, (False, True): 9}
_VBRI_OFFSET = 36
_VBR_TAGS = (b"Xing", b"Info")
ID3V2_MAGIC = b"ID3"
_ID3V2_HEADER_BYTES = 10
_ID3V2_FOOTER_FLAG = 0x10
_SYNCHSAFE_BITS = 7
ID3V1_MAGIC = b"TAG"
_ID3V1_BYTES = 128


@dataclass(frozen=True)
class _Frame:
    """One MPEG audio frame header, decoded."""

    length: int
    samples: int
    sample_rate: int
    side_info_end: int | None  # Layer III only: where a Xing/Info tag would start


def _frame_at(data: bytes, pos: int) -> _Frame | None:
    """The frame header at pos, or None where there is no valid one."""
    if pos + _HEADER_BYTES > len(data):
        return None
    b0, b1, b2, b3 = data[pos : pos + _HEADER_BYTES]
    if b0 != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version not in _SAMPLE_RATES or layer == 0:
        return None
    if bitrate_index in (_FREE_FORMAT, _BAD_BITRATE) or rate_index == _BAD_SAMPLE_RATE:
        return None
    is_mpeg1 = version == _MPEG1
    bitrate = _BITRATES_KBPS[(_MPEG1 if is_mpeg1 else _MPEG2, layer)][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    if layer == _LAYER1:
        samples = _LAYER1_SAMPLES
        slots = _LAYER1_SAMPLES // _BITS_PER_BYTE // _LAYER1_SLOT_BYTES
        length = (slots * bitrate // sample_rate + padding) * _LAYER1_SLOT_BYTES
    else:
        samples = _FULL_FRAME_SAMPLES if layer == _LAYER2 or is_mpeg1 else _HALF_FRAME_SAMPLES
        length = samples // _BITS_PER_BYTE * bitrate // sample_rate + padding
    side_info_end = None
    if layer == _LAYER3:
        side_info_end = pos + _HEADER_BYTES + _SIDE_INFO_BYTES[(is_mpeg1, b3 >> 6 == _MONO)]
    return _Frame(length, samples, sample_rate, side_info_end)


def _id3v2_length(data: bytes, pos: int) -> int:
    """The whole length of the ID3v2 tag at pos (header, body and optional footer)."""
    header = data[pos : pos + _ID3V2_HEADER_BYTES]
    if len(header) < _ID3V2_HEADER_BYTES:
        return len(data) - pos
    size = 0
    for byte in header[6:10]:  # "synchsafe": seven bits a byte
        size = (size << _SYNCHSAFE_BITS) | (byte & 0x7F)
    footer = _ID3V2_HEADER_BYTES if header[5] & _ID3V2_FOOTER_FLAG else 0
    return _ID3V2_HEADER_BYTES + size + footer


def _is_vbr_tag_frame(data: bytes, pos: int, frame: _Frame) -> bool:
    """Whether this frame is an encoder's Xing/Info/VBRI tag rather than audio."""
    if frame.side_info_end is None:
        return False
    tag = data[frame.side_info_end : frame.side_info_end + len(_VBR_TAGS[0])]
    return tag in _VBR_TAGS or data[pos + _VBRI_OFFSET : pos + _VBRI_OFFSET + 4] == b"VBRI"


def _resync(data: bytes, pos: int) -> int | None:
    """The next position from pos where two frames follow each other (or one ends the data)."""
    while (pos := data.find(b"\xff", pos)) != -1:
        frame = _frame_at(data, pos)
        if frame is not None:
            after = pos + frame.length
            if after == len(data) or _frame_at(data, after) is not None:
                return pos
        pos += 1
    return None


def mp3_duration_ms(data: bytes) -> int:
    """How long an MP3 plays: its audio frames times samples a frame over the sample rate."""
    pos, frames, seconds = 0, 0, 0.0
    while pos < len(data):
        if data.startswith(ID3V2_MAGIC, pos):
            pos += _id3v2_length(data, pos)
            continue
        if data.startswith(ID3V1_MAGIC, pos) and len(data) - pos == _ID3V1_BYTES:
            break
        frame = _frame_at(data, pos)
        if frame is None:
            # Junk between frames: skip to the next place two frames agree.
            resynced = _resync(data, pos + 1)
            if resynced is None:
                break
            pos = resynced
            continue
        if pos + frame.length > len(data):
            break  # a truncated last frame does not play
        if not (frames == 0 and _is_vbr_tag_frame(data, pos, frame)):
            frames += 1
            seconds += frame.samples / frame.sample_rate
        pos += frame.length
    if frames == 0:
        raise NotMpegAudio("no MPEG audio frame found")
    return round(seconds * MS_PER_S)
