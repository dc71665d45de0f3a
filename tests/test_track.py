"""The whole walk as one MP3 track (pocket mode): layout, placement by decoding, size, HTTP.

Longer than 450 lines: the track's layout (pure), its encoding and its serving are checked by
decoding the same files, with shared decoders and fixtures.
"""

from __future__ import annotations

import array
import base64
import shutil
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import create_app, loudness
from server import track as t
from server.trackaudio import decode_cue, encode_pcm, encode_under_ceiling, mix_parts
from server.voice import mp3_duration_ms
from track_support import decode_miniaudio, decode_sox, placement_errors_ms

# The placement bounds for cues found in the decoded track.
PLACEMENT_P95_MS = 20
PLACEMENT_MAX_MS = 50
MAX_BYTES_PER_MINUTE = 125 * 1024
# Generous (a loaded 2-core CI machine); bench/bench_track.py measures the real figure.
FIRST_RANGE_BOUND_S = 5
FIRST_RANGE_BYTES = 64 * 1024

# A walk with something of everything: speeds, countdowns, halfway and minutes-left cues.
VARIED_WALK = [
    {"kind": "warmup", "seconds": 40, "speed_mph": 2.0},
    {"kind": "reverse", "seconds": 30, "speed_mph": 1.2},
    {"kind": "forward", "seconds": 25, "speed_mph": 2.8},
    {"kind": "reverse", "seconds": 35, "speed_mph": 1.5},
    {"kind": "rest", "seconds": 15},
    {"kind": "forward", "seconds": 390, "speed_mph": 3.0},
    {"kind": "cooldown", "seconds": 30, "speed_mph": 2.0},
]
FOUR_HOURS_200_SEGMENTS = [
    {"kind": "reverse" if i % 2 else "forward", "seconds": 72, "speed_mph": 1.2 + 0.1 * (i % 9)} for i in range(200)
]


def place(file: str, offset_ms: int, samples: int = 12_000) -> t.Placement:
    """A cue file placed at a plan offset."""
    return t.Placement(file, t.track_sample(offset_ms), samples)


# --- Layout maths (pure) -----------------------------------------------------------------


def test_a_frame_is_48_bytes_of_576_samples_so_byte_and_time_map_exactly():
    assert t.FRAME_BYTES == 48
    assert t.FRAME_SAMPLES * 1000 // t.SAMPLE_RATE == 24  # ms a frame
    # The silent frame is a valid frame of the track's format that plays 24 ms.
    assert mp3_duration_ms(t.SILENT_FRAME * 1000) == 24_000


def test_lame_writes_the_frames_the_layout_plans_for_any_length():
    for samples in (1, 575, 576, 577, 12_345, 24_000):
        encoded = encode_pcm(bytes(2 * samples))
        assert len(encoded) == t.encoded_frames(samples) * t.FRAME_BYTES
        assert encoded[4] == 0, "an encode's first frame must not borrow from a bit reservoir"


def test_a_chunk_the_second_encode_would_lift_past_the_ceiling_is_turned_down_to_it():
    # A loud square wave under full scale: 16 kbit/s MP3 rings past it (a click on the walker's headset).
    wave = np.where(np.arange(t.SAMPLE_RATE) % 48 < 24, 30_000, -30_000).astype("<i2").tobytes()
    ceiling = round(32768 * loudness.db_to_gain(loudness.PEAK_CEILING_DBFS))
    plain = np.abs(np.frombuffer(decode_cue(encode_pcm(wave)), dtype=np.int16)).max()
    kept = encode_under_ceiling(wave)
    assert plain > ceiling, "the case no longer overshoots: make it louder"
    assert np.abs(np.frombuffer(decode_cue(kept), dtype=np.int16)).max() <= ceiling
    # The same frames, so the layout's byte and time maths still hold.
    assert len(kept) == len(encode_pcm(wave))
    # A chunk already under the ceiling is left as it is.
    quiet = (np.frombuffer(wave, dtype="<i2") // 4).astype("<i2").tobytes()
    assert encode_under_ceiling(quiet) == encode_pcm(quiet)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4 * 3600 * 1000), st.integers(1, 5 * 24_000)), max_size=40))
