"""Benchmark the walk's track (pocket mode) on a real `retrowalk serve`: placement, size, time to the first byte.

    python bench/bench_track.py

Figures and targets:
- cue placement error in the track: every cue found in the decoded track (dr_mp3, and libmad
  through sox when installed) by cross-correlation against its own decoded cue file, minus
  its offset: target p95 at most 20 ms and max at most 50 ms (the placement targets);
- bytes per minute of walk: target at most 125 KB;
- server time from POST /api/sessions to the first byte of the track (a 64 KB range, as a
  media element's first request), for a 30-minute and a 4-hour 200-segment plan, with an
  empty audio cache (every phrase spoken first) and again for a new timeline of phrases
  already cached: target at most 1 s for the cached case (the walker taps Start after the
  session exists, and the first word must be heard within 1 s).
- also printed: how long the background render takes to write the complete 4-hour file
  (meanwhile every range is rendered on demand).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import RunningServer  # noqa: E402
from server.track import TRACK_LEAD_IN_MS  # noqa: E402
from track_support import decode_miniaudio, decode_sox, placement_errors_ms  # noqa: E402

P95_TARGET_MS = 20
MAX_TARGET_MS = 50
BYTES_PER_MINUTE_TARGET = 125 * 1024
FIRST_BYTE_TARGET_S = 1.0
FIRST_RANGE_BYTES = 64 * 1024
BOUT_SECONDS = 30
FOUR_HOUR_SEGMENTS = 200
RENDER_WAIT_S = 300
HTTP_TIMEOUT_S = 120


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def thirty_minutes(extra_seconds: int = 0) -> list[dict]:
    """Alternating 30-second forward and backward bouts with speeds, 30 minutes long."""
    segments = []
    for index in range(30 * 60 // BOUT_SECONDS):
        backward = index % 2 == 1
        segments.append(
            {
                "kind": "reverse" if backward else "forward",
                "seconds": BOUT_SECONDS,
                "speed_mph": 1.5 if backward else 2.5 + 0.5 * (index % 4 == 0),
            }
        )
    segments[0]["seconds"] += extra_seconds
    return segments


def four_hours(extra_seconds: int = 0) -> list[dict]:
    """200 segments of 72 s (the most a plan may have), 4 hours long, speeds varying."""
    seconds = 4 * 3600 // FOUR_HOUR_SEGMENTS
    segments = [
        {"kind": "reverse" if i % 2 else "forward", "seconds": seconds, "speed_mph": round(1.2 + 0.1 * (i % 9), 1)}
        for i in range(FOUR_HOUR_SEGMENTS)
    ]
    segments[-1]["seconds"] -= extra_seconds  # the plan may not pass 4 hours
    return segments


def first_byte(device: requests.Session, url: str, segments: list[dict], name: str) -> tuple[dict, float, float, float]:
    """Create a plan and a session of it; the session, seconds to 201 and to the track's first byte, and that moment."""
    plan = device.post(url + "/api/plans", json={"name": name, "segments": segments}, timeout=HTTP_TIMEOUT_S)
    plan.raise_for_status()
    started = time.perf_counter()
    response = device.post(url + "/api/sessions", json={"plan_id": plan.json()["id"]}, timeout=HTTP_TIMEOUT_S)
    response.raise_for_status()
    created = time.perf_counter() - started
    session = response.json()
    with device.get(
        url + session["track"],
        headers={"Range": f"bytes=0-{FIRST_RANGE_BYTES - 1}"},
        stream=True,
        timeout=HTTP_TIMEOUT_S,
    ) as track:
        assert track.status_code == 206, track.status_code
        next(track.iter_content(1))
        at = time.perf_counter()
    return session, created, at - started, at


def whole_track(device: requests.Session, url: str, session: dict) -> bytes:
    """The complete track as a phone would download it."""
    response = device.get(url + session["track"], timeout=HTTP_TIMEOUT_S)
    response.raise_for_status()
    return response.content


def wait_for_file(audio: Path, session: dict) -> float:
    """The moment (perf_counter) the background render's track file is there, inf if it never comes."""
    path = audio / "tracks" / session["track"].rsplit("/", 1)[1]
    started = time.perf_counter()
    while not path.is_file():
        if time.perf_counter() - started > RENDER_WAIT_S:
            return float("inf")
        time.sleep(0.05)
    return time.perf_counter()


