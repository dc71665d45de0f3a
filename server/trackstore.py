"""The edge of the walk's track: manifests and files on disk, renders, caches and HTTP.

The layout maths lives in server/track.py, the decoding, mixing and encoding in
server/trackaudio.py. Here a session's track is registered (its manifest written to
<audio cache>/tracks/<hash>.json when the session is created, so the track can be served after
a restart), any byte range is rendered on demand from the few chunks it overlaps (so the first
word plays at once even for a 4-hour walk), and the complete file is written to
<audio cache>/tracks/<hash>.mp3 in the background and served from disk after that.
"""

from __future__ import annotations

import array
import functools
import json
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from flask import Request, Response

from . import track as layout_maths
from .errors import error_response
from .refusals import NotFound
from .track import SAMPLES_PER_MS, SILENT_FRAME, Chunk, Layout
from .trackaudio import decode_cue, encode_under_ceiling, fit, frames_exact, mix_parts
from .voice import TEMP_PREFIX, TEMP_SUFFIX, VoiceUnavailable, mp3_duration_ms, sweep_stale_temp_files

log = logging.getLogger(__name__)

TRACKS_DIR = "tracks"
MANIFEST_SUFFIX = ".json"
# Track files are public audio, like the cue files beside them.
TRACK_FILE_MODE = 0o644
# Complete track files and manifests kept on disk (about 70 four-hour or 580 half-hour walks'
# files); past this the least recently served files go first (their manifests stay, so an
# evicted track is still served, rendered), then the least recently used manifests (a track
# without one is 404 until a session of the same walk registers it again).
TRACK_FILES_MAX_BYTES = 2 * 1024**3
# Manifest bytes written between two evictions (a session of a new walk writes a few KB): a
# directory scan per new session would cost more than the bound needs.
EVICT_EVERY_MANIFEST_BYTES = 1024**2
# Distinct cue files decoded at once in memory (a few seconds of 24 kHz audio each, ~150 KB).
PCM_CACHE_FILES = 64
# Encoded chunks kept in memory (2-7 KB each); a walk's repeated phrases at the same
# sub-frame pad (countdowns every second repeat every 3 s) reuse one encode.
CHUNK_CACHE = 1024
LAYOUT_CACHE = 32
# Complete files rendered at once: a render is a few seconds of a core for a long walk, the
# machine has two shared with everything else, and the range path serves meanwhile.
RENDERS_AT_ONCE = 1
# Tracks waiting for a render; past this a GET does not queue one (the next GET of it will).
RENDERS_WAITING_MAX = 256


class CueAudioMissing(VoiceUnavailable):
    """A cue file a track needs is not in the audio cache (a session cannot promise its cues: 503)."""


