"""The coach's voice: text-to-speech engines and the content-addressed audio cache.

gTTS (Google's online voice) is the primary engine; eSpeak NG, driven through ctypes from
the ``espeakng-loader`` wheel and compressed to MP3 with LAME, speaks when gTTS cannot.
Every rendition is an immutable MP3 named by the hash of (engine, language, accent, text)
and listed in a SQLite index beside the files.
"""

from __future__ import annotations

import array
import ctypes
import hashlib
import io
import json
import logging
import os
import re
import sqlite3
import stat
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, Protocol

import espeakng_loader
import lameenc
import miniaudio
import numpy as np
import requests
import sqlite_utils
from gtts import gTTS, gTTSError
from gtts.tokenizer import pre_processors

from . import loudness

LANGUAGES = ("en", "es", "de", "fr")
# Phrases come from the server's closed set; anything longer is a bug, not a cue.
MAX_TEXT_CHARS = 200

AUDIO_SUFFIX = ".mp3"
INDEX_FILE = "index.db"
RENDITIONS_TABLE = "renditions"
# Renders are written beside the cache files under these names, then renamed into place;
# path_for never serves them because they are not <sha256>.mp3.
TEMP_PREFIX = ".render-"
TEMP_SUFFIX = ".part"
# A temporary file this old was left by a process that died mid-render.
STALE_TEMP_SECONDS = 3600


def sweep_stale_temp_files(root: Path) -> None:
    """Delete the temporary render files in `root` that a process which died mid-render left."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in root.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
        except FileNotFoundError:
            pass  # another process swept it


# Cache files are public audio a web server or CDN may serve, unlike mkstemp's 0600.
CACHE_FILE_MODE = 0o644
CACHE_NAME = re.compile(r"[0-9a-f]{64}" + re.escape(AUDIO_SUFFIX))
SQLITE_BUSY_TIMEOUT_S = 10.0
# Upper bound of SQLite host parameters we use in one IN (...) lookup.
LOOKUP_CHUNK = 500
# Renders of different phrases run in parallel; the same phrase is rendered once at a time.
RENDER_LOCK_STRIPES = 64

OUTCOMES = ("rendered", "reused", "failed")
_ROW_KEYS = ("text", "lang", "engine", "accent", "file", "bytes", "spoken_ms", "sha256")
# SQLite's primary result codes for a damaged file: the index is then rebuilt, not trusted.
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_SQLITE_PRIMARY_CODE_MASK = 0xFF
# The index and the files SQLite keeps beside it in WAL mode.
_INDEX_SUFFIXES = ("", "-wal", "-shm")

log = logging.getLogger(__name__)


class VoiceUnavailable(Exception):
    """No engine could render a phrase."""


class RenderFailed(Exception):
    """One engine could not render one phrase."""


class NotMpegAudio(ValueError):
    """The bytes hold no MPEG audio frame."""


class _IndexCorrupt(sqlite3.DatabaseError):
    """The index file failed SQLite's own integrity check."""


def _is_corruption(error: BaseException) -> bool:
    """Whether a SQLite error means the index file is damaged (not merely busy or read-only)."""
    if isinstance(error, _IndexCorrupt):
        return True
    if not isinstance(error, sqlite3.DatabaseError) or isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & _SQLITE_PRIMARY_CODE_MASK in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(error)
    return "malformed" in text or "not a database" in text


# --- MPEG audio frame headers ---------------------------------------------------------

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
_MS_PER_S = 1000


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
    return round(seconds * _MS_PER_S)


# --- Engines ---------------------------------------------------------------------------


class Engine(Protocol):
    """A text-to-speech engine the cache can render with."""

    name: str

    def accent(self, lang: str) -> str:
        """The engine's voice for a language, part of the content address."""

    def render(self, text: str, lang: str, fp: BinaryIO) -> int:
        """Write the phrase as MP3 into fp and return its spoken milliseconds (or raise RenderFailed)."""


