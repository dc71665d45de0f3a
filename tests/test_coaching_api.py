"""Coaching API in this process: settings, programmes and progress, weekly stats, CSV history.

Longer than 450 lines: settings, programmes, stats and history are checked through the walks that
feed them, made once here (`run_workout`, `seed_finished_session`) and shared.

History is made two ways. This week's, by running real walks (POST /api/sessions, then the
controls a socket sends, on the hub of an app whose clock the test moves: `run_workout`). Walks in
past weeks are not run, so `seed_finished_session` writes finished sessions, shaped as
server/sessions/store.py writes them, straight into the server's SQLite file.
"""

import csv
import io
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server import clock as server_clock
from server.walkclock import WalkRefused


@pytest.fixture(scope="module")
def server(app_server):
    """The app in this process (tests/wsgi_support.py): HTTP only; walks run on `fast_server`'s hand clock."""
    return app_server


TIMEOUT = 10
# A walk on the hand clock: the scheduler ticks every 100 ms of walk time, a skip is tapped every
# 600 ms (after the 500 ms start lead), and no walk is run past two hours.
TICK_MS = 100
SKIP_EVERY_MS = 600
WALK_LIMIT_MS = 2 * 3600 * 1000
# The cue gap (server/cues.py GAP_MS) and less than any switch phrase lasts ("Cambia a reversa, un minuto.").
GAP_MS = 150
MIN_SWITCH_SPOKEN_MS = 500
DAY_MS = 86_400_000
NEW_YORK = ZoneInfo("America/New_York")


def now_ms() -> int:
    """The real clock, which is the server's."""
    return int(time.time() * 1000)


def seed_finished_session(
    server, device, *, started_at, segments, walked, ended_by="complete", plan_id="my-seeded", plan_name="Seeded walk"
):
    """Write one finished session of `device` into the server's database, as server/sessions/store.py stores it."""
    by_kind = {"forward": 0.0, "backward": 0.0, "rest": 0.0}
    for segment, seconds in zip(segments, walked):
        key = {"reverse": "backward", "rest": "rest"}.get(segment["kind"], "forward")
        by_kind[key] += seconds
    finished_at = started_at + int(sum(walked) * 1000)
    summary = {
        "ended_by": ended_by,
        "planned_seconds": sum(s["seconds"] for s in segments),
        "walked_seconds": sum(walked),
        "forward_seconds": by_kind["forward"],
        "backward_seconds": by_kind["backward"],
        "rest_seconds": by_kind["rest"],
        "skipped_segments": [],
        "segments_walked": list(walked),
    }
    db = sqlite3.connect(server.data_dir / "retrowalk.db", timeout=TIMEOUT)
    try:
        with db:
            db.execute(
                """INSERT INTO sessions (id, device_id, plan_id, plan_name, plan, options, timeline, state,
                       created_at, started_at, shift_ms, finished_at, ended_by, summary)
                   VALUES (?, ?, ?, ?, ?, '{}', '[]', 'finished', ?, ?, 0, ?, ?, ?)""",
                [
                    f"seed-{started_at}-{plan_id}",
                    device.cookies["rw_device"],
                    plan_id,
                    plan_name,
                    json.dumps(segments),
                    started_at,
                    started_at,
                    finished_at,
                    ended_by,
                    json.dumps(summary),
                ],
            )
    finally:
        db.close()


def backward_walk(server, device, started_at, minutes=20, mph=3.5, **kwargs):
    """Seed a completed walk of `minutes` backwards at `mph`."""
    segments = [{"kind": "reverse", "seconds": minutes * 60, "speed_mph": mph}]
    seed_finished_session(server, device, started_at=started_at, segments=segments, walked=[minutes * 60], **kwargs)


class HandClock:
    """The app's clock (server/clock.py), moved by the test: a walk runs to its end without waiting for it."""

    def __init__(self):
        self.now = now_ms()

    def time(self) -> float:
        """Seconds since the epoch, as time.time() gives them."""
        return self.now / 1000


class WalkWatcher:
    """A socket as the hub sees one (server/sessions/messages.py Watcher): keeps what it is sent."""

    def __init__(self):
        self.messages: list[dict] = []

    def deliver(self, text: str, not_after: int | None = None) -> bool:
        """Keep the message; the socket never closes."""
        self.messages.append(json.loads(text))
        return True

    def finished(self) -> dict | None:
        """The `finished` message, once the walk has ended."""
        return next((m for m in self.messages if m["type"] == "finished"), None)