def test_every_cue_decodes_exactly_on_its_offset_and_chunks_never_share_a_frame(cues):
    placements = [place(f"{i}.mp3", offset, samples) for i, (offset, samples) in enumerate(cues)]
    end = t.track_sample(max([offset for offset, _ in cues], default=0))
    track = t.layout(placements, end)
    found = {}
    previous_stop = 0
    for chunk in track.chunks:
        assert chunk.first_frame >= previous_stop
        assert chunk.frames == t.encoded_frames(chunk.input_samples)
        previous_stop = chunk.stop_frame
        for file, at, samples in chunk.parts:
            assert at >= 0 and at + samples <= chunk.input_samples
            # Input sample `at` plays the codec delay later, from the chunk's first frame.
            found[file] = chunk.first_frame * t.FRAME_SAMPLES + t.CODEC_DELAY_SAMPLES + at
    assert found == {p.file: p.start for p in placements}
    assert track.frames >= previous_stop and track.frames * t.FRAME_SAMPLES >= end


def test_the_track_is_the_lead_in_the_plan_and_a_quiet_tail():
    track = t.layout([place("a.mp3", 0)], t.track_sample(60_000))
    frames_of_plan = -(-t.track_sample(60_000) // t.FRAME_SAMPLES)
    assert track.frames == frames_of_plan + -(-t.ms_to_samples(t.TRACK_TAIL_MS) // t.FRAME_SAMPLES)
    assert track.byte_length == track.frames * 48
    # A cue at position 0 starts a lead-in after the track's start, with the codec delay before it.
    (chunk,) = track.chunks
    assert chunk.first_frame * t.FRAME_SAMPLES < t.ms_to_samples(t.TRACK_LEAD_IN_MS) - t.CODEC_DELAY_SAMPLES


def test_cues_close_together_share_one_encode_and_cues_apart_do_not():
    close = t.layout([place("three.mp3", 10_000, 9_600), place("two.mp3", 10_450, 9_600)], 0)
    assert [len(chunk.parts) for chunk in close.chunks] == [2]
    apart = t.layout([place("three.mp3", 10_000, 9_600), place("two.mp3", 11_000, 9_600)], 0)
    assert [len(chunk.parts) for chunk in apart.chunks] == [1, 1]


def test_identical_timelines_share_one_name_and_any_change_makes_another():
    timeline = [{"offset_ms": 0, "audio": "/audio/a.mp3", "text": "Go"}, {"offset_ms": 5000, "audio": "/audio/b.mp3"}]
    same = [dict(cue, seq=9) for cue in timeline]
    assert t.track_url(timeline, 60_000) == t.track_url(same, 60_000)
    assert t.track_url(timeline, 60_000) != t.track_url(timeline, 61_000)
    moved = [timeline[0], {**timeline[1], "offset_ms": 5001}]
    assert t.track_url(timeline, 60_000) != t.track_url(moved, 60_000)
    url = t.track_url(timeline, 60_000)
    assert url.startswith("/audio/tracks/") and t.hash_of_name(url.rsplit("/", 1)[1])
    assert t.track_fields(timeline, 60_000) == {"track": url, "track_lead_in_ms": 500}


@pytest.mark.parametrize(
    "header, expected",
    [
        ("bytes=0-99", (206, 0, 100)),
        ("bytes=100-", (206, 100, 1000)),
        ("bytes=-100", (206, 900, 1000)),
        ("bytes=-5000", (206, 0, 1000)),
        ("bytes=990-5000", (206, 990, 1000)),
        ("bytes=999-999", (206, 999, 1000)),
        ("bytes=1000-", (416, 0, 0)),
        ("bytes=1000-1001", (416, 0, 0)),
        ("bytes=-0", (416, 0, 0)),
        ("bytes=5-3", (200, 0, 1000)),
        ("bytes=0-1,5-9", (200, 0, 1000)),
        ("bytes=-", (200, 0, 1000)),
        ("bytes=a-b", (200, 0, 1000)),
        ("items=0-9", (200, 0, 1000)),
        ("bytes=" + "9" * 19 + "-", (416, 0, 0)),
        ("bytes=" + "9" * 5000 + "-", (200, 0, 1000)),
        ("bytes=0-" + "9" * 5000, (200, 0, 1000)),
        ("bytes=-" + "9" * 5000, (200, 0, 1000)),
        ("", (200, 0, 1000)),
        (None, (200, 0, 1000)),
    ],
)
def test_a_range_header_is_read_as_one_range_or_the_whole_track(header, expected):
    assert tuple(t.byte_range(header, 1000)) == expected


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 30_000), st.integers(0, 30_000))
def test_any_byte_range_is_the_same_bytes_as_the_whole_track(a, b):
    track = t.layout([place("a.mp3", 1000, 30_000), place("b.mp3", 4000, 5_000), place("c.mp3", 4200, 100)], 0)

    def chunk_bytes(chunk):
        # Distinct bytes per frame slot, so a misplaced frame shows.
        return b"".join(bytes([n % 251]) * t.FRAME_BYTES for n in range(chunk.first_frame, chunk.stop_frame))

    whole = b"".join(t.range_pieces(track, 0, track.byte_length, chunk_bytes))
    assert len(whole) == track.byte_length
    start, stop = sorted((min(a, track.byte_length), min(b, track.byte_length)))
    assert b"".join(t.range_pieces(track, start, stop, chunk_bytes)) == whole[start:stop]