class Throttle:
    """Spaces calls at least min_interval seconds apart, across threads."""

    def __init__(
        self,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """Start with no call made."""
        self.min_interval = min_interval
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._next_slot = float("-inf")

    def wait(self) -> None:
        """Block until this caller's turn; callers are served in arrival order."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.min_interval
        # Sleep outside the lock so the next caller can book the slot after ours.
        if slot > now:
            self._sleep(slot - now)


class CircuitBreaker:
    """Stops calling a failing service for a back-off period, then lets one trial call through."""

    def __init__(self, backoff: float, clock: Callable[[], float] = time.monotonic):
        """Start closed: calls go through."""
        self.backoff = backoff
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None
        self._trial_running = False
        self.last_error: str | None = None

    def allow(self) -> bool:
        """Whether a call may go out now (at most one trial while the back-off has passed)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._trial_running or self._clock() < self._open_until:
                return False
            self._trial_running = True
            return True

    def succeeded(self) -> None:
        """Close the breaker: the service answers."""
        with self._lock:
            self._open_until, self._trial_running, self.last_error = None, False, None

    def failed(self, reason: str) -> None:
        """Open the breaker for a full back-off period."""
        with self._lock:
            self._open_until = self._clock() + self.backoff
            self._trial_running, self.last_error = False, reason

    @property
    def is_open(self) -> bool:
        """Whether calls are being held back now."""
        with self._lock:
            return self._open_until is not None and self._clock() < self._open_until


GTTS_TIMEOUT_S = 5.0
# Google answers 429 to bursts; a third of a second apart is polite and still quick.
GTTS_MIN_INTERVAL_S = 0.3
# After a failure, a burst of phrases should not each wait on a dead network.
GTTS_BACKOFF_S = 60.0
GTTS_TLDS = {"en": "com", "es": "com", "de": "com", "fr": "com"}
# gTTS's default `abbreviations` pre-processor deletes the full stop after words ending in
# st/dr/mr... ("Rest. Ten seconds." -> "Rest Ten seconds."), losing the pause a walker
# needs; keep the other defaults.
GTTS_PRE_PROCESSORS = [pre_processors.tone_marks, pre_processors.end_of_line, pre_processors.word_sub]


def _gtts_failure_kind(error: Exception) -> str:
    """Whether gTTS could not reach Google, or Google refused or answered without audio."""
    response = getattr(error, "rsp", None)
    if response is None:
        return "unreachable"
    return "no audio in the answer" if response.ok else "refused"


class GttsEngine:
    """Google Translate's voice through gTTS: timed out, throttled, and backing off after a failure."""

    name = "gtts"

    def __init__(
        self,
        timeout: float = GTTS_TIMEOUT_S,
        min_interval: float = GTTS_MIN_INTERVAL_S,
        backoff: float = GTTS_BACKOFF_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """Set the request timeout, the spacing of requests and the back-off after a failure."""
        self.timeout = timeout
        self.throttle = Throttle(min_interval, clock, sleep)
        self.breaker = CircuitBreaker(backoff, clock)

    def accent(self, lang: str) -> str:
        """The Google domain whose accent we ask for, and the loudness its audio is brought to."""
        return f"{GTTS_TLDS[lang]}/{LOUDNESS_TAG}"

    def render(self, text: str, lang: str, fp: BinaryIO) -> int:
        """Fetch the phrase's MP3 into fp, unless the service failed within the back-off period."""
        if not self.breaker.allow():
            raise RenderFailed(self.breaker.last_error or "unreachable: backing off")
        self.throttle.wait()
        try:
            speech = gTTS(
                text,
                tld=GTTS_TLDS[lang],
                lang=lang,
                # Our languages are known; checking would be one more request to fail.
                lang_check=False,
                pre_processor_funcs=GTTS_PRE_PROCESSORS,
                timeout=self.timeout,
            )
            answer = io.BytesIO()
            speech.write_to_fp(answer)
            mp3_duration_ms(answer.getvalue())  # raises NotMpegAudio for an answer without audio
        except (gTTSError, requests.RequestException) as error:
            # gTTS wraps request errors, but one raised while reading the body escapes it.
            reason = f"{_gtts_failure_kind(error)}: {error}"
            self.breaker.failed(reason)
            raise RenderFailed(reason) from error
        except NotMpegAudio as error:
            # An answer without audio (gTTS writes nothing and says nothing).
            reason = f"no audio in the answer: {error}"
            self.breaker.failed(reason)
            raise RenderFailed(reason) from error
        except BaseException as error:
            # Never leave a trial call marked as running.
            self.breaker.failed(f"{type(error).__name__}: {error}")
            raise
        self.breaker.succeeded()
        # Google's phrases differ in loudness like eSpeak's: decode, level and encode again.
        samples, rate = decode_mp3(answer.getvalue())
        fp.write(level_and_encode(samples, rate, MP3_BITRATE_KBPS))
        return len(samples) * _MS_PER_S // rate


ESPEAK_VOICES = {"en": "en-us", "es": "es", "de": "de", "fr": "fr"}
# A touch slower than eSpeak's 175 words a minute, to be understood over a treadmill.
ESPEAK_RATE_WPM = 160
# Mono 32 kbit/s keeps a whole workout's cues well under the 250 KB budget (gTTS's own rate).
MP3_BITRATE_KBPS = 32
LAME_QUALITY = 2  # 0 best/slowest .. 9 worst; 2 is LAME's recommended high quality
MONO = 1
PCM_SAMPLE_BYTES = 2  # eSpeak hands out signed 16-bit samples
# Below this level (about -40 dBFS) a sample is silence for trimming.
SILENCE_LEVEL = 328
SILENCE_BLOCK_MS = 5
# Keep a little silence so the first consonant is not clipped on the phone.
SILENCE_KEEP_MS = 40

_AUDIO_OUTPUT_SYNCHRONOUS = 2
# Return an error instead of calling exit() when the voice data is missing.
_ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
_ESPEAK_BUFFER_MS = 0  # eSpeak's default callback buffer
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE_PARAMETER = 1
_ABSOLUTE = 0
_EE_OK = 0
_CONTINUE_SYNTHESIS = 0
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True)
class Speech:
    """Mono signed 16-bit PCM as an engine produced it."""

    pcm: bytes
    sample_rate: int

    @property
    def spoken_ms(self) -> int:
        """How long the speech plays."""
        return len(self.pcm) // PCM_SAMPLE_BYTES * _MS_PER_S // self.sample_rate


class _EspeakRuntime:
    """The one eSpeak NG instance of this process: global C state behind one lock, started lazily."""

    def __init__(self):
        """Prepare, without loading the library yet."""
        self._lock = threading.Lock()
        self._lib: ctypes.CDLL | None = None
        self._sample_rate = 0
        self._chunks: list[bytes] = []
        # Kept on self: ctypes would free a callback nobody references while C still holds it.
        self._callback = _SYNTH_CALLBACK(self._collect)

    def _collect(self, wav, samples: int, events) -> int:
        """Receive one buffer of PCM from eSpeak."""
        if wav and samples > 0:
            self._chunks.append(ctypes.string_at(wav, samples * PCM_SAMPLE_BYTES))
        return _CONTINUE_SYNTHESIS

    def _start(self) -> ctypes.CDLL:
        """Load and initialise eSpeak NG once."""
        if self._lib is not None:
            return self._lib
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path().encode()
        except (OSError, RuntimeError) as error:
            raise RenderFailed(f"eSpeak NG is not installed: {error}") from error
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _ESPEAK_BUFFER_MS, data_path, _ESPEAK_INITIALIZE_DONT_EXIT
        )
        if sample_rate <= 0:
            raise RenderFailed(f"eSpeak NG did not start (code {sample_rate})")
        lib.espeak_SetSynthCallback(self._callback)
        self._lib, self._sample_rate = lib, sample_rate
        return lib

    def synthesize(self, text: str, voice: str, rate_wpm: int) -> Speech:
        """Speak text with a voice at a rate, returning the raw PCM."""
        with self._lock:
            lib = self._start()
            if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
                raise RenderFailed(f"eSpeak NG has no voice {voice!r}")
            # Set after the voice, which may bring its own rate.
            lib.espeak_SetParameter(_ESPEAK_RATE_PARAMETER, rate_wpm, _ABSOLUTE)
            self._chunks = []
            encoded = text.encode("utf-8") + b"\0"
            status = lib.espeak_Synth(
                encoded, len(encoded), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None
            )
            lib.espeak_Synchronize()
            pcm, self._chunks = b"".join(self._chunks), []
        if status != _EE_OK:
            raise RenderFailed(f"eSpeak NG failed to speak (code {status})")
        return Speech(pcm, self._sample_rate)