def placement_and_size(device: requests.Session, url: str, session: dict, audio: Path, scratch: Path) -> list[tuple]:
    """Result rows for a session's track: cue placement by decoder, and bytes per minute of walk."""
    mp3 = whole_track(device, url, session)
    cue_audio = lambda name: (audio / name).read_bytes()  # noqa: E731
    errors = {"dr_mp3": placement_errors_ms(decode_miniaudio(mp3), session["timeline"], cue_audio)}
    try:
        track_file = scratch / "walk.mp3"
        track_file.write_bytes(mp3)
        errors["libmad (sox)"] = placement_errors_ms(decode_sox(track_file), session["timeline"], cue_audio)
    except (OSError, subprocess.CalledProcessError):
        pass  # sox or its MP3 format missing: dr_mp3 alone
    rows = []
    for decoder, found in errors.items():
        magnitudes = [abs(e) for e in found]
        p50, p95, p99, worst = (percentile(magnitudes, s) for s in (0.5, 0.95, 0.99, 1.0))
        rows.append(
            (
                f"track cue placement, {len(found)} cues, {decoder}",
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms",
                p95 <= P95_TARGET_MS and worst <= MAX_TARGET_MS,
                "p95 <= 20 ms, max <= 50 ms",
            )
        )
    minutes = sum(s["seconds"] for s in session["plan"]["segments"]) / 60
    per_minute = len(mp3) / minutes
    rows.append(
        (
            "track bytes per minute of walk",
            f"{per_minute / 1024:.1f} KB ({len(mp3) / 1024:.0f} KB for {minutes:.0f} min)",
            per_minute <= BYTES_PER_MINUTE_TARGET,
            "<= 125 KB",
        )
    )
    return rows


def half_hour_track_rows(url: str, audio: Path, scratch: Path) -> list[tuple]:
    """Placement and size rows for a new 30-minute walk's track on a running server (bench_browser uses this)."""
    device = requests.Session()
    device.get(url + "/", timeout=HTTP_TIMEOUT_S)
    session, *_ = first_byte(device, url, thirty_minutes(), "Track figures")
    return placement_and_size(device, url, session, audio, scratch)


def main() -> int:
    """Run the measurements against a real server and print the figures."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "data").mkdir()
        audio = folder / "audio"
        server = RunningServer(folder / "data", audio).start()
        try:
            device = server.client()
            timings = {}
            for label, plan in (("30-minute", thirty_minutes), ("4-hour", four_hours)):
                cold_session, cold_created, cold_first, cold_at = first_byte(
                    device, server.url, plan(), f"{label} walk"
                )
                warm_session, warm_created, warm_first, warm_at = first_byte(
                    device, server.url, plan(1), f"{label} walk, again"
                )
                timings[label] = (
                    cold_created,
                    cold_first,
                    warm_created,
                    warm_first,
                    cold_session,
                    warm_session,
                    cold_at,
                )
            # The first 4-hour session's file: its chunks encoded from scratch (the second reuses many).
            render_s = wait_for_file(audio, timings["4-hour"][4]) - timings["4-hour"][6]
            four_hour_cues = len(timings["4-hour"][4]["timeline"])
            results = placement_and_size(device, server.url, timings["30-minute"][4], audio, folder)
        finally:
            server.stop()
    for label, (cold_created, cold_first, warm_created, warm_first, *_) in timings.items():
        results.append(
            (
                f"{label} plan: POST to first track byte, cached",
                f"{warm_first * 1000:.0f} ms (201 after {warm_created * 1000:.0f} ms)",
                warm_first <= FIRST_BYTE_TARGET_S,
                "<= 1 s",
            )
        )
        results.append(
            (
                f"{label} plan: same, empty audio cache",
                f"{cold_first * 1000:.0f} ms (201 after {cold_created * 1000:.0f} ms)",
                True,
                "(phrases spoken first)",
            )
        )
    results.append(
        (
            f"4-hour track file ({four_hour_cues} cues) written",
            f"{render_s:.1f} s after its first byte, in the background",
            True,
            "(for reference)",
        )
    )
    print(f"RetroWalk track benchmark (lead-in {TRACK_LEAD_IN_MS} ms, single runs)")
    for name, value, ok, target in results:
        print(f"  {'ok  ' if ok else 'MISS'} {name:<48} {value:<52} target {target}")
    return 0 if all(ok for _, _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