def test_cues_that_overlap_are_mixed_and_turned_down_instead_of_clipping():
    loud = array.array("h", [30_000] * 100)
    mixed = array.array("h", mix_parts([(loud, 0), (loud, 50)], 200))
    assert max(mixed) <= 32_767 and min(mixed) >= -32_768
    assert mixed[75] == 32_767 and mixed[25] == round(30_000 * 32_767 / 60_000)
    quiet = array.array("h", [1000] * 10)
    apart = array.array("h", mix_parts([(quiet, 0), (quiet, 20)], 40))
    assert list(apart) == [1000] * 10 + [0] * 10 + [1000] * 10 + [0] * 10


# --- A real track: composed, decoded, served -----------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """An app with the offline voice on its own folders."""
    folder = tmp_path_factory.mktemp("track")
    app = create_app(
        {"DATA_DIR": str(folder / "data"), "AUDIO_CACHE": str(folder / "audio"), "GTTS_ENABLED": False, "TESTING": True}
    )
    yield app
    app.extensions["tracks"].wait_for_renders()
    app.extensions["live"].stop()


@pytest.fixture(scope="module")
def phone(app):
    """A device on the app (its cookie set by the first page)."""
    client = app.test_client()
    client.get("/")
    return client


def new_session(phone, segments, name="Track walk") -> dict:
    """A plan of `segments` and a session of it, as the phone creates them."""
    plan = phone.post("/api/plans", json={"name": name, "segments": segments})
    assert plan.status_code == 201, plan.get_json()
    session = phone.post("/api/sessions", json={"plan_id": plan.get_json()["id"]})
    assert session.status_code == 201, session.get_json()
    return session.get_json()


@pytest.fixture(scope="module")
def walk(phone):
    """A session of the varied walk and its whole track."""
    session = new_session(phone, VARIED_WALK)
    response = phone.get(session["track"])
    assert response.status_code == 200
    return session, response.data


def cue_audio(app):
    """Reads a cue file from the app's audio cache by name."""
    return lambda name: app.extensions["audio_cache"].path_for(name).read_bytes()


