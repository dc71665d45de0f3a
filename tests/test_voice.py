"""The coach's voice: eSpeak really speaks, gTTS is tested at its HTTP boundary, the cache is safe.

Longer than 450 lines: the voice package's parts (MP3 frames, throttle and breaker, engines, cache
and index, loudness) are tested with the engines that really speak, set up once here.
"""

from __future__ import annotations

import array
import base64
import io
import json
import math
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import lameenc
import numpy as np
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from server import loudness
from server import phrases as coach_phrases
from server.cues import CueOptions, needed_phrases
from server.loudness import (
    PEAK_CEILING_DBFS,
    TARGET_LUFS,
    fft_size,
    integrated_loudness,
    k_weighting,
    limit,
    normalise,
    sample_peak_dbfs,
    true_peak_dbfs,
)
from server.phrases import LANGUAGES
from server.programmes import BUILTIN_PLANS
from server.voice import (
    AudioCache,
    CircuitBreaker,
    EspeakEngine,
    GttsEngine,
    NotMpegAudio,
    RenderFailed,
    Throttle,
    VoiceUnavailable,
    decode_mp3,
    mp3_duration_ms,
)

SOX = shutil.which("sox")
FULL_SCALE = 32767
# Speech is far louder than this; digital silence or near-silence is not.
AUDIBLE_RMS = 500
SWITCH = "Switch to reverse."
PHRASES = {
    "en": "Switch to reverse.",
    "es": "Cambia a marcha atrás.",
    "de": "Wechsel auf rückwärts.",
    "fr": "On passe en marche arrière.",
}
GOOGLE_RATE = 24000  # Google's MP3s are 24 kHz mono
SINE_HZ = 440
SINE_SECONDS = 1.5
# LAME adds encoder delay and padding, a frame or two at most.
MP3_SLACK_MS = 120
BACKOFF = 60.0
TIMEOUT = 2.5
# MP3 at 32 kbit/s takes some treble off, which K-weighting counts: levelled cues land this near.
LOUDNESS_TOLERANCE_DB = 1.0
# The levelling bar: every cue of a walk within 3 dB of the others (active-speech level).
CUE_LEVEL_SPREAD_DB = 3.0


# --- Helpers ---------------------------------------------------------------------------


def sine_mp3(seconds: float = SINE_SECONDS, rate: int = GOOGLE_RATE) -> bytes:
    """A real MP3 of a tone, shaped like Google's (mono, 32 kbit/s)."""
    level = FULL_SCALE / 4
    tone = (level * math.sin(2 * math.pi * SINE_HZ * i / rate) for i in range(int(seconds * rate)))
    samples = array.array("h", map(int, tone))
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(32)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(2)
    return bytes(encoder.encode(samples.tobytes()) + encoder.flush())


def rms(pcm: bytes) -> float:
    """Root mean square level of signed 16-bit PCM (numpy: a Python loop over samples cost ~50 s a run)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples)))


def sox_decode(path: Path) -> tuple[bytes, int]:
    """Decode an MP3 with sox to mono 16-bit PCM and its sample rate."""
    info = subprocess.run([SOX, "--i", "-r", str(path)], capture_output=True, text=True, check=True)
    rate = int(info.stdout)
    pcm = subprocess.run(
        [SOX, str(path), "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return pcm, rate


def looks_like_mp3(data: bytes) -> bool:
    """Whether the bytes start like an MP3 file (an ID3 tag or a frame sync)."""
    return data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def batchexecute_body(mp3: bytes) -> bytes:
    """Google Translate's batchexecute answer carrying an MP3, as gTTS 2.5.4 parses it."""
    audio = json.dumps([base64.b64encode(mp3).decode()])
    rpc = [["wrb.fr", "jQ1olc", audio, None, None, None, "generic"]]
    line = json.dumps(rpc, separators=(",", ":"))
    return f")]}}'\n\n{len(line)}\n{line}\n".encode()


def built_response(request, status: int, body: bytes, reason: str) -> requests.Response:
    """A requests Response as an adapter would return it."""
    response = requests.Response()
    response.status_code, response.reason = status, reason
    response.raw = io.BytesIO(body)
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8"})
    response.url, response.request = request.url, request
    return response


