"""The walk track's sound: cue MP3s decoded to the track's PCM, mixed into a chunk and encoded as exact MP3 frames.

server/track.py plans where every cue goes and how many frames a chunk is; these functions make
the audio of one chunk (dr_mp3 through miniaudio to decode, LAME to encode).
"""

from __future__ import annotations

import array
import logging
import sys
from collections.abc import Sequence

import lameenc
import miniaudio

from . import loudness
from . import track as layout_maths
from .track import FRAME_BYTES, SAMPLE_RATE, SILENT_FRAME

log = logging.getLogger(__name__)

MONO = 1
# LAME's recommended high quality; at 16 kbit/s the faster settings save little time (measured).
LAME_QUALITY = 2
PCM_SAMPLE_BYTES = 2
PCM_MAX = 32767
MAIN_DATA_BEGIN_BYTE = 4  # the first byte of Layer III side information
# A chunk is the cues' second encode (16 kbit/s), which can lift a levelled cue's peak past the cues'
# ceiling, up to full scale (a click): such a chunk is turned down by its overshoot and encoded again,
# in this many encodes at most.
CHUNK_ENCODES = 4


def decode_cue(data: bytes) -> array.array:
    """A cue MP3 as mono signed 16-bit PCM at the track's sample rate (dr_mp3 through miniaudio)."""
    decoded = miniaudio.decode(
        data, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=MONO, sample_rate=SAMPLE_RATE
    )
    return decoded.samples


def encode_pcm(pcm: bytes) -> bytes:
    """Mono 16-bit PCM at 24 kHz as constant 16 kbit/s MP3 frames, with no tag."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(layout_maths.BITRATE_KBPS)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    # Without this LAME picks a lower rate for 16 kbit/s and the frame maths no longer holds.
    encoder.set_out_sample_rate(SAMPLE_RATE)
    encoder.set_channels(MONO)
    encoder.set_quality(LAME_QUALITY)
    return bytes(encoder.encode(pcm) + encoder.flush())


def encode_under_ceiling(pcm: bytes) -> bytes:
    """A chunk's PCM encoded (encode_pcm), turned down and encoded again while it decodes above the peak ceiling
    (CHUNK_ENCODES encodes at most: the last is kept unchecked)."""
    return loudness.encoded_under_ceiling(
        loudness.from_pcm16(pcm),
        lambda samples: encode_pcm(loudness.pcm16(samples)),
        lambda encoded: loudness.from_pcm16(decode_cue(encoded)),
        loudness.PEAK_CEILING_DBFS,
        CHUNK_ENCODES,
    )


def fit(pcm: array.array, samples: int) -> array.array:
    """The decoded audio cut or padded with quiet to the length the layout planned."""
    if len(pcm) >= samples:
        return pcm[:samples]
    return pcm + array.array("h", bytes((samples - len(pcm)) * PCM_SAMPLE_BYTES))


def mix_parts(parts: Sequence[tuple[array.array, int]], input_samples: int) -> bytes:
    """Cue audio placed at its input positions; overlaps are summed, then scaled so nothing clips."""
    out = array.array("h", bytes(input_samples * PCM_SAMPLE_BYTES))
    sums: dict[int, int] = {}  # only samples where two cues overlap, which is rare
    written_to = 0
    for pcm, at in sorted(parts, key=lambda part: part[1]):
        overlap = max(0, min(written_to, at + len(pcm)) - at)
        for i in range(overlap):
            sums[at + i] = sums.get(at + i, out[at + i]) + pcm[i]
        out[at + overlap : at + len(pcm)] = pcm[overlap:]
        written_to = max(written_to, at + len(pcm))
    peak = max((abs(value) for value in sums.values()), default=0)
    if peak > PCM_MAX:
        # Turn the whole chunk down rather than clip where two cues meet.
        gain = PCM_MAX / peak
        out = array.array("h", (round(sample * gain) for sample in out))
        for index, value in sums.items():
            out[index] = round(value * gain)
    else:
        for index, value in sums.items():
            out[index] = value
    if sys.byteorder != "little":
        out.byteswap()  # LAME takes little-endian PCM
    return out.tobytes()


def frames_exact(encoded: bytes, frames: int) -> bytes:
    """The encode as exactly the planned number of frames (LAME's count is measured; be safe anyway)."""
    if len(encoded) % FRAME_BYTES or encoded[MAIN_DATA_BEGIN_BYTE] != 0:
        raise ValueError("LAME wrote frames the track layout cannot place")
    have = len(encoded) // FRAME_BYTES
    if have != frames:
        log.warning("chunk encoded to %d frames, %d planned", have, frames)
    return (encoded + SILENT_FRAME * max(0, frames - have))[: frames * FRAME_BYTES]