def run_workout(server, device, plan_id, *, stop_after_s=None):
    """Run a real walk on the app's hub and its scheduler, on the hand clock: to its end (skipping
    each segment, as a walker's taps do), or stopped after `stop_after_s` of walk time.

    The walk is created over HTTP and controlled as the socket controls it (hub.control); the
    socket itself is tested against a real server in test_ws.py.
    """
    created = device.post(server.url + "/api/sessions", json={"plan_id": plan_id}, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    hub, clock = server.app.extensions["live"], server.clock
    watcher = WalkWatcher()
    hub.attach(session_id, watcher)
    hub.control(session_id, "start")
    started = clock.now
    deadline = started + WALK_LIMIT_MS
    while clock.now < deadline and not watcher.finished():
        clock.now += TICK_MS
        hub.tick()
        walked_s = (clock.now - started) / 1000
        try:
            if stop_after_s is None and (clock.now - started) % SKIP_EVERY_MS == 0:
                hub.control(session_id, "skip")
            elif stop_after_s is not None and walked_s >= stop_after_s:
                hub.control(session_id, "stop")
        except WalkRefused:
            pass  # a skip while a segment is ending, a control after the walk ended: as a phone is told
    hub.detach(session_id, watcher)
    assert watcher.finished(), "the workout did not finish"
    return watcher.finished()["summary"]


@pytest.fixture
def fast_server(app_server_of_its_own, monkeypatch):
    """An app of the test's own on a hand clock, so workouts are walked in no real time.

    Every time the server reads (walks, programme starts, stats' "this week") comes from
    server/clock.py, so the whole app, hub and routes alike, keeps one time: the hand clock's.
    """
    server = app_server_of_its_own()
    server.clock = HandClock()
    monkeypatch.setattr(server_clock, "time", server.clock)
    return server


# ---- settings ------------------------------------------------------------------------------


def test_settings_start_from_the_defaults_and_round_trip(device, server):
    url = server.url + "/api/settings"
    assert device.get(url, timeout=TIMEOUT).json() == {
        "units": "mph",
        "weight_kg": None,
        "countdown": 3,
        "halfway": True,
        "time_remaining": True,
        "lang": "en",
        "timezone": None,
        "programme": None,
        "audio_mode": "pocket",
    }
    saved = device.put(
        url, json={"units": "kmh", "weight_kg": 72.5, "timezone": "Europe/Madrid", "lang": "es"}, timeout=TIMEOUT
    )
    assert saved.status_code == 200
    assert device.put(url, json={"countdown": 10, "halfway": False}, timeout=TIMEOUT).status_code == 200
    now = device.get(url, timeout=TIMEOUT).json()
    assert (now["units"], now["weight_kg"], now["timezone"], now["lang"], now["countdown"], now["halfway"]) == (
        "kmh",
        72.5,
        "Europe/Madrid",
        "es",
        10,
        False,
    )
    cleared = device.put(url, json={"weight_kg": None}, timeout=TIMEOUT).json()
    assert cleared["weight_kg"] is None and cleared["units"] == "kmh"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"units": "furlongs"}, "invalid_settings"),
        ({"weight_kg": "seventy"}, "invalid_settings"),
        ({"weight_kg": 3000}, "invalid_settings"),
        ({"timezone": "Not/AZone"}, "invalid_settings"),
        ({"timezone": 5}, "invalid_settings"),
        ({"countdown": "3"}, "invalid_settings"),
        ({"programme": "nope"}, "invalid_settings"),
        ({"colour": "red"}, "invalid_settings"),
        ([1, 2], "invalid_settings"),
        ("kmh", "invalid_settings"),
    ],
)
def test_bad_settings_are_a_400_with_a_message_and_change_nothing(device, server, body, code):
    url = server.url + "/api/settings"
    response = device.put(url, json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == code and response.json()["message"]
    assert device.get(url, timeout=TIMEOUT).json()["units"] == "mph"


def test_a_body_that_is_not_json_is_a_400(device, server):
    response = device.put(server.url + "/api/settings", data="units=kmh", timeout=TIMEOUT)
    assert response.status_code == 400 and response.json()["message"]


def test_another_device_never_sees_my_settings_or_history(server):
    mine, theirs = server.client(), server.client()
    mine.put(server.url + "/api/settings", json={"units": "kmh", "weight_kg": 80}, timeout=TIMEOUT)
    backward_walk(server, mine, now_ms() - 60_000, plan_name="Mine only")
    assert theirs.get(server.url + "/api/settings", timeout=TIMEOUT).json()["units"] == "mph"
    assert "Mine only" not in theirs.get(server.url + "/api/history.csv", timeout=TIMEOUT).text
    assert "Mine only" in mine.get(server.url + "/api/history.csv", timeout=TIMEOUT).text
    assert theirs.get(server.url + "/api/stats/week?tz=UTC", timeout=TIMEOUT).json()["minutes"] == 0


def test_new_sessions_take_their_cue_options_from_the_settings(device, server):
    device.put(server.url + "/api/settings", json={"lang": "es", "units": "kmh", "countdown": 0}, timeout=TIMEOUT)
    session = device.post(server.url + "/api/sessions", json={"plan_id": "first-steps"}, timeout=60).json()
    assert (session["options"]["lang"], session["options"]["units"], session["options"]["countdown"]) == (
        "es",
        "kmh",
        0,
    )
    texts = [cue["text"] for cue in session["timeline"]]
    assert "Baja la velocidad a 2,4 kilómetros por hora." in texts  # 1.5 mph, spoken in Spanish km/h
    # A choice in the request still wins over the saved default.
    override = device.post(
        server.url + "/api/sessions", json={"plan_id": "first-steps", "options": {"lang": "de"}}, timeout=60
    ).json()
    assert (override["options"]["lang"], override["options"]["units"]) == ("de", "kmh")


def test_pause_resume_and_skip_have_spoken_confirmations_in_the_walks_language(device, server):
    session = device.post(
        server.url + "/api/sessions", json={"plan_id": "first-steps", "options": {"lang": "es"}}, timeout=60
    ).json()
    spoken = session["confirmations"]
    assert {control: spoken[control]["text"] for control in ("pause", "resume", "skip")} == {
        "pause": "En pausa.",
        "resume": "Seguimos.",
        "skip": "Pasamos al siguiente tramo.",
    }
    for control in [spoken[name] for name in ("pause", "resume", "skip")] + list(spoken["skip_to"].values()):
        audio = device.get(server.url + control["audio"], timeout=TIMEOUT)
        assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/mpeg" and audio.content
    # A skip into a backward bout jumps over its slow-down: the phone says that instead.
    assert spoken["skip_to"]["1"]["text"] == "Baja la velocidad a 1,5 millas por hora."
    assert set(spoken["skip_to"]) == {"1", "3", "5", "7", "9", "11"}  # every bout, and the cool-down
    # It is said once the landed switch phrase has ended: `after_ms` after the segment's start, never over it.
    timeline = session["timeline"]
    for index, slow_down in spoken["skip_to"].items():
        switch = next(cue for cue in timeline if cue["kind"] == "switch" and cue["segment"] == int(index))
        following = next(cue for cue in timeline if cue["offset_ms"] > switch["offset_ms"])
        assert MIN_SWITCH_SPOKEN_MS + GAP_MS < slow_down["after_ms"] <= following["offset_ms"] - switch["offset_ms"], (
            index,
            slow_down,
        )
    # Reopened later (another tab, a reload), the session still says where they are.
    again = device.get(server.url + f"/api/sessions/{session['id']}", timeout=TIMEOUT).json()
    assert again["confirmations"] == spoken


# ---- programmes ----------------------------------------------------------------------------


def test_programmes_list_every_session_and_a_new_walker_starts_at_week_1_session_1(device, server):
    body = device.get(server.url + "/api/programmes", timeout=TIMEOUT).json()
    assert body["following"] is None and body["next"] is None
    by_id = {p["id"]: p for p in body["programmes"]}
    assert set(by_id) == {"first-steps", "knee-friendly", "steady-balance", "quick-mix"}
    first = by_id["first-steps"]
    assert len(first["workouts"]) == 18 and first["workouts"][0]["plan"]["backward_seconds"] == 300
    assert first["progress"]["label"] == "Week 1, session 1"
    assert first["progress"]["next_plan_id"] == "first-steps-w1s1"
    # Every session is a plan the phone can start.
    plan_ids = {p["id"] for p in device.get(server.url + "/api/plans", timeout=TIMEOUT).json()}
    assert {s["plan_id"] for p in body["programmes"] for s in p["workouts"]} <= plan_ids


def test_an_unknown_programme_is_a_404(device, server):
    for response in (
        device.get(server.url + "/api/programmes/couch-to-5k", timeout=TIMEOUT),
        device.post(server.url + "/api/programmes/couch-to-5k/start", timeout=TIMEOUT),
    ):
        assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_pick_a_programme_finish_a_session_and_the_next_is_offered(fast_server):
    server = fast_server
    device = server.client()
    started = device.post(server.url + "/api/programmes/first-steps/start", timeout=TIMEOUT).json()
    assert started["following"] and started["progress"]["label"] == "Week 1, session 1"
    summary = run_workout(server, device, "first-steps-w1s1")
    assert summary["ended_by"] == "complete"
    body = device.get(server.url + "/api/programmes", timeout=TIMEOUT).json()
    assert body["following"] == "first-steps"
    assert body["next"] == {
        "programme_id": "first-steps",
        "programme_name": "First steps backward",
        "plan_id": "first-steps-w1s2",
        "label": "Week 1, session 2",
    }
    # A session stopped early does not count.
    assert run_workout(server, device, "first-steps-w1s2", stop_after_s=1)["ended_by"] == "stopped"
    one = device.get(server.url + "/api/programmes/first-steps", timeout=TIMEOUT).json()
    assert one["progress"]["label"] == "Week 1, session 2" and one["progress"]["done"] == 1
    # Starting again is a restart from week 1, session 1.
    assert (
        device.post(server.url + "/api/programmes/first-steps/start", timeout=TIMEOUT).json()["progress"]["label"]
        == "Week 1, session 1"
    )


def test_a_real_workout_moves_this_weeks_minutes(fast_server):
    server = fast_server
    device = server.client()
    plan = device.post(
        server.url + "/api/plans",
        json={
            "name": "Tiny",
            "segments": [
                {"kind": "warmup", "seconds": 5, "speed_mph": 2.5},
                {"kind": "reverse", "seconds": 5, "speed_mph": 1.5},
            ],
        },
        timeout=TIMEOUT,
    ).json()
    before = device.get(server.url + "/api/stats/week", timeout=TIMEOUT).json()
    assert before["minutes"] == 0 and before["sessions"] == 0
    summary = run_workout(server, device, plan["id"], stop_after_s=100)  # long enough to finish by itself
    assert summary["ended_by"] == "complete"
    after = device.get(server.url + "/api/stats/week", timeout=TIMEOUT).json()
    assert after["minutes"] == 0.2 and after["backward_minutes"] == 0.1 and after["completed_sessions"] == 1


# ---- weekly stats and charts ---------------------------------------------------------------


def test_week_stats_shape_and_calories_as_a_range_once_a_weight_is_set(device, server):
    url = server.url + "/api/stats/week?tz=UTC"
    backward_walk(server, device, now_ms() - 60_000, minutes=20, mph=3.5)
    week = device.get(url, timeout=TIMEOUT).json()
    assert week["minutes"] == 20 and week["backward_minutes"] == 20 and week["target_minutes"] == 150
    assert week["sessions"] == 1 and week["backward_goal_sessions"] == 1
    assert week["calories"] is None and "weight" in week["calories_note"]
    device.put(server.url + "/api/settings", json={"weight_kg": 70}, timeout=TIMEOUT)
    calories = device.get(url, timeout=TIMEOUT).json()["calories"]
    # 70 kg, 20 minutes at 6.0 METs (backwards at 3.5 mph) = 140 kcal at the top of the range.
    assert calories["high"] == 140 and calories["low"] < calories["estimate"] < 140


def test_week_1_session_1_walked_as_set_counts_against_the_programmes_own_targets(device, server):
    device.post(server.url + "/api/programmes/first-steps/start", timeout=TIMEOUT)
    plan = device.get(server.url + "/api/plans/first-steps-w1s1", timeout=TIMEOUT).json()
    seed_finished_session(
        server,
        device,
        started_at=now_ms() - 30 * 60_000,
        segments=plan["segments"],
        walked=[s["seconds"] for s in plan["segments"]],
        plan_id=plan["id"],
        plan_name=plan["name"],
    )
    # A zone whose week began hours ago, so the walk of half an hour ago is this week's.
    zone = next(
        name
        for name in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago")
        if datetime.now(ZoneInfo(name)).weekday() != 0 or datetime.now(ZoneInfo(name)).hour >= 2
    )
    week = device.get(server.url + f"/api/stats/week?tz={zone}", timeout=TIMEOUT).json()
    # The backward card: 1 of the programme's 3 sessions this week, at its 5 backward minutes.
    assert (week["sessions"], week["backward_goal_sessions"]) == (1, 1)
    assert week["backward_suggestion"] == {
        "minutes_per_session": [5, 5],
        "sessions": 3,
        "weekly_minutes": 15,
        "programme": "First steps backward",
    }
    assert "First steps backward" in week["definitions"]["on_plan_week"] and week["streak_weeks"] == 0


def test_what_counts_and_a_week_on_plan_are_defined_in_the_walkers_language(device, server):
    device.post(server.url + "/api/programmes/first-steps/start", timeout=TIMEOUT)
    english = device.get(server.url + "/api/stats/week", timeout=TIMEOUT).json()["definitions"]
    assert "at least 2 minutes" in english["counted_session"]
    assert "3 sessions that count: what First steps backward asks for a week" in english["on_plan_week"]
    german = device.get(server.url + "/api/stats/week?lang=de", timeout=TIMEOUT).json()["definitions"]
    assert (
        german["counted_session"].startswith("Ein Training zählt als Einheit")
        and "mindestens 2 Minuten" in german["counted_session"]
    )
    assert (
        german["on_plan_week"]
        == "Eine Woche ist im Plan mit 3 Einheiten, die zählen: so viel verlangt Erste Schritte rückwärts pro Woche."
    )
    for lang in ("es", "fr"):
        spoken = device.get(server.url + f"/api/stats/week?lang={lang}", timeout=TIMEOUT).json()["definitions"]
        assert set(spoken) == set(english) and all(spoken[key] != english[key] for key in english), spoken


def test_programme_texts_speak_the_walkers_units_and_cite_their_sources(device, server):
    imperial = device.get(server.url + "/api/programmes/first-steps", timeout=TIMEOUT).json()
    assert "under 2 mph" in imperial["description"] and "Hreljac" in imperial["source"]
    device.put(server.url + "/api/settings", json={"units": "kmh"}, timeout=TIMEOUT)
    metric = device.get(server.url + "/api/programmes", timeout=TIMEOUT).json()["programmes"]
    texts = [p["description"] for p in metric] + [s["why"] for p in metric for s in p["workouts"]]
    assert "under 3.2 km/h" in metric[0]["description"] and not any("mph" in text for text in texts)
    plans = device.get(server.url + "/api/plans", timeout=TIMEOUT).json()
    assert not any("mph" in plan["description"] for plan in plans)
    # ?units= overrides the setting; anything else is refused.
    assert (
        "under 2 mph"
        in device.get(server.url + "/api/plans/first-steps?units=mph", timeout=TIMEOUT).json()["description"]
    )
    refused = device.get(server.url + "/api/programmes?units=knots", timeout=TIMEOUT)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_units"


def test_weeks_follow_the_walkers_time_zone(device, server):
    # A walk at 23:30 on a Sunday in New York, at least a week ago: Monday 04:30 in UTC.
    today = datetime.now(NEW_YORK).date()
    sunday = today - timedelta(days=(today.weekday() + 1) % 7 + 7)
    walk_at = datetime(sunday.year, sunday.month, sunday.day, 23, 30, tzinfo=NEW_YORK)
    backward_walk(server, device, int(walk_at.timestamp() * 1000), minutes=12)

    def week_of_walk(query):
        weeks = device.get(server.url + "/api/stats/weeks?weeks=4" + query, timeout=TIMEOUT).json()["weeks"]
        return [w["week_start"] for w in weeks if w["minutes"]]

    assert week_of_walk("&tz=America/New_York") == [(sunday - timedelta(days=6)).isoformat()]
    assert week_of_walk("&tz=UTC") == [(sunday + timedelta(days=1)).isoformat()]
    # Without ?tz= the saved time zone is used.
    device.put(server.url + "/api/settings", json={"timezone": "America/New_York"}, timeout=TIMEOUT)
    body = device.get(server.url + "/api/stats/weeks?weeks=4", timeout=TIMEOUT).json()
    assert body["timezone"] == "America/New_York"
    assert [w["week_start"] for w in body["weeks"] if w["minutes"]] == [(sunday - timedelta(days=6)).isoformat()]


def test_twelve_weeks_of_bars_a_point_per_session_and_the_streak(device, server):
    this_monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    for weeks_ago in (1, 2):
        monday = this_monday - timedelta(weeks=weeks_ago)
        # Three sessions that count a week: on plan without a programme ("a few times a week").
        for day in (0, 2, 4):
            at = datetime(monday.year, monday.month, monday.day, 12, tzinfo=UTC) + timedelta(days=day)
            backward_walk(server, device, int(at.timestamp() * 1000), minutes=10 + weeks_ago)
    body = device.get(server.url + "/api/stats/weeks?tz=UTC", timeout=TIMEOUT).json()
    assert len(body["weeks"]) == 12 and body["target_minutes"] == 150
    assert body["weeks"][-1]["week_start"] == this_monday.isoformat()
    assert [w["backward_minutes"] for w in body["weeks"][-3:]] == [36.0, 33.0, 0.0]
    assert [w["on_plan"] for w in body["weeks"][-3:]] == [True, True, False]
    assert [p["backward_minutes"] for p in body["sessions"]] == [12.0] * 3 + [11.0] * 3
    week = device.get(server.url + "/api/stats/week?tz=UTC", timeout=TIMEOUT).json()
    assert week["streak_weeks"] == 2 and "3 sessions that count" in week["definitions"]["on_plan_week"]


@pytest.mark.parametrize(
    "query",
    [
        "weeks=0",
        "weeks=53",
        "weeks=-1",
        "weeks=abc",
        "weeks=1.5",
        "weeks=",
        "tz=Mars/Base",
        "tz=",
        "tz=../../etc/passwd",
    ],
)
def test_bad_stats_queries_are_a_400_not_a_500(device, server, query):
    response = device.get(f"{server.url}/api/stats/weeks?{query}", timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_weeks", "invalid_timezone") and response.json()["message"]


@pytest.mark.parametrize("path", ["/api/stats/week?tz=Nowhere", "/api/history.csv?tz=Nowhere"])
def test_a_bad_time_zone_is_a_400_everywhere(device, server, path):
    response = device.get(server.url + path, timeout=TIMEOUT)
    assert response.status_code == 400 and response.json()["error"] == "invalid_timezone"


# ---- CSV -----------------------------------------------------------------------------------


def test_history_downloads_as_csv_with_proper_quoting(device, server):
    device.put(server.url + "/api/settings", json={"weight_kg": 70, "timezone": "America/New_York"}, timeout=TIMEOUT)
    started = now_ms() - 3 * DAY_MS
    backward_walk(server, device, started, minutes=20, plan_name='Hall, "slow" laps')
    backward_walk(server, device, started + DAY_MS, minutes=5, plan_name="=1+1", ended_by="stopped")
    response = device.get(server.url + "/api/history.csv", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="retrowalk-history-')
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [r["plan_name"] for r in rows] == ['Hall, "slow" laps', "'=1+1"]
    assert [r["ended_by"] for r in rows] == ["complete", "stopped"]
    assert rows[0]["backward_minutes"] == "20.0" and rows[0]["kcal_high"] == "140"
    assert rows[0]["started"].endswith(("-05:00", "-04:00"))  # New York time


# ---- one walk's figures --------------------------------------------------------------------


def test_a_finished_walk_has_its_own_minutes_and_calories(server):
    mine, theirs = server.client(), server.client()
    mine.put(server.url + "/api/settings", json={"weight_kg": 70}, timeout=TIMEOUT)
    started = now_ms() - 3_600_000
    backward_walk(server, mine, started, minutes=20, mph=3.5, plan_id="my-one")
    session_id = f"seed-{started}-my-one"
    walk = mine.get(f"{server.url}/api/stats/sessions/{session_id}?tz=UTC", timeout=TIMEOUT).json()
    assert (walk["minutes"], walk["backward_minutes"], walk["completed"]) == (20.0, 20.0, True)
    assert walk["calories"]["high"] == 140 and walk["calories_note"]
    assert theirs.get(f"{server.url}/api/stats/sessions/{session_id}", timeout=TIMEOUT).status_code == 404
    assert mine.get(f"{server.url}/api/stats/sessions/nope", timeout=TIMEOUT).status_code == 404