class TrackStore:
    """Sessions' tracks under <audio cache>/tracks: manifests, rendering, files."""

    def __init__(
        self,
        audio_root: Path | str,
        cue_path: Callable[[str], Path | None],
        max_file_bytes: int = TRACK_FILES_MAX_BYTES,
    ):
        """Keep tracks beside the cue files; `cue_path` finds a cue file by name (None if missing)."""
        self.root = Path(audio_root) / TRACKS_DIR
        self.root.mkdir(parents=True, exist_ok=True)
        self._cue_path = cue_path
        self.max_file_bytes = max_file_bytes
        self._samples: dict[str, int] = {}
        self._rendering: set[str] = set()
        self._renders: list[threading.Thread] = []
        self._waiting: deque[str] = deque()  # tracks queued for a render, first asked first
        self._workers = 0  # render threads running (at most RENDERS_AT_ONCE)
        self._lock = threading.Lock()
        self._pcm = functools.lru_cache(maxsize=PCM_CACHE_FILES)(self._decode_file)
        self._encoded = functools.lru_cache(maxsize=CHUNK_CACHE)(self._encode_chunk)
        self._layouts: OrderedDict[str, Layout] = OrderedDict()  # least recently used first
        self._manifest_bytes_since_evict = 0
        self._sweep_stale_temp_files()

    # --- registering ---------------------------------------------------------------------

    def register(self, timeline: Sequence[Mapping], end_ms: int) -> str:
        """Write the manifest of a session's track (once per distinct timeline); return its hash."""
        key = layout_maths.track_key(timeline, end_ms)
        digest = layout_maths.track_hash(key)
        path = self._manifest_path(digest)
        # The file is checked too: an evicted manifest may still have its layout in memory.
        if not path.is_file() or self.layout(digest) is None:
            samples = {file: self._samples_of(file) for file, _ in key["cues"]}
            data = json.dumps(layout_maths.manifest(key, samples)).encode("utf-8")
            self._write_atomically(path, data)
            with self._lock:
                self._manifest_bytes_since_evict += len(data)
                due = self._manifest_bytes_since_evict >= EVICT_EVERY_MANIFEST_BYTES
                if due:
                    self._manifest_bytes_since_evict = 0
            if due:
                self._evict(keep=digest)
        else:
            _touch(path)  # a new session of this walk: its manifest is among the last to go
        return digest

    def _samples_of(self, file: str) -> int:
        """How many track samples a cue file decodes to (from its frame headers; files never change)."""
        if file not in self._samples:
            path = self._cue_path(file)
            if path is None:
                raise CueAudioMissing(file)
            self._samples[file] = mp3_duration_ms(path.read_bytes()) * SAMPLES_PER_MS
        return self._samples[file]

    # --- reading ---------------------------------------------------------------------------

    def layout(self, digest: str) -> Layout | None:
        """The layout of a registered track, or None for a hash never registered."""
        with self._lock:
            if digest in self._layouts:
                self._layouts.move_to_end(digest)
                return self._layouts[digest]
        track = self._load_layout(digest)
        if track is not None:  # an unknown track is not remembered: it may be registered next
            with self._lock:
                self._layouts[digest] = track
                while len(self._layouts) > LAYOUT_CACHE:
                    self._layouts.popitem(last=False)
        return track

    def _load_layout(self, digest: str) -> Layout | None:
        """Read a manifest from disk, or None when there is none (or it is damaged)."""
        try:
            return layout_maths.layout_of(json.loads(self._manifest_path(digest).read_bytes()))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as damaged:
            # A damaged manifest (a full disk, a hand edit): not served, never a 500; the next
            # session of the same timeline writes it again.
            log.warning("track manifest %s unreadable: %s", digest, damaged)
            return None

    def complete_path(self, digest: str) -> Path | None:
        """The finished track file, if the background render has written it."""
        path = self.root / (digest + layout_maths.TRACK_SUFFIX)
        return path if path.is_file() else None

    def pieces(self, digest: str, start: int, stop: int) -> Iterator[bytes]:
        """Bytes [start, stop) of a track: from its file when written, else rendered from its chunks."""
        track = self.layout(digest)
        if track is None:
            raise NotFound("There is no such track.")
        _touch(self._manifest_path(digest))  # recently served: the last to be evicted
        opened = self._open_complete(digest, track)
        if opened is not None:
            return _file_pieces(opened, start, stop)
        return layout_maths.range_pieces(track, start, stop, self._chunk_or_silence)

    def _open_complete(self, digest: str, track: Layout) -> BinaryIO | None:
        """The complete file opened, if it is there and whole; a damaged one is deleted to be rendered again."""
        path = self.root / (digest + layout_maths.TRACK_SUFFIX)
        try:
            fp = open(path, "rb")  # noqa: SIM115 - returned open: _file_pieces streams it, then closes it
        except OSError:
            return None  # not written yet, or evicted meanwhile
        size = os.fstat(fp.fileno()).st_size
        if size == track.byte_length:
            _touch(path)  # recently served: the last to be evicted
            return fp
        # Truncated or damaged (a full disk, a copy gone wrong): serve the rendered bytes and let
        # the background render write it again; delete it only if it is still the file we opened.
        log.warning("track file %s is %d bytes, not %d: rendering it again", digest, size, track.byte_length)
        try:
            if os.stat(path).st_ino == os.fstat(fp.fileno()).st_ino:
                path.unlink()
        except OSError:
            pass
        finally:
            fp.close()
        return None

    def _chunk_or_silence(self, chunk: Chunk) -> bytes:
        """A chunk's frames; quiet where a cue file has gone from the cache (never a broken stream)."""
        try:
            return self.chunk_bytes(chunk)
        except CueAudioMissing as missing:
            log.warning("track cue file missing: %s", missing)
            return SILENT_FRAME * chunk.frames

    def chunk_bytes(self, chunk: Chunk) -> bytes:
        """The encoded frames of one chunk (cached by content, wherever in a track it sits)."""
        encoded = self._encoded(chunk.parts, chunk.input_samples)
        # Encoding holds the GIL for milliseconds; under gevent let other walkers' cues go out.
        time.sleep(0)
        return frames_exact(encoded, chunk.frames)

    def _encode_chunk(self, parts: tuple[tuple[str, int, int], ...], input_samples: int) -> bytes:
        """Mix a chunk's cues at their input positions and encode them."""
        pcm = [(fit(self._pcm(file), samples), at) for file, at, samples in parts]
        return encode_under_ceiling(mix_parts(pcm, input_samples))

    def _decode_file(self, file: str) -> array.array:
        """A cue file's decoded audio (cached by the caller's LRU)."""
        path = self._cue_path(file)
        if path is None:
            raise CueAudioMissing(file)
        return decode_cue(path.read_bytes())

    # --- the complete file -------------------------------------------------------------------

    def render_in_background(self, digest: str) -> None:
        """Queue writing the complete track file unless it exists, is queued or is being written."""
        with self._lock:
            if digest in self._rendering or len(self._waiting) >= RENDERS_WAITING_MAX:
                return
            if self.complete_path(digest) is not None:
                return
            self._rendering.add(digest)
            self._waiting.append(digest)
            if self._workers >= RENDERS_AT_ONCE:
                return  # a running worker takes it next
            self._workers += 1
            # Under gevent this is a greenlet that yields between chunks.
            worker = threading.Thread(target=self._render_worker, name=f"track-{digest[:8]}", daemon=True)
            self._renders = [thread for thread in self._renders if thread.is_alive()] + [worker]
        worker.start()

    def _render_worker(self) -> None:
        """Render queued tracks one after another until none is waiting."""
        while True:
            with self._lock:
                if not self._waiting:
                    self._workers -= 1
                    return
                digest = self._waiting.popleft()
            self._render_file(digest)

    def wait_for_renders(self, timeout_s: float | None = None) -> None:
        """Wait until the queued background renders have written their files (tests, benchmarks)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            with self._lock:
                renders = [thread for thread in self._renders if thread.is_alive()]
            if not renders:
                return
            for render in renders:
                render.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if deadline is not None and time.monotonic() >= deadline:
                return

    def render_file(self, digest: str) -> Path:
        """Write the complete track file now (temporary file, then rename) and return its path."""
        track = self.layout(digest)
        if track is None:
            raise NotFound("There is no such track.")
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as fp:
                for piece in layout_maths.range_pieces(track, 0, track.byte_length, self.chunk_bytes):
                    fp.write(piece)
                    time.sleep(0)  # under gevent, let other walkers' cues go out between pieces
            os.chmod(temp, TRACK_FILE_MODE)
            final = self.root / (digest + layout_maths.TRACK_SUFFIX)
            os.replace(temp, final)
        finally:
            temp.unlink(missing_ok=True)
        self._evict(keep=digest)
        return final

    def _evict(self, keep: str) -> None:
        """While files and manifests take more than the bound, delete the least recently served
        complete files, then the least recently used manifests (never those of track `keep`)."""
        kinds = (layout_maths.TRACK_SUFFIX, MANIFEST_SUFFIX)
        found: dict[str, list[tuple[float, int, Path]]] = {kind: [] for kind in kinds}
        for kind in kinds:
            for path in self.root.glob("*" + kind):
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # evicted by another process meanwhile
                found[kind].append((stat.st_mtime, stat.st_size, path))
        total = sum(size for files in found.values() for _, size, _ in files)
        for kind in kinds:  # files first: a manifest is small and keeps its track playable
            for _, size, path in sorted(found[kind]):
                if total <= self.max_file_bytes:
                    return
                digest = path.name[: -len(kind)]
                if digest == keep:
                    continue
                path.unlink(missing_ok=True)  # a response reading it keeps its open file
                total -= size
                if kind == MANIFEST_SUFFIX:
                    with self._lock:
                        self._layouts.pop(digest, None)

    def _sweep_stale_temp_files(self) -> None:
        """Delete temporary files left by a process that died mid-render."""
        sweep_stale_temp_files(self.root)

    def _render_file(self, digest: str) -> None:
        """The background render: never raises (the range path keeps serving meanwhile)."""
        try:
            self.render_file(digest)
        except Exception:  # noqa: BLE001 - a failed background render must not kill the worker
            log.exception("track %s could not be written", digest)
        finally:
            with self._lock:
                self._rendering.discard(digest)

    # --- files -----------------------------------------------------------------------------

    def _manifest_path(self, digest: str) -> Path:
        """Where a track's manifest is kept."""
        return self.root / (digest + MANIFEST_SUFFIX)

    def _write_atomically(self, path: Path, data: bytes) -> None:
        """Write a file so readers see all of it or none of it."""
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fp:
                fp.write(data)
            os.chmod(temp_name, TRACK_FILE_MODE)
            os.replace(temp_name, path)
        finally:
            Path(temp_name).unlink(missing_ok=True)