_ESPEAK = _EspeakRuntime()


def trim_silence(speech: Speech) -> Speech:
    """The speech without its long leading and trailing silence."""
    samples = array.array("h", speech.pcm)
    block = max(1, speech.sample_rate * SILENCE_BLOCK_MS // _MS_PER_S)
    starts = range(0, len(samples), block)

    def loud(start: int) -> bool:
        """Whether a block holds anything above the silence level."""
        chunk = samples[start : start + block]
        return max(chunk) > SILENCE_LEVEL or min(chunk) < -SILENCE_LEVEL

    first = next((start for start in starts if loud(start)), None)
    if first is None:
        return Speech(b"", speech.sample_rate)
    last = next(start for start in reversed(starts) if loud(start)) + block
    keep = speech.sample_rate * SILENCE_KEEP_MS // _MS_PER_S
    kept = samples[max(0, first - keep) : min(len(samples), last + keep)]
    return Speech(kept.tobytes(), speech.sample_rate)


def encode_mp3(speech: Speech, bitrate_kbps: int = MP3_BITRATE_KBPS) -> bytes:
    """Compress mono PCM to MP3 with LAME."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(speech.sample_rate)
    encoder.set_channels(MONO)
    encoder.set_quality(LAME_QUALITY)
    return bytes(encoder.encode(speech.pcm) + encoder.flush())


# --- Loudness: every cue as loud as the others ---------------------------------------------

# Part of every engine's accent, so audio rendered before levelling (or to another target)
# gets a new address and is never served for a timeline again.
LOUDNESS_TAG = f"{loudness.TARGET_LUFS:g}LUFS"
PCM_FULL_SCALE = 32768
# If the encoded file still peaks over the ceiling, lower it by the excess and this margin.
PEAK_RETRY_MARGIN_DB = 0.2
PEAK_RETRIES = 3
DECODER_MARGIN_DB = 0.3


def decode_mp3(data: bytes) -> tuple[np.ndarray, int]:
    """An MP3 as mono float samples in [-1, 1] and its sample rate (RenderFailed if it does not decode)."""
    try:
        decoded = miniaudio.mp3_read_s16(data)
    except (miniaudio.MiniaudioError, ZeroDivisionError) as error:
        raise RenderFailed(f"the audio does not decode: {error}") from error
    samples = np.frombuffer(decoded.samples, dtype=np.int16) / PCM_FULL_SCALE
    if decoded.nchannels > MONO:
        samples = samples[: samples.size - samples.size % decoded.nchannels].reshape(-1, decoded.nchannels).mean(axis=1)
    if samples.size == 0:
        raise RenderFailed("the audio holds no samples")
    return samples, decoded.sample_rate


def _to_pcm(samples: np.ndarray) -> bytes:
    """Float samples as signed 16-bit PCM."""
    return np.clip(np.round(samples * PCM_FULL_SCALE), -PCM_FULL_SCALE, PCM_FULL_SCALE - 1).astype(np.int16).tobytes()


def level_and_encode(samples: np.ndarray, rate: int, bitrate_kbps: int = MP3_BITRATE_KBPS) -> bytes:
    """A phrase brought to the cues' loudness (loudness.normalise) and encoded as MP3, its decoded peaks under the ceiling."""
    levelled = loudness.normalise(samples, rate)
    for _ in range(PEAK_RETRIES):
        mp3 = encode_mp3(Speech(_to_pcm(levelled), rate), bitrate_kbps)
        decoded, _ = decode_mp3(mp3)
        # Aim under the ceiling by a margin: another decoder (a phone's, sox) rounds differently.
        over = loudness.sample_peak_dbfs(decoded) - (loudness.PEAK_CEILING_DBFS - DECODER_MARGIN_DB)
        if over <= 0:
            break
        levelled = levelled * loudness.db_to_gain(-(over + PEAK_RETRY_MARGIN_DB))
    return mp3


class EspeakEngine:
    """eSpeak NG, offline, through ctypes; its PCM is trimmed and compressed to MP3."""

    name = "espeak"

    def __init__(self, rate_wpm: int = ESPEAK_RATE_WPM, bitrate_kbps: int = MP3_BITRATE_KBPS):
        """Choose the speaking rate and the MP3 bitrate."""
        self.rate_wpm = rate_wpm
        self.bitrate_kbps = bitrate_kbps

    def accent(self, lang: str) -> str:
        """The voice, with the settings that change its audio (so they change the address)."""
        return f"{ESPEAK_VOICES[lang]}@{self.rate_wpm}wpm/{self.bitrate_kbps}kbps/{LOUDNESS_TAG}"

    def speak(self, text: str, lang: str) -> Speech:
        """The phrase as trimmed PCM."""
        speech = trim_silence(_ESPEAK.synthesize(text, ESPEAK_VOICES[lang], self.rate_wpm))
        if not speech.pcm:
            raise RenderFailed(f"eSpeak NG said nothing for {text!r}")
        return speech

    def render(self, text: str, lang: str, fp: BinaryIO) -> int:
        """Write the phrase as MP3 into fp and return how long it plays."""
        speech = self.speak(text, lang)
        samples = np.frombuffer(speech.pcm, dtype=np.int16) / PCM_FULL_SCALE
        fp.write(level_and_encode(samples, speech.sample_rate, self.bitrate_kbps))
        return speech.spoken_ms


# --- The cache -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendition:
    """One phrase rendered by one engine: a file in the cache folder."""

    text: str
    lang: str
    engine: str
    file: str
    bytes: int
    spoken_ms: int


@dataclass
class PrerenderReport:
    """What a prerender did, per engine, in the order the engines are tried."""

    lang: str
    engines: dict[str, dict[str, int]]
    gtts_enabled: bool
    gtts_reachable: bool
    errors: dict[str, str] = field(default_factory=dict)  # engine -> its last failure
    unvoiced: list[str] = field(default_factory=list)  # phrases no engine could render

    def __getitem__(self, engine: str) -> dict[str, int]:
        """The counts of one engine."""
        return self.engines[engine]

    def tally(self, engine: str, outcome: str, error: str | None = None) -> None:
        """Count one phrase's outcome for an engine."""
        self.engines[engine][outcome] += 1
        if error is not None:
            self.errors[engine] = error
        if engine == GttsEngine.name and outcome != "reused":
            self.gtts_reachable = outcome == "rendered"

    def lines(self) -> list[str]:
        """Human lines for the command line."""
        lines = [] if self.gtts_enabled else [f"{GttsEngine.name}: disabled"]
        for engine, counts in self.engines.items():
            line = ", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES)
            if counts["failed"] and engine in self.errors:
                line += f" ({self.errors[engine]})"
            lines.append(f"{engine}: {line}")
        if self.unvoiced:
            lines.append(f"no voice for {len(self.unvoiced)} phrases: " + "; ".join(self.unvoiced))
        return lines


def content_address(engine: str, lang: str, accent: str, text: str) -> str:
    """The cache file name of a rendition: the SHA-256 of what makes its audio."""
    # JSON keeps the parts apart, so no two different keys can hash the same string.
    key = json.dumps([engine, lang, accent, text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest() + AUDIO_SUFFIX


def _phrases(texts: Iterable[str], lang: str) -> list[str]:
    """The distinct phrases asked for, checked."""
    if lang not in LANGUAGES:
        raise ValueError(f"Voice language must be one of {', '.join(LANGUAGES)}.")
    if isinstance(texts, str):
        raise TypeError("texts must be a collection of phrases, not one string")
    phrases = list(dict.fromkeys(texts))
    for text in phrases:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"Not a phrase the coach can say: {text!r}")
    return phrases


def _stripe(text: str, lang: str) -> int:
    """A phrase's render-lock number: the same phrase is rendered once at a time."""
    return int.from_bytes(hashlib.blake2b(f"{lang}\0{text}".encode(), digest_size=4).digest())


def _now() -> str:
    """The current UTC time as ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class AudioCache:
    """Content-addressed MP3 renditions of the coach's phrases, with a SQLite index."""

    def __init__(
        self,
        root: Path | str,
        engines: list | None = None,
        gtts_enabled: bool = True,
        gtts_timeout: float = GTTS_TIMEOUT_S,
        gtts_min_interval: float = GTTS_MIN_INTERVAL_S,
        gtts_backoff: float = GTTS_BACKOFF_S,
    ):
        """Open (creating) the cache folder and its index; engines are tried in the order given."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        if engines is None:
            engines = [EspeakEngine()]
            if gtts_enabled:
                engines.insert(0, GttsEngine(gtts_timeout, gtts_min_interval, gtts_backoff))
        if not engines:
            raise ValueError("An audio cache needs at least one engine.")
        self.engines = list(engines)
        self._index = self.root / INDEX_FILE
        self._render_locks = [threading.Lock() for _ in range(RENDER_LOCK_STRIPES)]
        self._reset_lock = threading.Lock()
        # file -> ((size, mtime, inode), sha256) of a file whose bytes were checked: one hash per change.
        self._checked: dict[str, tuple[tuple[int, int, int], str]] = {}
        # sha256 of files indexed before hashes were recorded, to write into the index.
        self._learned: dict[str, str] = {}
        self._guarded(self._create_index, check=True)
        self._sweep_stale_temp_files()

    def _create_index(self, check: bool = False) -> None:
        """Create the index table if missing (and, at boot, let SQLite check the file)."""
        with self._db() as db:
            if check:
                verdict = db.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    raise _IndexCorrupt(verdict)
            db.enable_wal()
            db[RENDITIONS_TABLE].create(
                {
                    "file": str, "text": str, "lang": str, "engine": str, "accent": str,
                    "bytes": int, "spoken_ms": int, "sha256": str, "created_at": str,
                },
                pk="file",
                if_not_exists=True,
            )
            if "sha256" not in db[RENDITIONS_TABLE].columns_dict:
                db[RENDITIONS_TABLE].add_column("sha256", str)  # an index from before hashes
            db[RENDITIONS_TABLE].create_index(
                ["engine", "lang", "accent", "text"], unique=True, if_not_exists=True
            )

    def _guarded(self, action: Callable, *args, **kwargs):
        """Run an index action; if the index turns out damaged, start it afresh and run it once more."""
        try:
            return action(*args, **kwargs)
        except sqlite3.DatabaseError as error:
            if not _is_corruption(error):
                raise
            self._reset_index(error)
            return action(*args, **kwargs)

    def _reset_index(self, error: BaseException) -> None:
        """Replace a damaged index with an empty one: it is disposable, files are re-indexed as they are rendered."""
        with self._reset_lock:
            try:
                with self._db() as db:
                    healthy = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
                    healthy = healthy and db[RENDITIONS_TABLE].exists()
            except sqlite3.DatabaseError:
                healthy = False
            if healthy:
                return  # another thread already replaced it
            log.warning("Audio cache index %s is damaged (%s); starting an empty index", self._index, error)
            for suffix in _INDEX_SUFFIXES:
                Path(f"{self._index}{suffix}").unlink(missing_ok=True)
            self._checked.clear()
            self._create_index()

    def ensure(self, texts: Iterable[str], lang: str) -> dict[str, Rendition]:
        """A rendition of every phrase, whose file is checked, rendering only those the cache lacks or has damaged."""
        phrases = _phrases(texts, lang)
        return self._guarded(self._ensure, phrases, lang)

    def _ensure(self, phrases: list[str], lang: str) -> dict[str, Rendition]:
        """ensure() on one index connection."""
        renditions: dict[str, Rendition] = {}
        with self._db() as db:
            found = self._lookup(db, phrases, lang)
            for text in phrases:
                existing = self._preferred(found.get(text, {}))
                renditions[text] = existing or self._voice(db, text, lang, upgrade=False)
            self._record_learned_hashes(db)
        return renditions

    def _record_learned_hashes(self, db) -> None:
        """Write the hashes of files indexed before hashes were kept, so later checks compare them."""
        while self._learned:
            file_name, digest = self._learned.popitem()
            db.execute(f"update {RENDITIONS_TABLE} set sha256 = ? where file = ? and sha256 is null", [digest, file_name])

    def prerender(self, texts: Iterable[str], lang: str) -> PrerenderReport:
        """Render every phrase, upgrading offline renditions to gTTS when it answers."""
        phrases = _phrases(texts, lang)
        gtts = next((e for e in self.engines if e.name == GttsEngine.name), None)
        breaker = getattr(gtts, "breaker", None)
        report = PrerenderReport(
            lang=lang,
            engines={engine.name: dict.fromkeys(OUTCOMES, 0) for engine in self.engines},
            gtts_enabled=gtts is not None,
            gtts_reachable=gtts is not None and not (breaker is not None and breaker.is_open),
        )
        with self._db() as db:
            for text in phrases:
                try:
                    self._voice(db, text, lang, upgrade=True, report=report)
                except VoiceUnavailable:
                    report.unvoiced.append(text)
        return report

    def path_for(self, file_name: str) -> Path | None:
        """The path of a sound cache file by its name (a damaged one rendered again first), or None."""
        if not isinstance(file_name, str) or not CACHE_NAME.fullmatch(file_name):
            return None
        try:
            return self._guarded(self._sound_path, file_name)
        except sqlite3.OperationalError as error:
            # The index cannot be read (a full or read-only disk): the file may still be served if it is plainly audio.
            log.warning("Audio cache index unavailable (%s); checking %s by its content", error, file_name)
            return self.root / file_name if self._file_ok(file_name, None, None) else None

    def _sound_path(self, file_name: str) -> Path | None:
        """path_for() on one index connection: an indexed file is checked against its hash and healed."""
        path = self.root / file_name
        with self._db() as db:
            row = db.execute(
                f"select {', '.join(_ROW_KEYS)} from {RENDITIONS_TABLE} where file = ?", [file_name]
            ).fetchone()
            if row is None:
                # Not indexed (the index was replaced): served only while it is plainly MPEG audio.
                return path if self._file_ok(file_name, None, None) else None
            row = dict(zip(_ROW_KEYS, row))
            if self._current(row) is not None:
                self._record_learned_hashes(db)
                return path
            engine = next((e for e in self.engines if e.name == row["engine"]), None)
            if engine is None or engine.accent(row["lang"]) != row["accent"]:
                return None  # a voice no longer configured cannot be rendered again
            try:
                with self._render_locks[_stripe(row["text"], row["lang"]) % RENDER_LOCK_STRIPES]:
                    self._render(db, engine, row["text"], row["lang"])
            except RenderFailed:
                return None
        return path

    # Internals.

    @contextmanager
    def _db(self) -> Iterator[sqlite_utils.Database]:
        """A connection of this call's own (sqlite connections stay on their thread)."""
        # Autocommit, so _store can take the write lock with BEGIN IMMEDIATE itself.
        conn = sqlite3.connect(self._index, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            # In WAL mode NORMAL survives an app crash and skips an fsync per insert.
            conn.execute("PRAGMA synchronous = NORMAL")
            yield sqlite_utils.Database(conn)
        finally:
            conn.close()

    def _file_ok(self, file_name: str, size: int | None, digest: str | None) -> bool:
        """Whether a cache file holds what the index says: its size and hash (or, unhashed, MPEG audio)."""
        path = self.root / file_name
        try:
            info = path.lstat()
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0 or (size is not None and info.st_size != size):
            return False
        key = (info.st_size, info.st_mtime_ns, info.st_ino)
        checked = self._checked.get(file_name)
        if checked is not None and checked[0] == key and (digest is None or checked[1] == digest):
            return True  # these very bytes were checked already
        try:
            data = path.read_bytes()
        except OSError:
            return False
        actual = hashlib.sha256(data).hexdigest()
        if digest is None:
            try:
                mp3_duration_ms(data)
            except NotMpegAudio:
                return False
            if size is not None:
                self._learned[file_name] = actual
        elif actual != digest:
            return False
        self._checked[file_name] = (key, actual)
        return True

    def _current(self, row: dict) -> Rendition | None:
        """The row as a Rendition if it is from a configured engine's voice and its file is intact."""
        engine = next((e for e in self.engines if e.name == row["engine"]), None)
        if engine is None or engine.accent(row["lang"]) != row["accent"]:
            return None
        if not self._file_ok(row["file"], row["bytes"], row.get("sha256")):
            return None
        return Rendition(
            row["text"], row["lang"], row["engine"], row["file"], row["bytes"], row["spoken_ms"]
        )

    def _lookup(self, db, texts: list[str], lang: str) -> dict[str, dict[str, Rendition]]:
        """The usable renditions of these phrases, by text and engine."""
        found: dict[str, dict[str, Rendition]] = {}
        for start in range(0, len(texts), LOOKUP_CHUNK):
            chunk = texts[start : start + LOOKUP_CHUNK]
            where = f"lang = ? and text in ({', '.join('?' * len(chunk))})"
            for row in db[RENDITIONS_TABLE].rows_where(where, [lang, *chunk]):
                rendition = self._current(row)
                if rendition is not None:
                    found.setdefault(rendition.text, {})[rendition.engine] = rendition
        return found

    def _preferred(self, by_engine: dict[str, Rendition]) -> Rendition | None:
        """The rendition of the most preferred engine among those present."""
        return next((by_engine[e.name] for e in self.engines if e.name in by_engine), None)

    def _voice(
        self, db, text: str, lang: str, upgrade: bool, report: PrerenderReport | None = None
    ) -> Rendition:
        """One phrase's best rendition, rendering where needed (upgrade: try better engines first)."""
        with self._render_locks[_stripe(text, lang) % RENDER_LOCK_STRIPES]:
            # Another thread may have rendered it while we waited for the lock.
            existing = self._lookup(db, [text], lang).get(text, {})
            if existing and not upgrade:
                return self._preferred(existing)
            failures = []
            for engine in self.engines:
                if engine.name in existing:
                    if report is not None:
                        report.tally(engine.name, "reused")
                    return existing[engine.name]
                try:
                    rendition = self._render(db, engine, text, lang)
                except RenderFailed as error:
                    failures.append(f"{engine.name}: {error}")
                    if report is not None:
                        report.tally(engine.name, "failed", str(error))
                    continue
                if report is not None:
                    report.tally(engine.name, "rendered")
                # Encoding blocks for milliseconds; under gevent let other walkers' cues go out.
                time.sleep(0)
                return rendition
        raise VoiceUnavailable(f"No engine could say {text!r} in {lang}: " + "; ".join(failures))

    def _render(self, db, engine: Engine, text: str, lang: str) -> Rendition:
        """Render with one engine into a temporary file, then move it into place and index it."""
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "w+b") as fp:
                spoken_ms = engine.render(text, lang, fp)
                fp.flush()
                size = os.fstat(fp.fileno()).st_size
                if size == 0:
                    raise RenderFailed("the engine wrote no audio")
                fp.seek(0)
                digest = hashlib.sha256(fp.read()).hexdigest()
                # The index will point at this file: it must be on disk before the rename.
                os.fsync(fp.fileno())
            os.chmod(temp, CACHE_FILE_MODE)
            accent = engine.accent(lang)
            file_name = content_address(engine.name, lang, accent, text)
            rendition = Rendition(text, lang, engine.name, file_name, size, spoken_ms)
            return self._store(db, rendition, accent, digest, temp)
        finally:
            temp.unlink(missing_ok=True)

    def _store(self, db, rendition: Rendition, accent: str, digest: str, temp: Path) -> Rendition:
        """Move a rendered file into place and index it, unless another process got there first."""
        conn = db.conn
        # The write lock makes check, rename and insert one step across processes.
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                f"select {', '.join(_ROW_KEYS)} from {RENDITIONS_TABLE} where file = ?",
                [rendition.file],
            ).fetchone()
            if row is not None:
                existing = self._current(dict(zip(_ROW_KEYS, row)))
                if existing is not None:
                    conn.execute("COMMIT")
                    return existing  # files are immutable: keep the one already served
            os.replace(temp, self.root / rendition.file)
            row = {**asdict(rendition), "accent": accent, "sha256": digest, "created_at": _now()}
            conn.execute(
                f"insert or replace into {RENDITIONS_TABLE} ({', '.join(row)}) "
                f"values ({', '.join('?' * len(row))})",
                list(row.values()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return rendition

    def _sweep_stale_temp_files(self) -> None:
        """Delete temporary files left by a process that died mid-render."""
        sweep_stale_temp_files(self.root)