def assert_placed(errors: list[float]) -> None:
    """Every cue found within the placement bounds of its offset."""
    magnitudes = sorted(abs(error) for error in errors)
    p95 = magnitudes[int(0.95 * (len(magnitudes) - 1))]
    assert p95 <= PLACEMENT_P95_MS and magnitudes[-1] <= PLACEMENT_MAX_MS, f"errors (ms): {errors}"


def test_session_carries_the_track_and_its_lead_in(phone, walk):
    session, _ = walk
    assert session["track"] == t.track_url(session["timeline"], sum(s["seconds"] for s in VARIED_WALK) * 1000)
    assert session["track_lead_in_ms"] == t.TRACK_LEAD_IN_MS == 500
    shown = phone.get(f"/api/sessions/{session['id']}").get_json()
    assert (shown["track"], shown["track_lead_in_ms"]) == (session["track"], 500)


def test_every_cue_is_heard_at_its_offset_in_the_decoded_track(app, walk):
    session, mp3 = walk
    decoded = decode_miniaudio(mp3)
    errors = placement_errors_ms(decoded, session["timeline"], cue_audio(app))
    assert len(errors) == len(session["timeline"]) > 20
    assert_placed(errors)
    # Levelled cues keep their headroom through the second encode: nothing passes the cues' ceiling.
    assert np.abs(decoded).max() <= 32768 * loudness.db_to_gain(loudness.PEAK_CEILING_DBFS)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox (libmad) not installed; tests/run installs it")
def test_every_cue_is_at_its_offset_for_libmad_too(app, walk, tmp_path):
    session, mp3 = walk
    path = tmp_path / "walk.mp3"
    path.write_bytes(mp3)
    assert_placed(placement_errors_ms(decode_sox(path), session["timeline"], cue_audio(app)))


def test_the_track_plays_the_lead_in_the_walk_and_its_tail_and_is_small(walk):
    session, mp3 = walk
    walk_ms = sum(s["seconds"] for s in VARIED_WALK) * 1000
    played_ms = mp3_duration_ms(mp3)
    assert walk_ms + t.TRACK_LEAD_IN_MS <= played_ms <= walk_ms + t.TRACK_LEAD_IN_MS + 5_000
    assert len(mp3) / (walk_ms / 60_000) <= MAX_BYTES_PER_MINUTE
    # The lead-in is quiet (decoded), so a headset wakes before the first word.
    decoded = decode_miniaudio(mp3)
    assert np.abs(decoded[: t.ms_to_samples(t.TRACK_LEAD_IN_MS) - t.CODEC_DELAY_SAMPLES]).max() == 0