class FakeGoogle:
    """Google Translate at requests' transport: records each request and answers as told."""

    def __init__(self, clock=time.monotonic):
        """Answer with a tone MP3 until told otherwise."""
        self.mp3 = sine_mp3()
        self.mode = "ok"
        self.calls: list[dict] = []
        self._clock = clock
        self._lock = threading.Lock()

    def spoken_texts(self) -> list[str]:
        """The texts gTTS asked Google to speak, in order."""
        texts = []
        for call in self.calls:
            form = urllib.parse.parse_qs(call["body"])
            rpc = json.loads(form["f.req"][0])
            texts.append(json.loads(rpc[0][0][1])[0])
        return texts

    def send(self, adapter, request, **kwargs):
        """Stand in for HTTPAdapter.send."""
        with self._lock:
            call = {"at": self._clock(), "timeout": kwargs.get("timeout"), "body": request.body}
            self.calls.append(call)
        if self.mode == "ok":
            return built_response(request, 200, batchexecute_body(self.mp3), "OK")
        if self.mode == "refused":
            raise requests.exceptions.ConnectionError("Connection refused")
        if self.mode == "timeout":
            raise requests.exceptions.ReadTimeout("Read timed out")
        if self.mode == "server_error":
            return built_response(request, 500, b"oops", "Internal Server Error")
        if self.mode == "no_audio":
            return built_response(request, 200, b")]}'\n\n[]\n", "OK")
        raise AssertionError(self.mode)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        """Start at an arbitrary time."""
        self.now = 1000.0

    def __call__(self) -> float:
        """The current time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Sleeping just moves the clock."""
        self.now += seconds


class CountingEspeak(EspeakEngine):
    """eSpeak that counts how many times it really renders."""

    def __init__(self):
        """Start at zero renders."""
        super().__init__()
        self.renders = 0
        self._count_lock = threading.Lock()

    def render(self, text, lang, fp):
        """Count, then render."""
        with self._count_lock:
            self.renders += 1
        return super().render(text, lang, fp)


class BrokenEngine:
    """An engine that writes half a file and then fails."""

    name = "broken"

    def accent(self, lang):
        """Any accent."""
        return "x"

    def render(self, text, lang, fp):
        """Fail mid-write."""
        fp.write(b"\xff\xf3 half")
        raise RenderFailed("broke mid-write")


def leftovers(root: Path) -> list[str]:
    """Files in the cache folder that are neither the index nor an MP3 with content."""
    odd = []
    for path in root.iterdir():
        if path.name.startswith("index.db"):
            continue
        if path.suffix != ".mp3" or path.stat().st_size == 0:
            odd.append(path.name)
    return odd


