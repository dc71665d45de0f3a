"""PUT /api/sessions/offline/<walk_id>: walks played without the server count once they are uploaded.

Through requests to the app in this process and a real SQLite file; each upload's summary is
checked against the walk clock (server/walkclock.py) replaying the same log, so a walk counts exactly as its log says.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server import walkclock as wc


@pytest.fixture(scope="module")
def server(app_server):
    """The app in this process (tests/wsgi_support.py): an upload needs no socket and no process of its own."""
    return app_server


THREE_FIVES = [{"kind": "forward", "seconds": 5}, {"kind": "reverse", "seconds": 5}, {"kind": "forward", "seconds": 5}]
STARTS = [0, 5_000, 10_000, 15_000]
KINDS = ["forward", "reverse", "forward"]
LEAD_MS = 500  # the server's default START_LEAD_MS, which an upload without lead_ms is played with
TIMEOUT = 30


def zone_far_from_a_week_start() -> str:
    """A time zone in which this week began over 2 hours ago, so walks of the last hour are all in it."""
    for name in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
        local = datetime.now(ZoneInfo(name))
        if local.weekday() != 0 or local.hour >= 2:
            return name
    raise AssertionError("unreachable: those zones are 25 hours apart")


def now_ms() -> int:
    """This machine's clock, which is also the server's."""
    return int(time.time() * 1000)


def walk_id() -> str:
    """An id as the phone makes one."""
    return "w" + secrets.token_hex(8)


def body_of(events, segments=THREE_FIVES, plan_id="my-three", name="Three fives", **extra) -> dict:
    """An upload as web/js/offline.js sends it."""
    return {"plan_id": plan_id, "plan_name": name, "segments": segments, "options": {}, "events": events, **extra}


def upload(server, device, walk, body):
    """PUT one walk log."""
    return device.put(f"{server.url}/api/sessions/offline/{walk}", json=body, timeout=TIMEOUT)


def paused_and_skipped_walk(t0: int) -> list[dict]:
    """Start, 1 s walked, 2 s paused, 0.5 s walked, a skip (one start lead more to the reverse), stopped 2 s in."""
    s = t0 + LEAD_MS
    return [
        {"type": "start", "at": t0},
        {"type": "pause", "at": s + 1_000},
        {"type": "resume", "at": s + 3_000},
        {"type": "skip", "at": s + 3_500},
        {"type": "stop", "at": s + 3_500 + LEAD_MS + 2_000},
    ]


# Three minutes: long enough to be one of the week's walks (stats.MIN_COUNTED_SESSION_S).
THREE_MINUTES = [
    {"kind": "forward", "seconds": 60},
    {"kind": "reverse", "seconds": 60},
    {"kind": "forward", "seconds": 60},
]


def three_minute_walk(t0: int) -> list[dict]:
    """20 s walked, 20 s paused, a skip (one start lead more to the reverse), stopped 50 s into the reverse."""
    s = t0 + LEAD_MS
    return [
        {"type": "start", "at": t0},
        {"type": "pause", "at": s + 10_000},
        {"type": "resume", "at": s + 30_000},
        {"type": "skip", "at": s + 40_000},
        {"type": "stop", "at": s + 40_000 + LEAD_MS + 50_000},
    ]


def test_a_walk_played_offline_counts_in_history_stats_and_csv_like_a_server_walk(server):
    device = server.client()
    before = device.get(f"{server.url}/api/stats/week?tz={zone_far_from_a_week_start()}", timeout=TIMEOUT).json()
    events = three_minute_walk(now_ms() - 300_000)
    walk = walk_id()
    response = upload(server, device, walk, body_of(events, segments=THREE_MINUTES))
    assert response.status_code == 201, response.text
    session = response.json()
    assert response.headers["Location"] == f"/api/sessions/{session['id']}"
    starts = [0, 60_000, 120_000, 180_000]
    expected = wc.summarize(wc.replay(starts, events, LEAD_MS), starts, KINDS)
    assert session["state"] == "finished" and session["ended_by"] == "stopped"
    assert session["summary"] == expected
    assert (expected["segments_walked"], expected["paused_seconds"], expected["skipped_segments"]) == (
        [20.0 + LEAD_MS / 1000, 50.0, 0.0],
        20.0,
        [0],
    )
    assert device.get(f"{server.url}/api/sessions/{session['id']}", timeout=TIMEOUT).json() == session
    entry = next(e for e in device.get(server.url + "/api/history", timeout=TIMEOUT).json() if e["id"] == session["id"])
    assert entry["state"] == "finished" and entry["summary"] == expected and entry["plan_name"] == "Three fives"
    after = device.get(f"{server.url}/api/stats/week?tz={zone_far_from_a_week_start()}", timeout=TIMEOUT).json()
    assert after["walks"] == before["walks"] + 1  # a walk of the week (50 s backward: not a session that counts)
    assert after["backward_minutes"] == pytest.approx(before["backward_minutes"] + 50 / 60, abs=0.05)
    assert after["minutes"] == pytest.approx(before["minutes"] + (20 + LEAD_MS / 1000 + 50) / 60, abs=0.05)
    assert "Three fives" in device.get(server.url + "/api/history.csv", timeout=TIMEOUT).text
    walk_stats = device.get(f"{server.url}/api/stats/sessions/{session['id']}", timeout=TIMEOUT)
    assert walk_stats.status_code == 200


def test_a_retry_gets_the_same_session_and_never_counts_the_walk_twice(server):
    device, other = server.client(), server.client()
    walk = walk_id()
    body = body_of(three_minute_walk(now_ms() - 300_000), segments=THREE_MINUTES)
    first = upload(server, device, walk, body)
    again = upload(server, device, walk, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    history = device.get(server.url + "/api/history", timeout=TIMEOUT).json()
    assert [e["id"] for e in history].count(first.json()["id"]) == 1 and len(history) == 1
    assert (
        device.get(f"{server.url}/api/stats/week?tz={zone_far_from_a_week_start()}", timeout=TIMEOUT).json()["walks"]
        == 1
    )
    # Another phone's walk of the same id is its own walk.
    theirs = upload(server, other, walk, body)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert len(device.get(server.url + "/api/history", timeout=TIMEOUT).json()) == 1


def test_a_log_without_a_stop_completes_at_its_end_and_moves_the_programme_on(server):
    device = server.client()
    programme = server.url + "/api/programmes/first-steps"
    assert device.get(programme, timeout=TIMEOUT).json()["progress"]["label"] == "Week 1, session 1"
    plan = device.get(server.url + "/api/plans/first-steps-w1s1", timeout=TIMEOUT).json()
    total_ms = sum(s["seconds"] for s in plan["segments"]) * 1000
    # Walked with the phone in airplane mode; the phone went to sleep and never logged an end.
    t0 = now_ms() - total_ms - 60_000
    body = body_of([{"type": "start", "at": t0}], segments=plan["segments"], plan_id=plan["id"], name=plan["name"])
    response = upload(server, device, walk_id(), body)
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["ended_by"] == "complete" and session["finished_at"] == t0 + LEAD_MS + total_ms
    assert session["summary"]["walked_seconds"] == total_ms / 1000
    assert device.get(programme, timeout=TIMEOUT).json()["progress"]["label"] == "Week 1, session 2"
    # A second completed walk this week: both count as sessions, offline walks too.
    second = device.get(server.url + "/api/plans/first-steps-w1s2", timeout=TIMEOUT).json()
    t1 = now_ms() - sum(s["seconds"] for s in second["segments"]) * 1000 - 30_000
    body = body_of(
        [{"type": "start", "at": t1}], segments=second["segments"], plan_id=second["id"], name=second["name"]
    )
    assert upload(server, device, walk_id(), body).status_code == 201
    assert device.get(programme, timeout=TIMEOUT).json()["progress"]["label"] == "Week 1, session 3"
    week = device.get(f"{server.url}/api/stats/week?tz={zone_far_from_a_week_start()}", timeout=TIMEOUT).json()
    assert week["completed_sessions"] == 2 and week["sessions"] == 2


def test_a_tap_on_stop_just_after_the_walk_completed_changes_nothing(server):
    device = server.client()
    t0 = now_ms() - 60_000
    end = t0 + LEAD_MS + 15_000
    body = body_of([{"type": "start", "at": t0}, {"type": "stop", "at": end + 300}])
    session = upload(server, device, walk_id(), body).json()
    assert session["ended_by"] == "complete" and session["finished_at"] == end


def test_the_phones_lead_and_end_decide_where_its_walk_ended(server):
    device = server.client()
    t0 = now_ms() - 60_000
    # The phone's last cue was pushed 400 ms past the plan's end, and it played with a 1 s lead.
    end_ms = wc.walk_end_ms(STARTS, [0, 5_000, 10_000, 15_400])
    body = body_of(
        [{"type": "start", "at": t0}, {"type": "stop", "at": t0 + 1_000 + 15_200}], lead_ms=1_000, end_ms=end_ms
    )
    session = upload(server, device, walk_id(), body).json()
    assert session["started_at"] == t0 + 1_000
    assert session["ended_by"] == "stopped" and session["summary"]["walked_seconds"] == 15.0


def test_a_walk_still_under_way_by_its_clock_is_not_stored_yet(server):
    device = server.client()
    walk = walk_id()
    running = upload(server, device, walk, body_of([{"type": "start", "at": now_ms() - 2_000}]))
    assert running.status_code == 409 and running.json()["error"] == "walk_not_finished"
    paused = upload(
        server,
        device,
        walk,
        body_of([{"type": "start", "at": now_ms() - 9_000}, {"type": "pause", "at": now_ms() - 8_000}]),
    )
    assert paused.status_code == 409 and "paused" in paused.json()["message"]
    assert device.get(server.url + "/api/history", timeout=TIMEOUT).json() == []
    # Once it has ended, the same walk id is taken.
    done = upload(server, device, walk, body_of(paused_and_skipped_walk(now_ms() - 60_000)))
    assert done.status_code == 201


def test_an_abandoned_paused_walk_stopped_days_later_counts_only_the_longest_pause(server):
    device = server.client()
    longest_pause_ms = 4 * 3600 * 1000  # the server's LIVE_MAX_PAUSE_S, which a live walk is stopped after
    two_days_ms = 2 * 24 * 3600 * 1000
    t0 = now_ms() - two_days_ms - 10_000
    paused_at = t0 + LEAD_MS + 2_000
    # Paused, then the app was closed; the stop was logged when it was next opened, two days on.
    events = [
        {"type": "start", "at": t0},
        {"type": "pause", "at": paused_at},
        {"type": "stop", "at": paused_at + two_days_ms},
    ]
    response = upload(server, device, walk_id(), body_of(events))
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["ended_by"] == "stopped" and session["finished_at"] == paused_at + longest_pause_ms
    assert session["summary"]["paused_seconds"] == longest_pause_ms / 1000
    assert session["summary"]["walked_seconds"] == 2.0


def _log(*steps: tuple[str, int]) -> list[dict]:
    """A log of (type, ms after a start 60 s ago)."""
    t0 = now_ms() - 60_000
    return [{"type": "start", "at": t0}] + [{"type": kind, "at": t0 + offset} for kind, offset in steps]


BAD_UPLOADS = [
    ("short", lambda: body_of(_log(("stop", 5_000))), "invalid_walk_id", "8 to 64"),
    ("has space", lambda: body_of(_log(("stop", 5_000))), "invalid_walk_id", "8 to 64"),
    (None, lambda: [1, 2], "invalid_request", "JSON object"),
    (None, lambda: {**body_of(_log(("stop", 5_000))), "colour": "red"}, "invalid_request", "colour"),
    (None, lambda: body_of(_log(("stop", 5_000)), plan_id=7), "invalid_request", "plan_id"),
    (
        None,
        lambda: body_of(_log(("stop", 5_000)), segments=[{"kind": "sideways", "seconds": 5}]),
        "invalid_plan",
        "kind must be",
    ),
    (None, lambda: body_of(_log(("stop", 5_000)), name=""), "invalid_plan", "name"),
    (None, lambda: {**body_of(_log(("stop", 5_000))), "options": {"lang": "xx"}}, "invalid_options", "anguage"),
    (None, lambda: body_of([]), "invalid_events", "start"),
    (None, lambda: body_of("start"), "invalid_events", "list"),
    (None, lambda: body_of(_log(("stop", 5_000))[1:]), "invalid_events", "first event must be the start"),
    (None, lambda: body_of(_log(("pause", 5_000), ("resume", 4_000))), "invalid_events", "time order"),
    (None, lambda: body_of(_log(("stop", 300_000))), "invalid_events", "future"),
    (None, lambda: body_of([{"type": "start", "at": now_ms() - 31 * 86_400_000}]), "invalid_events", "30 days"),
    (
        None,
        lambda: body_of(_log(*[("pause" if i % 2 == 0 else "resume", 10 + i) for i in range(1_001)])),
        "invalid_events",
        "at most 1000",
    ),
    (None, lambda: body_of(_log(("dance", 5_000))), "invalid_events", "type must be"),
    (None, lambda: body_of(_log(("stop", 5_000.5))), "invalid_events", "whole"),
    (
        None,
        lambda: body_of([{"type": "start", "at": now_ms() - 60_000, "why": "x"}]),
        "invalid_events",
        "exactly type and at",
    ),
    # 100 ms past the last moment a skip can land one lead before the reverse's start.
    (
        None,
        lambda: body_of(_log(("skip", LEAD_MS + 5_000 - LEAD_MS + 100))),
        "invalid_events",
        "The next segment starts in a moment",
    ),
    (None, lambda: body_of(_log(("stop", 5_000), ("resume", 6_000))), "invalid_events", "has finished"),
    (None, lambda: body_of(_log(("resume", 5_000))), "invalid_events", "not paused"),
    (None, lambda: body_of(_log(("stop", 5_000)), lead_ms=-1), "invalid_request", "lead_ms"),
    (None, lambda: body_of(_log(("stop", 5_000)), end_ms=14_000), "invalid_request", "end_ms"),
    (None, lambda: body_of(_log(("stop", 5_000)), end_ms="15000"), "invalid_request", "end_ms"),
]


@pytest.mark.parametrize("walk, body, code, words", BAD_UPLOADS, ids=[f"{c}-{w}" for _, _, c, w in BAD_UPLOADS])
def test_a_bad_log_is_a_400_that_says_why_and_stores_nothing(server, walk, body, code, words):
    device = server.client()
    walk = {"short": "abc", "has space": "has%20space%20in%20it"}.get(walk, walk_id())
    response = device.put(f"{server.url}/api/sessions/offline/{walk}", json=body(), timeout=TIMEOUT)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code and words in response.json()["message"]
    assert device.get(server.url + "/api/history", timeout=TIMEOUT).json() == []
