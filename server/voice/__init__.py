"""The coach's voice: text-to-speech engines and the content-addressed audio cache of their MP3s.

- mp3.py: how long an MP3 plays, from its frame headers.
- throttle.py: the throttle and circuit breaker that keep gTTS polite.
- engines.py: gTTS and eSpeak NG (ctypes, LAME), their audio brought to one loudness.
- report.py: a rendition, and what a prerender did per engine.
- cache.py: the cache folder and its SQLite index.

What the rest of the server uses is re-exported here (`from server.voice import AudioCache`).
"""

from .cache import (
    AUDIO_SUFFIX,
    INDEX_FILE,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    AudioCache,
    VoiceUnavailable,
    content_address,
    sweep_stale_temp_files,
)
from .engines import EspeakEngine, GttsEngine, RenderFailed, decode_mp3, encode_mp3
from .mp3 import NotMpegAudio, mp3_duration_ms
from .report import PrerenderReport, Rendition
from .throttle import CircuitBreaker, Throttle

__all__ = [
    "AUDIO_SUFFIX",
    "INDEX_FILE",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "AudioCache",
    "CircuitBreaker",
    "EspeakEngine",
    "GttsEngine",
    "NotMpegAudio",
    "PrerenderReport",
    "RenderFailed",
    "Rendition",
    "Throttle",
    "VoiceUnavailable",
    "content_address",
    "decode_mp3",
    "encode_mp3",
    "mp3_duration_ms",
    "sweep_stale_temp_files",
]