@pytest.fixture
def google(monkeypatch):
    """A fake Google Translate behind requests, answering with a real MP3."""
    fake = FakeGoogle()

    def send(adapter, request, **kwargs):
        """Every request any requests Session sends goes to the fake."""
        return fake.send(adapter, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return fake


@pytest.fixture
def clock():
    """A hand-moved clock."""
    return FakeClock()


def online_cache(root: Path, clock: FakeClock, espeak=None) -> AudioCache:
    """A cache with gTTS first (on the fake clock, unthrottled) and eSpeak behind it."""
    gtts = GttsEngine(timeout=TIMEOUT, min_interval=0, backoff=BACKOFF, clock=clock, sleep=clock.sleep)
    return AudioCache(root, engines=[gtts, espeak or EspeakEngine()])


# --- eSpeak really speaks --------------------------------------------------------------


def test_espeak_renders_an_audible_mp3(tmp_path):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    rendition = cache.ensure([SWITCH], "en")[SWITCH]

    assert rendition.engine == "espeak"
    data = cache.path_for(rendition.file).read_bytes()
    assert looks_like_mp3(data) and len(data) == rendition.bytes
    assert 500 <= rendition.spoken_ms <= 3000
    assert abs(mp3_duration_ms(data) - rendition.spoken_ms) <= MP3_SLACK_MS
    assert rms(EspeakEngine().speak(SWITCH, "en").pcm) > AUDIBLE_RMS


@pytest.mark.skipif(SOX is None, reason="sox is not installed")
def test_espeak_mp3_decodes_to_speech_of_the_stated_length(tmp_path):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    rendition = cache.ensure([SWITCH], "en")[SWITCH]

    pcm, rate = sox_decode(cache.path_for(rendition.file))
    decoded_ms = len(pcm) // 2 * 1000 // rate
    assert rms(pcm) > AUDIBLE_RMS
    assert abs(decoded_ms - rendition.spoken_ms) <= MP3_SLACK_MS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_is_spoken(tmp_path, lang):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    rendition = cache.ensure([PHRASES[lang]], lang)[PHRASES[lang]]

    assert (rendition.lang, rendition.engine) == (lang, "espeak")
    assert 500 <= rendition.spoken_ms <= 4000
    assert looks_like_mp3(cache.path_for(rendition.file).read_bytes())
    assert rms(EspeakEngine().speak(PHRASES[lang], lang).pcm) > AUDIBLE_RMS


def test_espeak_starts_and_ends_promptly():
    speech = EspeakEngine().speak(SWITCH, "en")
    samples = array.array("h", speech.pcm)
    # The cue must start when it is due: no long silence before or after the words.
    prompt = speech.sample_rate * 60 // 1000
    assert max(map(abs, samples[:prompt])) > 300
    assert max(map(abs, samples[-prompt:])) > 300


def test_offline_audio_of_a_workout_stays_small(tmp_path):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    phrases = [SWITCH, "Switch to forward.", "Three.", "Two.", "One.", "Halfway there.", "Speed 1.5."]
    renditions = cache.ensure(phrases, "en")

    # About 4 KB a second of speech: a 30-minute workout's cues fit in 250 KB.
    for rendition in renditions.values():
        assert rendition.bytes <= rendition.spoken_ms * 6


# --- gTTS at its HTTP boundary ---------------------------------------------------------


def test_gtts_answer_becomes_a_playable_cached_mp3(tmp_path, google, clock):
    cache = online_cache(tmp_path, clock)
    rendition = cache.ensure([SWITCH], "en")[SWITCH]

    assert rendition.engine == "gtts"
    path = cache.path_for(rendition.file)
    # Google's MP3 is levelled like every cue and encoded again, at its own rate and size.
    data = path.read_bytes()
    assert looks_like_mp3(data) and rendition.bytes == len(data)
    assert len(data) <= len(google.mp3) * 1.2
    assert SINE_SECONDS * 1000 <= rendition.spoken_ms <= SINE_SECONDS * 1000 + MP3_SLACK_MS
    samples, rate = decode_mp3(data)
    assert abs(integrated_loudness(samples, rate) - TARGET_LUFS) <= LOUDNESS_TOLERANCE_DB
    assert sample_peak_dbfs(samples) <= PEAK_CEILING_DBFS
    assert google.calls[0]["timeout"] == TIMEOUT
    if SOX:
        pcm, rate = sox_decode(path)
        assert abs(len(pcm) // 2 * 1000 // rate - rendition.spoken_ms) <= MP3_SLACK_MS


def test_gtts_keeps_the_full_stop_between_sentences(tmp_path, google, clock):
    cache = online_cache(tmp_path, clock)
    cache.ensure(["Rest. Ten seconds."], "en")

    assert google.spoken_texts() == ["Rest. Ten seconds."]


@pytest.mark.parametrize("mode", ["refused", "timeout", "server_error", "no_audio"])
def test_gtts_failure_leaves_no_file_and_falls_back_to_espeak(tmp_path, google, clock, mode):
    google.mode = mode
    cache = online_cache(tmp_path, clock)
    rendition = cache.ensure([SWITCH], "en")[SWITCH]

    assert rendition.engine == "espeak"
    assert len(google.calls) == 1
    assert sorted(p.name for p in tmp_path.glob("*.mp3")) == [rendition.file]
    assert leftovers(tmp_path) == []


def test_after_a_failure_gtts_is_left_alone_until_the_backoff_passes(tmp_path, google, clock):
    google.mode = "refused"
    cache = online_cache(tmp_path, clock)
    offline = cache.ensure(["One.", "Two.", "Three.", "Four.", "Five."], "en")
    assert {r.engine for r in offline.values()} == {"espeak"}
    assert len(google.calls) == 1

    google.mode = "ok"
    clock.now += BACKOFF / 2
    assert cache.ensure(["Six."], "en")["Six."].engine == "espeak"
    assert len(google.calls) == 1

    clock.now += BACKOFF
    assert cache.ensure(["Seven."], "en")["Seven."].engine == "gtts"
    assert len(google.calls) == 2


def test_breaker_lets_one_trial_call_through_after_the_backoff(clock):
    breaker = CircuitBreaker(BACKOFF, clock)
    breaker.failed("unreachable")
    assert not breaker.allow()

    clock.now += BACKOFF
    assert breaker.allow()
    assert not breaker.allow()  # the trial is still running
    breaker.succeeded()
    assert breaker.allow() and breaker.allow()


def test_gtts_requests_are_spaced_out(tmp_path, google, clock):
    gtts = GttsEngine(timeout=TIMEOUT, min_interval=0.3, backoff=BACKOFF, clock=clock, sleep=clock.sleep)
    google._clock = clock
    cache = AudioCache(tmp_path, engines=[gtts, EspeakEngine()])
    cache.ensure(["One.", "Two.", "Three."], "en")

    times = [call["at"] for call in google.calls]
    assert len(times) == 3
    assert all(later - earlier >= 0.3 - 1e-9 for earlier, later in zip(times, times[1:]))


def test_gtts_requests_are_spaced_out_across_threads():
    # Four threads asking at the same moment book four slots an interval apart. The clock is
    # frozen and sleeps are recorded, so the check rests on the throttle, not on thread timing.
    interval = 0.05
    waits: list[float] = []
    recorded = threading.Lock()

    def sleep(seconds: float) -> None:
        with recorded:
            waits.append(seconds)

    throttle = Throttle(interval, clock=lambda: 100.0, sleep=sleep)
    threads = [threading.Thread(target=throttle.wait) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The first caller goes at once; the others wait one, two and three intervals.
    assert sorted(waits) == pytest.approx([interval, 2 * interval, 3 * interval])


def test_offline_phrase_is_upgraded_to_gtts_when_the_network_is_back(tmp_path, google, clock):
    google.mode = "refused"
    cache = online_cache(tmp_path, clock)
    offline = cache.ensure([SWITCH], "en")[SWITCH]
    assert offline.engine == "espeak"

    google.mode = "ok"
    clock.now += BACKOFF
    report = cache.prerender([SWITCH], "en")
    assert report.engines["gtts"] == {"rendered": 1, "reused": 0, "failed": 0}
    assert report.engines["espeak"] == {"rendered": 0, "reused": 0, "failed": 0}
    assert report.gtts_reachable

    online = cache.ensure([SWITCH], "en")[SWITCH]
    assert online.engine == "gtts" and online.file != offline.file
    # A phone that already fetched the offline file can still play it.
    assert cache.path_for(offline.file) is not None


def test_prerender_offline_reports_each_engine(tmp_path, google, clock):
    google.mode = "refused"
    phrases = ["One.", "Two.", "Three."]
    report = online_cache(tmp_path, clock).prerender(phrases, "en")

    assert report.lines() == [
        "gtts: 0 rendered, 0 reused, 3 failed (unreachable: Failed to connect. Probable cause: Unknown)",
        "espeak: 3 rendered, 0 reused, 0 failed",
    ]
    assert not report.gtts_reachable
    assert len(google.calls) == 1

    again = online_cache(tmp_path, clock).prerender(phrases, "en")
    assert again.engines["espeak"] == {"rendered": 0, "reused": 3, "failed": 0}


def test_prerender_with_gtts_disabled_says_so(tmp_path):
    report = AudioCache(tmp_path, gtts_enabled=False).prerender(["One.", "Two."], "en")

    assert report.lines() == ["gtts: disabled", "espeak: 2 rendered, 0 reused, 0 failed"]
    assert not report.gtts_reachable


# --- Content addressing and the index --------------------------------------------------


def test_same_phrase_is_rendered_once_and_reused(tmp_path):
    espeak = CountingEspeak()
    cache = AudioCache(tmp_path, engines=[espeak])
    first = cache.ensure([SWITCH, SWITCH], "en")[SWITCH]
    mtime = cache.path_for(first.file).stat().st_mtime_ns

    second = cache.ensure([SWITCH], "en")[SWITCH]
    reopened = AudioCache(tmp_path, engines=[espeak]).ensure([SWITCH], "en")[SWITCH]

    assert first == second == reopened
    assert espeak.renders == 1
    assert cache.path_for(first.file).stat().st_mtime_ns == mtime


def test_each_language_has_its_own_file(tmp_path):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    files = {lang: cache.ensure(["Uno."], lang)["Uno."].file for lang in LANGUAGES}

    assert len(set(files.values())) == len(LANGUAGES)


def test_a_deleted_file_is_rendered_again(tmp_path):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    rendition = cache.ensure([SWITCH], "en")[SWITCH]
    cache.path_for(rendition.file).unlink()

    again = cache.ensure([SWITCH], "en")[SWITCH]
    assert again.file == rendition.file
    assert cache.path_for(again.file) is not None


def test_concurrent_sessions_share_one_rendering_per_phrase(tmp_path):
    espeak = CountingEspeak()
    cache = AudioCache(tmp_path, engines=[espeak])
    phrases = [f"Speed {n} miles per hour." for n in range(1, 11)]
    results, errors = [], []

    def create_session():
        """What a session creation does: make sure its cues have audio."""
        try:
            results.append(cache.ensure(phrases, "en"))
        except Exception as error:  # collected: a thread's assertion would be lost
            errors.append(error)

    threads = [threading.Thread(target=create_session) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and len(results) == 8
    assert all(result == results[0] for result in results)
    assert espeak.renders == len(phrases)
    assert len(list(tmp_path.glob("*.mp3"))) == len(phrases)
    assert leftovers(tmp_path) == []


def test_no_engine_at_all_raises_and_leaves_nothing(tmp_path):
    cache = AudioCache(tmp_path, engines=[BrokenEngine()])
    with pytest.raises(VoiceUnavailable, match="broke mid-write"):
        cache.ensure([SWITCH], "en")

    assert list(tmp_path.glob("*.mp3")) == []
    assert leftovers(tmp_path) == []
    assert cache.prerender([SWITCH], "en").unvoiced == [SWITCH]


@pytest.mark.parametrize(
    "texts, lang",
    [([""], "en"), (["   "], "en"), (["x" * 201], "en"), ([SWITCH], "xx"), ([None], "en")],
)
def test_ensure_refuses_what_is_not_a_phrase(tmp_path, texts, lang):
    with pytest.raises(ValueError):
        AudioCache(tmp_path, gtts_enabled=False).ensure(texts, lang)


def test_ensure_refuses_a_bare_string(tmp_path):
    with pytest.raises(TypeError):
        AudioCache(tmp_path, gtts_enabled=False).ensure(SWITCH, "en")


# --- path_for --------------------------------------------------------------------------


def test_path_for_finds_a_rendered_file(tmp_path):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    rendition = cache.ensure([SWITCH], "en")[SWITCH]

    assert cache.path_for(rendition.file) == tmp_path / rendition.file


HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "index.db",
        "abc.mp3",
        "/etc/passwd",
        HEX.upper() + ".mp3",
        HEX + ".MP3",
        HEX + ".mp3/",
        HEX + ".mp3\n",
        "../" + HEX + ".mp3",
        HEX[:-1] + ".mp3",
        HEX + "0.mp3",
        HEX + ".wav",
        "",
        None,
    ],
)
def test_path_for_refuses_anything_but_a_cache_name(tmp_path, name):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    (tmp_path / (HEX.upper() + ".mp3")).write_bytes(b"x")
    assert cache.path_for(name) is None


def test_path_for_refuses_a_missing_file_a_folder_and_a_link_out(tmp_path):
    outside = tmp_path / "outside.mp3"
    outside.write_bytes(b"secret")
    cache = AudioCache(tmp_path / "cache", gtts_enabled=False)
    (cache.root / ("a" * 64 + ".mp3")).mkdir()
    (cache.root / ("b" * 64 + ".mp3")).symlink_to(outside)

    for name in ("a" * 64 + ".mp3", "b" * 64 + ".mp3", "c" * 64 + ".mp3"):
        assert cache.path_for(name) is None


def test_stale_temporary_files_are_swept(tmp_path):
    stale = tmp_path / ".render-dead.part"
    stale.write_bytes(b"half")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / ".render-busy.part"
    fresh.write_bytes(b"in progress")

    AudioCache(tmp_path, gtts_enabled=False)
    assert not stale.exists() and fresh.exists()


# --- MP3 frame counting ----------------------------------------------------------------


def test_mp3_duration_counts_frames_after_an_id3_tag():
    mp3 = sine_mp3()
    body = b"\x00" * 300
    size = bytes([(len(body) >> shift) & 0x7F for shift in (21, 14, 7, 0)])
    tagged = b"ID3\x04\x00\x00" + size + body + mp3

    assert mp3_duration_ms(tagged) == mp3_duration_ms(mp3)
    assert SINE_SECONDS * 1000 <= mp3_duration_ms(mp3) <= SINE_SECONDS * 1000 + MP3_SLACK_MS


def test_mp3_duration_of_two_parts_adds_up():
    # gTTS concatenates one MP3 a chunk of text.
    first, second = sine_mp3(1.0), sine_mp3(0.5)
    assert abs(mp3_duration_ms(first + second) - mp3_duration_ms(first) - mp3_duration_ms(second)) <= 1


@pytest.mark.parametrize("data", [b"", b"<html>rate limited</html>", b"\xff\xfb", b"ID3\x04\x00\x00\x00\x00\x00\x10"])
def test_mp3_duration_refuses_what_is_not_audio(data):
    with pytest.raises(NotMpegAudio):
        mp3_duration_ms(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_mp3_duration_never_crashes_on_junk(data):
    try:
        assert mp3_duration_ms(data) >= 0
    except NotMpegAudio:
        pass


# --- Every cue equally loud ------------------------------------------------------------


def active_speech_level_db(samples, rate, frame_s=0.02, floor_db=30.0) -> float:
    """A plain active-speech level, independent of the code under test: the mean power of the
    20 ms frames within `floor_db` of the loudest frame (pauses left out), in dBFS."""
    frame = int(frame_s * rate)
    count = len(samples) // frame
    power = (samples[: count * frame].reshape(count, frame) ** 2).mean(axis=1)
    active = power[power >= power.max() * 10 ** (-floor_db / 10)]
    return 10 * math.log10(active.mean())


def test_k_weighting_is_bs1770s_at_48_khz_and_a_full_scale_tone_reads_minus_3_lufs():
    (shelf_b, shelf_a), (pass_b, pass_a) = k_weighting(48000)
    # ITU-R BS.1770-4, Tables 1 and 2.
    assert shelf_b == pytest.approx([1.53512485958697, -2.69169618940638, 1.19839281085285], abs=1e-9)
    assert shelf_a == pytest.approx([1.0, -1.69065929318241, 0.73248077421585], abs=1e-9)
    assert pass_b == pytest.approx([1.0, -2.0, 1.0]) and pass_a == pytest.approx(
        [1.0, -1.99004745483398, 0.99007225036621], abs=1e-9
    )
    for rate in (22050, 24000, 48000):
        tone = np.sin(2 * np.pi * 997 * np.arange(3 * rate) / rate)
        assert integrated_loudness(tone, rate) == pytest.approx(-3.01, abs=0.05)
        assert integrated_loudness(tone * 0.1, rate) == pytest.approx(-23.01, abs=0.05)


def test_k_weighting_with_a_2_3_5_smooth_fft_reads_a_phrase_as_loud_as_with_a_power_of_two():
    def smooth(n: int) -> bool:
        for prime in (2, 3, 5):
            while n % prime == 0:
                n //= prime
        return n == 1

    for length in (1, 2, 7, 97, 1000, 4097, 30011):
        size = fft_size(length)
        # The smallest 2-3-5 smooth length that holds the phrase.
        assert size >= length and smooth(size), (length, size)
        assert not any(smooth(shorter) for shorter in range(length, size)), (length, size)
    rate = 24000
    # A phrase whose filtered length has a large prime factor (the slow FFT the smooth size avoids).
    rng = np.random.default_rng(7)
    phrase = rng.normal(0, 0.1, 30011) * np.sin(np.linspace(0, np.pi, 30011))
    length = len(phrase) + int(loudness.FILTER_TAIL_S * rate)
    power_of_two = 1 << (length - 1).bit_length()
    spectrum = np.fft.rfft(phrase, power_of_two) * loudness._k_response(rate, power_of_two)
    reference = np.fft.irfft(spectrum, power_of_two)[:length]
    assert np.max(np.abs(loudness.k_weighted(phrase, rate) - reference)) < 1e-5


def test_normalising_brings_quiet_and_loud_phrases_to_one_level_without_clipping():
    rate = 22050
    speech = EspeakEngine().speak("Switch to reverse, one minute.", "en")
    samples = np.frombuffer(speech.pcm, dtype=np.int16) / 32768
    for gain in (0.05, 0.5, 1.0):
        levelled = normalise(samples * gain, rate)
        assert integrated_loudness(levelled, rate) == pytest.approx(TARGET_LUFS, abs=0.5)
        assert true_peak_dbfs(levelled) <= PEAK_CEILING_DBFS
    burst = np.concatenate([np.zeros(1000), np.ones(50), np.zeros(1000)])
    assert sample_peak_dbfs(limit(burst, rate)) <= -2.0 + 1e-9
    assert normalise(np.zeros(2000), rate).max() == 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_cue_of_a_walk_is_equally_loud_and_peaks_under_the_ceiling(tmp_path, lang):
    # A real walk's phrases, short countdown numbers and long sentences alike (offline voice).
    segments = BUILTIN_PLANS["first-steps-w1s1"].segments
    texts = needed_phrases(segments, CueOptions(lang=lang, countdown=5, units="kmh" if lang != "en" else "mph"))
    texts += [coach_phrases.confirmation(control, lang) for control in coach_phrases.CONFIRMATIONS]
    cache = AudioCache(tmp_path, gtts_enabled=False)
    levels, peaks = {}, {}
    for text, rendition in cache.ensure(texts, lang).items():
        path = cache.path_for(rendition.file)
        if SOX:
            pcm, rate = sox_decode(path)
            samples = np.frombuffer(pcm, dtype=np.int16) / 32768
        else:
            samples, rate = decode_mp3(path.read_bytes())
        levels[text] = active_speech_level_db(samples, rate)
        peaks[text] = sample_peak_dbfs(samples)
    assert max(levels.values()) - min(levels.values()) <= CUE_LEVEL_SPREAD_DB, levels
    assert max(peaks.values()) <= PEAK_CEILING_DBFS, peaks


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_standard_phrase_is_spoken(lang):
    # Grammar is reviewed by people; here every phrase of the closed set must give speech.
    engine = EspeakEngine()
    for text in coach_phrases.standard_phrases(lang):
        speech = engine.speak(text, lang)
        # "Un." is the shortest word, about 0.2 s; every phrase must be audible speech.
        assert speech.spoken_ms >= 150 and rms(speech.pcm) > AUDIBLE_RMS, text


class UnlevelledEspeak(EspeakEngine):
    """eSpeak as the cache rendered it before levelling: raw MP3, an address without the loudness."""

    def accent(self, lang):
        """The accent string of before."""
        return super().accent(lang).rsplit("/", 1)[0]

    def render(self, text, lang, fp):
        """Encode eSpeak's PCM as it comes, at its own level."""
        from server.voice import encode_mp3

        speech = self.speak(text, lang)
        fp.write(encode_mp3(speech))
        return speech.spoken_ms


def test_phrases_cached_before_levelling_are_rendered_again_not_reused(tmp_path):
    old = AudioCache(tmp_path, engines=[UnlevelledEspeak()]).ensure(["Two."], "en")["Two."]
    new = AudioCache(tmp_path, gtts_enabled=False).ensure(["Two."], "en")["Two."]
    assert new.file != old.file
    samples, rate = decode_mp3((tmp_path / new.file).read_bytes())
    before, _ = decode_mp3((tmp_path / old.file).read_bytes())
    assert sample_peak_dbfs(before) < -6 < sample_peak_dbfs(samples) <= PEAK_CEILING_DBFS
