"""The voices that render a phrase to MP3: gTTS (Google's online voice) and eSpeak NG (offline, through ctypes).

gTTS is throttled and backs off after a failure; eSpeak NG's PCM is trimmed and compressed
with LAME. Both engines' audio is brought to the same loudness (server/loudness.py) before it
is encoded, so every cue of a walk is as loud as the others.
"""

from __future__ import annotations

import array
import ctypes
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import espeakng_loader
import lameenc
import miniaudio
import numpy as np
import requests
from gtts import gTTS, gTTSError
from gtts.tokenizer import pre_processors

from .. import loudness
from ..clock import MS_PER_S
from .mp3 import NotMpegAudio, mp3_duration_ms
from .throttle import CircuitBreaker, Throttle


class RenderFailed(Exception):
    """One engine could not render one phrase."""


class Engine(Protocol):
    """A text-to-speech engine the cache can render with."""

    name: str

    def accent(self, lang: str) -> str:
        """The engine's voice for a language, part of the content address."""

    def render(self, text: str, lang: str, fp: BinaryIO) -> int:
        """Write the phrase as MP3 into fp and return its spoken milliseconds (or raise RenderFailed)."""


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
        return len(samples) * MS_PER_S // rate


ESPEAK_VOICES = {"en": "en-us", "es": "es", "de": "de", "fr": "fr"}
# A touch slower than eSpeak's 175 words a minute, to be understood over a treadmill.
ESPEAK_RATE_WPM = 160
# Mono 32 kbit/s keeps a whole walk's cues well under the 250 KB budget (gTTS's own rate).
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
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class Speech:
    """Mono signed 16-bit PCM as an engine produced it."""

    pcm: bytes
    sample_rate: int

    @property
    def spoken_ms(self) -> int:
        """How long the speech plays."""
        return len(self.pcm) // PCM_SAMPLE_BYTES * MS_PER_S // self.sample_rate


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
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
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
            status = lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            pcm, self._chunks = b"".join(self._chunks), []
        if status != _EE_OK:
            raise RenderFailed(f"eSpeak NG failed to speak (code {status})")
        return Speech(pcm, self._sample_rate)


_ESPEAK = _EspeakRuntime()


def trim_silence(speech: Speech) -> Speech:
    """The speech without its long leading and trailing silence."""
    samples = array.array("h", speech.pcm)
    block = max(1, speech.sample_rate * SILENCE_BLOCK_MS // MS_PER_S)
    starts = range(0, len(samples), block)

    def loud(start: int) -> bool:
        """Whether a block holds anything above the silence level."""
        chunk = samples[start : start + block]
        return max(chunk) > SILENCE_LEVEL or min(chunk) < -SILENCE_LEVEL

    first = next((start for start in starts if loud(start)), None)
    if first is None:
        return Speech(b"", speech.sample_rate)
    last = next(start for start in reversed(starts) if loud(start)) + block
    keep = speech.sample_rate * SILENCE_KEEP_MS // MS_PER_S
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


# Loudness: every cue as loud as the others.

# Part of every engine's accent, so audio rendered before levelling (or to another target)
# gets a new address and is never served for a timeline again.
LOUDNESS_TAG = f"{loudness.TARGET_LUFS:g}LUFS"
# Encodes of a phrase at most, each lower than the last while its decode peaks over the ceiling.
PHRASE_ENCODES = 3
# Aim under the ceiling by a margin: another decoder (a phone's, sox) rounds differently.
DECODER_MARGIN_DB = 0.3


def decode_mp3(data: bytes) -> tuple[np.ndarray, int]:
    """An MP3 as mono float samples in [-1, 1] and its sample rate (RenderFailed if it does not decode)."""
    try:
        decoded = miniaudio.mp3_read_s16(data)
    except (miniaudio.MiniaudioError, ZeroDivisionError) as error:
        raise RenderFailed(f"the audio does not decode: {error}") from error
    samples = loudness.from_pcm16(decoded.samples)
    if decoded.nchannels > MONO:
        samples = samples[: samples.size - samples.size % decoded.nchannels].reshape(-1, decoded.nchannels).mean(axis=1)
    if samples.size == 0:
        raise RenderFailed("the audio holds no samples")
    return samples, decoded.sample_rate


def level_and_encode(samples: np.ndarray, rate: int, bitrate_kbps: int = MP3_BITRATE_KBPS) -> bytes:
    """A phrase at the cues' loudness (loudness.normalise), encoded as MP3 with its decoded peaks under the ceiling."""
    return loudness.encoded_under_ceiling(
        loudness.normalise(samples, rate),
        lambda levelled: encode_mp3(Speech(loudness.pcm16(levelled), rate), bitrate_kbps),
        lambda mp3: decode_mp3(mp3)[0],
        loudness.PEAK_CEILING_DBFS - DECODER_MARGIN_DB,
        PHRASE_ENCODES,
    )


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
        samples = loudness.from_pcm16(speech.pcm)
        fp.write(level_and_encode(samples, speech.sample_rate, self.bitrate_kbps))
        return speech.spoken_ms