def test_a_range_is_206_with_content_range_and_the_same_bytes(phone, walk):
    session, mp3 = walk
    response = phone.get(session["track"], headers={"Range": "bytes=1000-65535"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 1000-65535/{len(mp3)}"
    assert response.headers["Content-Length"] == str(65536 - 1000)
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert response.data == mp3[1000:65536]
    assert phone.get(session["track"], headers={"Range": "bytes=-100"}).data == mp3[-100:]
    assert phone.get(session["track"], headers={"Range": f"bytes={len(mp3) - 10}-"}).data == mp3[-10:]


def test_whole_track_headers_say_ranges_immutable_and_the_etag(phone, walk):
    session, mp3 = walk
    response = phone.get(session["track"])
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Length"] == str(len(mp3))
    etag = response.headers["ETag"]
    assert etag == f'"{session["track"].rsplit("/", 1)[1][:-4]}"'
    cache = response.headers["Cache-Control"]
    assert "immutable" in cache and "max-age=31536000" in cache and "public" in cache
    again = phone.get(session["track"], headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # A stale If-Range sends the whole track instead of a piece of another version.
    stale = phone.get(session["track"], headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and len(stale.data) == len(mp3)


def test_head_gives_the_headers_without_the_body(phone, walk):
    session, mp3 = walk
    response = phone.head(session["track"], headers={"Range": "bytes=0-99"})
    assert response.status_code == 206 and response.data == b""
    assert response.headers["Content-Length"] == "100"
    whole = phone.head(session["track"])
    assert whole.status_code == 200 and whole.headers["Content-Length"] == str(len(mp3))


def test_a_range_past_the_end_is_416_and_odd_ranges_never_fail(phone, walk):
    session, mp3 = walk
    response = phone.get(session["track"], headers={"Range": f"bytes={len(mp3)}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(mp3)}"
    assert response.get_json()["error"] == "range_not_satisfiable"
    for odd in (
        "bytes=",
        "bytes=-",
        "bytes=x-1",
        "bytes=5-1",
        "bytes=0-1,3-4",
        "pages=1-2",
        "bytes=99999999999999999999-",
        "bytes=-99999999999999999999",
        "bytes=0-99999999999999999999",
        "\u00e9",
        "bytes = 2 - 3",
        "bytes=" + "9" * 5000 + "-",
        "bytes=-" + "9" * 5000,
    ):
        assert phone.get(session["track"], headers={"Range": odd}).status_code in (200, 206, 416), odd


def test_an_unknown_or_invalid_track_is_404_in_the_error_shape(phone):
    for name in ("0" * 64 + ".mp3", "nope.mp3", "A" * 64 + ".mp3", "0" * 64 + ".json", "..%2Findex.db"):
        response = phone.get(f"/audio/tracks/{name}")
        assert response.status_code == 404, name
        assert set(response.get_json()) >= {"error", "message"}


def test_the_complete_file_is_written_and_served_the_same(app, phone, walk):
    session, mp3 = walk
    store = app.extensions["tracks"]
    store.wait_for_renders()
    digest = session["track"].rsplit("/", 1)[1][:-4]
    assert store.complete_path(digest).read_bytes() == mp3
    assert phone.get(session["track"], headers={"Range": "bytes=500-1499"}).data == mp3[500:1500]


def test_identical_timelines_share_one_track_and_it_survives_a_restart(app, phone, walk, tmp_path):
    session, mp3 = walk
    another_device = app.test_client()
    another_device.get("/")
    again = new_session(another_device, VARIED_WALK, name="Same walk, other phone")
    assert again["track"] == session["track"]
    other = new_session(phone, VARIED_WALK[:-1])
    assert other["track"] != session["track"]
    # A new process on the same folders serves the track from its stored manifest.
    restarted = create_app(
        {**{k: app.config[k] for k in ("DATA_DIR", "AUDIO_CACHE")}, "GTTS_ENABLED": False, "TESTING": True}
    )
    try:
        restarted.extensions["tracks"].complete_path(session["track"].rsplit("/", 1)[1][:-4]).unlink()
        assert restarted.test_client().get(session["track"]).data == mp3
        restarted.extensions["tracks"].wait_for_renders()
    finally:
        restarted.extensions["live"].stop()


def test_a_four_hour_walk_starts_playing_at_once(phone):
    started = time.monotonic()
    session = new_session(phone, FOUR_HOURS_200_SEGMENTS, name="Four hours")
    first = phone.get(session["track"], headers={"Range": f"bytes=0-{FIRST_RANGE_BYTES - 1}"})
    took = time.monotonic() - started
    assert first.status_code == 206 and len(first.data) == FIRST_RANGE_BYTES
    assert took < FIRST_RANGE_BOUND_S, f"{took:.2f} s from POST /api/sessions to the first 64 KB"
    length = int(first.headers["Content-Range"].rsplit("/", 1)[1])
    assert length / (4 * 60) <= MAX_BYTES_PER_MINUTE


def test_a_cue_file_decodes_to_24_khz_mono(app, walk):
    session, _ = walk
    name = t.cue_file(session["timeline"][0])
    pcm = decode_cue(cue_audio(app)(name))
    assert abs(len(pcm) / t.SAMPLES_PER_MS - mp3_duration_ms(cue_audio(app)(name))) <= 1


def test_the_websocket_hello_carries_the_track(server, device):
    from test_ws import Listener, cookie_of, create_session

    session = create_session(device, server.url)
    listener = Listener(server.ws_url + session["ws"], cookie=cookie_of(device))
    try:
        hello, _ = listener.next(lambda m: m["type"] == "hello")
    finally:
        listener.ws.close()
    assert hello["track"] == session["track"] and hello["track_lead_in_ms"] == 500
    assert hello["session"]["track"] == session["track"]
    assert device.get(server.url + session["track"], headers={"Range": "bytes=0-47"}, timeout=30).status_code == 206


@pytest.mark.browser
def test_chromium_plays_the_track_with_exact_duration_and_every_cue_in_place(playwright_chromium, server, device):
    from test_ws import create_session

    session = create_session(device, server.url, segments=VARIED_WALK[:4])
    mp3 = device.get(server.url + session["track"], timeout=60).content
    _, browser = playwright_chromium
    page = browser.new_page()
    try:
        page.goto(server.url + "/healthz")
        # The media element's duration (from size and bitrate: exact at a constant rate), and
        # the samples Chromium's own MP3 decoder makes of the track (16-bit, base64: compact).
        found = page.evaluate(
            """async (url) => {
            const element = new Audio(url);
            element.preload = "metadata";
            await new Promise((ready) => element.addEventListener("loadedmetadata", ready, { once: true }));
            const encoded = await (await fetch(url)).arrayBuffer();
            const decoded = await new OfflineAudioContext(1, 1, 24000).decodeAudioData(encoded);
            const floats = decoded.getChannelData(0);
            const pcm = new Int16Array(floats.length);
            for (let i = 0; i < floats.length; i++) {
                pcm[i] = Math.max(-32768, Math.min(32767, Math.round(floats[i] * 32768)));
            }
            const bytes = new Uint8Array(pcm.buffer);
            let text = "";
            for (let i = 0; i < bytes.length; i += 0x8000) {
                text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            }
            return { duration: element.duration, pcm: btoa(text) };
        }""",
            session["track"],
        )
    finally:
        page.close()
    assert found["duration"] == pytest.approx(mp3_duration_ms(mp3) / 1000, abs=0.001)
    decoded = np.frombuffer(base64.b64decode(found["pcm"]), dtype="<i2").astype(np.float64)
    cue_audio = lambda name: (server.audio_cache / name).read_bytes()  # noqa: E731
    assert_placed(placement_errors_ms(decoded, session["timeline"], cue_audio))


def test_past_the_disk_bound_the_least_recently_served_file_goes_and_its_track_still_plays(app, walk, tmp_path):
    from server.trackstore import TrackStore

    session, mp3 = walk
    end_ms = sum(s["seconds"] for s in VARIED_WALK) * 1000
    store = TrackStore(tmp_path, app.extensions["audio_cache"].path_for)
    first = store.register(session["timeline"], end_ms)
    second = store.register(session["timeline"][:-1], end_ms)
    # Room for one track file and both manifests (they count towards the bound too).
    store.max_file_bytes = len(mp3) + sum(path.stat().st_size for path in store.root.glob("*.json"))
    store.render_file(first)
    store.render_file(second)
    assert store.complete_path(first) is None and store.complete_path(second) is not None
    assert b"".join(store.pieces(first, 0, len(mp3))) == mp3


def test_a_damaged_manifest_is_404_not_a_failure(app, phone):
    session = new_session(phone, VARIED_WALK[:2], name="Damaged")
    digest = session["track"].rsplit("/", 1)[1][:-4]
    (app.extensions["tracks"].root / f"{digest}.json").write_text('{"cues": [')
    restarted = create_app(
        {**{k: app.config[k] for k in ("DATA_DIR", "AUDIO_CACHE")}, "GTTS_ENABLED": False, "TESTING": True}
    )
    try:
        response = restarted.test_client().get(session["track"])
        assert response.status_code == 404 and response.get_json()["error"]
        # The next session of the same walk writes it again.
        again = restarted.test_client()
        again.get("/")
        assert new_session(again, VARIED_WALK[:2], name="Damaged again")["track"] == session["track"]
        assert again.get(session["track"], headers={"Range": "bytes=0-47"}).status_code == 206
    finally:
        restarted.extensions["live"].stop()


def test_a_truncated_track_file_is_not_served_but_rendered_again(app, phone, walk):
    session, mp3 = walk
    store = app.extensions["tracks"]
    store.wait_for_renders()
    digest = session["track"].rsplit("/", 1)[1][:-4]
    path = store.complete_path(digest)
    path.write_bytes(mp3[: len(mp3) // 2])  # a full disk or a copy gone wrong
    whole = phone.get(session["track"])
    assert whole.status_code == 200 and whole.data == mp3
    assert phone.get(session["track"], headers={"Range": f"bytes={len(mp3) - 100}-"}).data == mp3[-100:]
    store.wait_for_renders()
    assert store.complete_path(digest).read_bytes() == mp3


def test_background_renders_run_one_at_a_time_and_a_track_is_rendered_once(app, walk, tmp_path):
    import threading

    from server.trackstore import RENDERS_AT_ONCE, TrackStore

    session, _ = walk
    end_ms = sum(s["seconds"] for s in VARIED_WALK) * 1000
    store = TrackStore(tmp_path, app.extensions["audio_cache"].path_for)
    first = store.register(session["timeline"], end_ms)
    second = store.register(session["timeline"][:-1], end_ms)
    rendered, running, most = [], [0], [0]
    entered, release = threading.Event(), threading.Event()
    lock = threading.Lock()

    def counting_render(digest):
        """Stands in for a render: counts how many run at once, the first held until released."""
        with lock:
            rendered.append(digest)
            running[0] += 1
            most[0] = max(most[0], running[0])
        entered.set()
        assert release.wait(60)
        with lock:
            running[0] -= 1

    store.render_file = counting_render
    store.render_in_background(first)
    assert entered.wait(60)
    store.render_in_background(second)  # two walkers' new tracks asked for at once
    store.render_in_background(first)  # and the first again while it renders
    with store._lock:
        assert sum(thread.is_alive() for thread in store._renders) == RENDERS_AT_ONCE == 1
    release.set()
    store.wait_for_renders(60)
    assert rendered == [first, second] and most[0] == 1


def test_past_the_disk_bound_the_least_used_manifest_goes_too_and_a_new_session_writes_it_again(app, walk, tmp_path):
    import os

    import flask

    from server.refusals import NotFound
    from server.trackstore import TrackStore, track_response

    session, mp3 = walk
    end_ms = sum(s["seconds"] for s in VARIED_WALK) * 1000
    store = TrackStore(tmp_path, app.extensions["audio_cache"].path_for)
    old = store.register(session["timeline"], end_ms)
    new = store.register(session["timeline"][:-1], end_ms)
    old_manifest, new_manifest = store.root / f"{old}.json", store.root / f"{new}.json"
    os.utime(old_manifest, (1, 1))  # walked long ago
    # Room for the new walk's file and manifest only: the old walk's manifest is past the bound.
    new_length = store.layout(new).byte_length
    store.max_file_bytes = new_length + new_manifest.stat().st_size
    store.render_file(new)
    assert not old_manifest.exists() and new_manifest.exists() and store.complete_path(new) is not None
    # Its track is now unknown, in this process and after a restart: 404, not a failure.
    for process in (store, TrackStore(tmp_path, app.extensions["audio_cache"].path_for)):
        with app.test_request_context(f"/audio/tracks/{old}.mp3"), pytest.raises(NotFound):
            track_response(process, f"{old}.mp3", flask.request, 60)
    # The next session of the old walk writes its manifest again, and the track plays.
    assert store.register(session["timeline"], end_ms) == old and old_manifest.is_file()
    assert b"".join(store.pieces(old, 0, len(mp3))) == mp3
