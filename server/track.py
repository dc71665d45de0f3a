"""The whole walk as one MP3 track: pure layout maths (no files, no encoder).

A walk in pocket mode plays through one media element whose `currentTime` is the walk's
clock, so the server composes every cue of a session into one continuous track: track time
= plan position + TRACK_LEAD_IN_MS, each cue's audio starting at its `offset_ms`, quiet
between cues, to the end of the plan (and the tail of the last cue), then a second of quiet.

Why this format: MPEG-2 Layer III, mono, 24 kHz (gTTS's own rate), constant 16 kbit/s.
- Every phone plays MP3 (Safari included), and speech keeps its words at 16 kbit/s: measured
  on the coach's phrases, the decoded audio keeps 99.9 % of its energy below 4.6 kHz (more
  than a phone call's 3.4 kHz) with a signal-to-noise ratio of 12.7 dB; 24 kbit/s gives
  4.8 kHz and 15.0 dB, 32 kbit/s 6.1 kHz and 16.6 dB - small gains for their size.
- Size: 16 kbit/s is 120 KB a minute, under the 125 KB budget whatever the walk says;
  24 kbit/s, LAME's next step, would be 180 KB. (VBR would make quiet cheaper, but see below.)
- Exact seeking: the phone steers `currentTime`, and a VBR MP3's byte <-> time map is only
  approximate in browsers (a Xing table of contents has 1 % steps, 2.4 minutes of a 4-hour
  walk). At a constant 16 kbit/s and 24 kHz every frame is 48 bytes of 576 samples with no
  padding slot, so byte = 48 * (samples // 576) in every decoder, and the length is known
  before a byte is encoded.
- No Xing/LAME tag: a decoder that honours its gapless fields would start 1,105 samples
  earlier than one that does not; without it the decoders play the same samples (dr_mp3,
  libmad and Chromium's FFmpeg agree to the sample: tests/test_track.py).

How it is built: the track is a virtual file of 48-byte frame slots. A slot holds either a
silent frame (self-contained: main_data_begin = 0) or one frame of a *chunk*: an independent
LAME encode of (a sub-frame pad of quiet + the cue's decoded audio [+ cues close enough to
share it]). LAME's first frame never borrows from a bit reservoir (main_data_begin = 0), so
chunks and silent frames concatenate into a valid stream, and any byte range can be built
from the few chunks it overlaps. LAME output without a gapless header decodes
CODEC_DELAY_SAMPLES late (encoder delay 576 + decoder delay 529, measured with dr_mp3 and
with libmad through sox); the layout starts each chunk that much early so every cue's
decoded audio starts on its offset.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .clock import MS_PER_S

# Quiet before the walk's position 0: 0.3-0.5 s of it wakes a Bluetooth headset, and it equals
# the default start lead (START_LEAD_MS), so at the tap on Start the element starts at
# currentTime 0 and the first word comes half a second later.
TRACK_LEAD_IN_MS = 500

SAMPLE_RATE = 24000
BITRATE_KBPS = 16
FRAME_SAMPLES = 576  # Layer III of MPEG 2
_BITS_PER_BYTE = 8
FRAME_BYTES = FRAME_SAMPLES * BITRATE_KBPS * 1000 // _BITS_PER_BYTE // SAMPLE_RATE  # 48
SAMPLES_PER_MS = SAMPLE_RATE // MS_PER_S

# LAME's encoder delay (576) plus the MP3 decoder's synthesis delay (529): a sample fed to
# LAME at input index i plays at output index i + 1105 (measured with dr_mp3, libmad and Chromium).
CODEC_DELAY_SAMPLES = 1105
# LAME writes ceil((n + 1152) / 576) frames for n input samples (measured for n = 1..23,000).
ENCODER_FLUSH_SAMPLES = 1152

# A frame of silence that needs no earlier frame: LAME's own first frame of digital silence
# (header: MPEG 2, Layer III, no CRC, 16 kbit/s, 24 kHz, mono), whose side information says
# main_data_begin = 0 and no Huffman bits, so the decoder outputs zeros.
SILENT_FRAME = bytes.fromhex("fff324c4000000034800000000") + bytes(FRAME_BYTES - 13)

# Quiet after the plan's end or the last cue's audio, whichever is later: a decoder that drops
# the final frame (libmad does without guard bytes) loses quiet only, never "Well done".
TRACK_TAIL_MS = 1000

# Changes whenever the same manifest would give other bytes (a new format or placement rule).
TRACK_FORMAT_VERSION = 1
TRACK_SUFFIX = ".mp3"
TRACKS_URL_PREFIX = "/audio/tracks/"
TRACK_NAME = re.compile(r"([0-9a-f]{64})" + re.escape(TRACK_SUFFIX))
# Bytes handed to the web server per piece of a response (about 11 s of walk).
PIECE_BYTES = 64 * 1024


class Placement(NamedTuple):
    """One cue file whose decoded audio starts at `start` (track samples) and lasts `samples`."""

    file: str
    start: int
    samples: int


class Chunk(NamedTuple):
    """One independent encode: `frames` slots from `first_frame`, made of cues placed in its input."""

    first_frame: int
    frames: int
    # (file, input sample where its decoded audio begins, its samples); the input is this long:
    parts: tuple[tuple[str, int, int], ...]
    input_samples: int

    @property
    def stop_frame(self) -> int:
        """The first slot after the chunk."""
        return self.first_frame + self.frames


@dataclass(frozen=True)
class Layout:
    """Where every chunk of a track sits; the rest of its frame slots are silent."""

    frames: int
    chunks: tuple[Chunk, ...]

    @property
    def byte_length(self) -> int:
        """The MP3 file's size."""
        return self.frames * FRAME_BYTES