def _touch(path: Path) -> None:
    """Mark a file as just used (eviction goes by last use); a file gone meanwhile is no matter."""
    try:
        os.utime(path)
    except OSError:
        pass


def _file_pieces(fp: BinaryIO, start: int, stop: int) -> Iterator[bytes]:
    """Bytes [start, stop) of an open file, a piece at a time (the file is closed at the end)."""
    with fp:
        fp.seek(start)
        remaining = stop - start
        while remaining > 0:
            piece = fp.read(min(remaining, layout_maths.PIECE_BYTES))
            if not piece:
                return
            remaining -= len(piece)
            yield piece


# --- HTTP -----------------------------------------------------------------------------------


def track_response(store: TrackStore, name: str, request: Request, max_age_s: int) -> Response:
    """GET/HEAD /audio/tracks/<name>: the track, whole or one byte range, cacheable for a year."""
    digest = layout_maths.hash_of_name(name)
    track = store.layout(digest) if digest else None
    if track is None:
        raise NotFound("There is no such track.")
    length = track.byte_length
    etag = f'"{digest}"'
    if request.if_none_match.contains_weak(digest):
        response = Response(status=304)
    else:
        header = request.headers.get("Range")
        if_range = request.headers.get("If-Range")
        if if_range is not None and if_range.strip() != etag:
            header = None  # the phone's copy is another representation: send the whole track
        part = layout_maths.byte_range(header, length)
        if part.status == 416:
            response = error_response(416, "range_not_satisfiable", f"The track is {length} bytes long.")
            response.headers["Content-Range"] = layout_maths.content_range(part, length)
        else:
            body = store.pieces(digest, part.start, part.stop) if request.method != "HEAD" else iter(())
            response = Response(body, status=part.status, mimetype="audio/mpeg", direct_passthrough=True)
            response.headers["Content-Length"] = str(part.stop - part.start)
            if part.status == 206:
                response.headers["Content-Range"] = layout_maths.content_range(part, length)
            if request.method != "HEAD":
                store.render_in_background(digest)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = etag
    response.cache_control.public = True
    response.cache_control.max_age = max_age_s
    response.cache_control.immutable = True
    return response