def ms_to_samples(ms: int) -> int:
    """Milliseconds as samples at the track's rate."""
    return ms * SAMPLES_PER_MS


def track_sample(offset_ms: int, lead_in_ms: int = TRACK_LEAD_IN_MS) -> int:
    """The track sample at which a plan position plays."""
    return ms_to_samples(offset_ms + lead_in_ms)


def encoded_frames(input_samples: int) -> int:
    """How many frames LAME writes for this many input samples (flush included)."""
    return -(-(input_samples + ENCODER_FLUSH_SAMPLES) // FRAME_SAMPLES)


def _chunk(first_frame: int, placements: Sequence[Placement]) -> Chunk:
    """The chunk from first_frame that carries these cues, each decoded at its own start."""
    origin = first_frame * FRAME_SAMPLES + CODEC_DELAY_SAMPLES
    parts = tuple((p.file, p.start - origin, p.samples) for p in placements)
    input_samples = max(at + samples for _, at, samples in parts)
    return Chunk(first_frame, encoded_frames(input_samples), parts, input_samples)


def first_frame_for(start: int) -> int:
    """The frame slot a chunk must begin on so that its input can reach `start` after the codec delay."""
    if start < CODEC_DELAY_SAMPLES:
        raise ValueError("a cue must start at least the codec delay into the track")
    return (start - CODEC_DELAY_SAMPLES) // FRAME_SAMPLES


def layout(placements: Iterable[Placement], end_sample: int) -> Layout:
    """Chunks for cues in time order, merging cues whose encodes would share a frame slot."""
    chunks: list[Chunk] = []
    group: list[Placement] = []
    current: Chunk | None = None
    for placement in sorted(placements, key=lambda p: p.start):
        frame = first_frame_for(placement.start)
        if current is not None and frame < current.stop_frame:
            group.append(placement)
            current = _chunk(current.first_frame, group)
            continue
        if current is not None:
            chunks.append(current)
        group = [placement]
        current = _chunk(frame, group)
    if current is not None:
        chunks.append(current)
    end_frames = -(-end_sample // FRAME_SAMPLES)
    tail_frames = -(-ms_to_samples(TRACK_TAIL_MS) // FRAME_SAMPLES)
    frames = max([end_frames] + [chunk.stop_frame for chunk in chunks]) + tail_frames
    return Layout(frames, tuple(chunks))


# --- Manifests and names ---------------------------------------------------------------


def cue_file(cue: Mapping) -> str:
    """The cache file name of a timeline cue's audio ("/audio/<name>" -> "<name>")."""
    return str(cue.get("audio", "")).rsplit("/", 1)[-1]


def track_key(timeline: Sequence[Mapping], end_ms: int, lead_in_ms: int = TRACK_LEAD_IN_MS) -> dict:
    """What makes a track's bytes: the format, the lead-in, the plan's end and each cue's file and offset."""
    return {
        "format": TRACK_FORMAT_VERSION,
        "lead_in_ms": lead_in_ms,
        "end_ms": end_ms,
        # Cue files are content-addressed and immutable, so their names stand for their audio.
        "cues": [[cue_file(cue), int(cue["offset_ms"])] for cue in timeline],
    }


def track_hash(key: Mapping) -> str:
    """The SHA-256 of a track key: identical timelines share one track."""
    text = json.dumps([key["format"], key["lead_in_ms"], key["end_ms"], key["cues"]], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def track_url(timeline: Sequence[Mapping], end_ms: int) -> str:
    """Where a session's track is served."""
    return TRACKS_URL_PREFIX + track_hash(track_key(timeline, end_ms)) + TRACK_SUFFIX


def track_fields(timeline: Sequence[Mapping], end_ms: int) -> dict:
    """The contract fields a session's descriptions carry: `track` and `track_lead_in_ms`."""
    return {"track": track_url(timeline, end_ms), "track_lead_in_ms": TRACK_LEAD_IN_MS}


def hash_of_name(name: str) -> str | None:
    """The hash in a track file name ("<sha256>.mp3"), or None for anything else."""
    match = TRACK_NAME.fullmatch(name) if isinstance(name, str) else None
    return match.group(1) if match else None


def manifest(key: Mapping, samples_of: Mapping[str, int]) -> dict:
    """A track key with each cue file's decoded length in track samples: all a render needs."""
    return {**key, "samples": {file: samples_of[file] for file, _ in key["cues"]}}


def layout_of(manifest: Mapping) -> Layout:
    """The layout a stored manifest describes."""
    lead = manifest["lead_in_ms"]
    placements = [
        Placement(file, track_sample(offset, lead), manifest["samples"][file]) for file, offset in manifest["cues"]
    ]
    return layout(placements, track_sample(manifest["end_ms"], lead))


# --- Byte ranges -------------------------------------------------------------------------

# At most 19 digits (past any file's size, under Python's 4,300-digit int limit): a longer
# number does not match, so the Range is ignored and the whole track sent (RFC 9110).
RANGE_MAX_DIGITS = 19
_RANGE = re.compile(
    rf"\s*bytes\s*=\s*(\d{{0,{RANGE_MAX_DIGITS}}})\s*-\s*(\d{{0,{RANGE_MAX_DIGITS}}})\s*", re.IGNORECASE
)


class ByteRange(NamedTuple):
    """What a Range header asks of a representation `length` bytes long."""

    status: int  # 200 (whole), 206 (partial) or 416 (unsatisfiable)
    start: int
    stop: int  # exclusive


def byte_range(header: str | None, length: int) -> ByteRange:
    """Read one `bytes=a-b`, `a-` or `-n` range; anything else (several, malformed) means the whole."""
    whole = ByteRange(200, 0, length)
    match = _RANGE.fullmatch(header or "")
    if match is None:
        return whole  # RFC 9110: a server may ignore a Range it does not support
    first, last = match.groups()
    if not first and not last:
        return whole
    if not first:  # a suffix: the last n bytes
        suffix = int(last)
        if suffix == 0 or length == 0:
            return ByteRange(416, 0, 0)
        return ByteRange(206, max(0, length - suffix), length)
    start = int(first)
    stop = length if not last else int(last) + 1
    if last and stop <= start:
        return whole  # an invalid range (last before first) is ignored
    if start >= length:
        return ByteRange(416, 0, 0)
    return ByteRange(206, start, min(stop, length))


def content_range(part: ByteRange, length: int) -> str:
    """The Content-Range header of a 206 or 416 answer."""
    if part.status == 416:
        return f"bytes */{length}"
    return f"bytes {part.start}-{part.stop - 1}/{length}"


# --- Bytes of a range --------------------------------------------------------------------


def _silence(frames: int) -> Iterator[bytes]:
    """Silent frames, in pieces of at most PIECE_BYTES."""
    per_piece = PIECE_BYTES // FRAME_BYTES
    while frames > 0:
        count = min(frames, per_piece)
        yield SILENT_FRAME * count
        frames -= count


def frame_pieces(track: Layout, first: int, stop: int, chunk_bytes: Callable[[Chunk], bytes]) -> Iterator[bytes]:
    """The frames in slots [first, stop): silence, and the overlapping chunks' encodes."""
    at = first
    index = max(0, bisect.bisect_right([c.first_frame for c in track.chunks], first) - 1)
    for chunk in track.chunks[index:]:
        if chunk.first_frame >= stop:
            break
        if chunk.stop_frame <= at:
            continue
        if chunk.first_frame > at:
            yield from _silence(chunk.first_frame - at)
            at = chunk.first_frame
        encoded = chunk_bytes(chunk)
        upto = min(stop, chunk.stop_frame)
        yield encoded[(at - chunk.first_frame) * FRAME_BYTES : (upto - chunk.first_frame) * FRAME_BYTES]
        at = upto
    if at < stop:
        yield from _silence(stop - at)


def range_pieces(track: Layout, start: int, stop: int, chunk_bytes: Callable[[Chunk], bytes]) -> Iterator[bytes]:
    """The track's bytes [start, stop), built from only the chunks they overlap."""
    first, last = start // FRAME_BYTES, -(-stop // FRAME_BYTES)
    skip, remaining = start - first * FRAME_BYTES, stop - start
    for piece in frame_pieces(track, first, last, chunk_bytes):
        if skip:
            piece, skip = piece[skip:], max(0, skip - len(piece))
        piece = piece[:remaining]
        remaining -= len(piece)
        if piece:
            yield piece
        if remaining <= 0:
            break
