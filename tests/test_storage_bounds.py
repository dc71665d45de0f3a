"""Disk and memory stay bounded: devices only when needed, per-device session bounds,
timelines stored once, idle sessions unloaded and reloaded, abandoned sessions ended."""

from __future__ import annotations

import json
import sqlite3

import pytest

from server import create_app

PLAN = {"name": "Short", "segments": [{"kind": "forward", "seconds": 5}, {"kind": "reverse", "seconds": 5}]}


@pytest.fixture
def make_app(tmp_path, shared_audio_cache):
    """A factory of apps on a fresh database (cue audio shared across tests, offline voice)."""
    apps = []

    def make(**config):
        """An app with these settings over the test defaults."""
        app = create_app(
            {
                "DATA_DIR": str(tmp_path / f"data{len(apps)}"),
                "AUDIO_CACHE": str(shared_audio_cache),
                "GTTS_ENABLED": False,
                **config,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["live"].stop()


def rows(app, sql: str, *params) -> list[tuple]:
    """Rows straight from the app's SQLite file."""
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        return conn.execute(sql, params).fetchall()


def device_count(app) -> int:
    """How many devices the server has stored."""
    return rows(app, "SELECT count(*) FROM devices")[0][0]


def new_session(client, plan_id: str):
    """POST /api/sessions for a plan."""
    return client.post("/api/sessions", json={"plan_id": plan_id})


@pytest.fixture
def walker(make_app):
    """An app and a device on it with a short plan of its own: (app, client, plan id)."""

    def make(**config):
        """The app (with these settings), its device's client and the plan's id."""
        app = make_app(**config)
        client = app.test_client()
        plan = client.post("/api/plans", json=PLAN)
        assert plan.status_code == 201, plan.get_json()
        return app, client, plan.get_json()["id"]

    return make


# --- devices only when a request needs one -----------------------------------------------------


def test_cookieless_reads_and_404s_leave_no_device_behind(make_app):
    app = make_app()
    client = app.test_client()
    for path in (
        "/api/plans",
        "/api/settings",
        "/api/stats/week",
        "/api/history",
        "/api/programmes",
        "/no/such/page",
        "/api/sessions/nope",
        "/api/plans/my-nope",
    ):
        response = client.get(path)
        assert response.status_code < 500, path
        assert "Set-Cookie" not in response.headers, path
    assert device_count(app) == 0
    plans = client.get("/api/plans").get_json()
    assert plans and all(plan["builtin"] for plan in plans)


def test_a_write_or_the_app_page_gives_a_device_once(make_app):
    app = make_app()
    writer = app.test_client()
    created = writer.post("/api/plans", json=PLAN)
    assert created.status_code == 201
    assert "rw_device=" in created.headers["Set-Cookie"]
    assert created.get_json()["id"] in [plan["id"] for plan in writer.get("/api/plans").get_json()]
    visitor = app.test_client()
    assert "rw_device=" in visitor.get("/").headers["Set-Cookie"]
    visitor.get("/api/plans")
    assert device_count(app) == 2


# --- what one device may store -------------------------------------------------------------------


def test_ready_sessions_past_the_bound_are_forgotten_oldest_first(walker):
    app, client, plan_id = walker(MAX_READY_SESSIONS_PER_DEVICE=3)
    ids = []
    for _ in range(5):
        response = new_session(client, plan_id)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    assert [client.get(f"/api/sessions/{i}").status_code for i in ids] == [404, 404, 200, 200, 200]
    assert rows(app, "SELECT count(*) FROM sessions")[0][0] == 3


def test_too_many_workouts_running_at_once_is_a_clear_409(walker):
    app, client, plan_id = walker(MAX_LIVE_SESSIONS_PER_DEVICE=1)
    first = new_session(client, plan_id).get_json()["id"]
    app.extensions["live"].control(first, "start")
    refused = new_session(client, plan_id)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "too_many_live_sessions"
    assert "stop one" in refused.get_json()["message"]
    app.extensions["live"].control(first, "stop")
    assert new_session(client, plan_id).status_code == 201


def test_a_device_keeps_at_most_so_many_sessions(walker):
    app, client, plan_id = walker(MAX_SESSIONS_PER_DEVICE=2)
    for _ in range(2):
        session_id = new_session(client, plan_id).get_json()["id"]
        app.extensions["live"].control(session_id, "stop")
    refused = new_session(client, plan_id)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "too_many_sessions"
    # Deleting an old walk from history makes room again.
    assert client.delete(f"/api/sessions/{session_id}").status_code == 204
    assert new_session(client, plan_id).status_code == 201
    # Another device is not affected by this one's history.
    other = app.test_client()
    other_plan = other.post("/api/plans", json=PLAN).get_json()["id"]
    assert new_session(other, other_plan).status_code == 201


# --- timelines stored once ---------------------------------------------------------------------


def test_sessions_of_one_plan_share_one_stored_timeline(walker):
    app, client, plan_id = walker()
    first = new_session(client, plan_id).get_json()
    second = new_session(client, plan_id).get_json()
    assert rows(app, "SELECT count(*) FROM timelines")[0][0] == 1
    assert rows(app, "SELECT DISTINCT timeline FROM sessions") == [("",)]
    for made in (first, second):
        shown = client.get(f"/api/sessions/{made['id']}").get_json()
        assert shown["timeline"] == made["timeline"]
    # Other cue options compile another timeline, stored once too.
    other = client.post("/api/sessions", json={"plan_id": plan_id, "options": {"countdown": 0}})
    assert other.status_code == 201
    assert rows(app, "SELECT count(*) FROM timelines")[0][0] == 2


def test_sessions_stored_before_shared_timelines_are_moved_across(tmp_path, shared_audio_cache):
    from server import db

    data = tmp_path / "old"
    data.mkdir()
    old = db.connect(data / "retrowalk.db")
    old.enable_wal()
    for number, migration in enumerate(db.MIGRATIONS[:4], start=1):
        with old.conn:
            old.conn.execute("BEGIN IMMEDIATE")
            migration(old)
            old.conn.execute(f"PRAGMA user_version = {number}")
    token = "a" * 32
    timeline = [
        {"seq": 0, "offset_ms": 0, "kind": "switch", "text": "Walk forward.", "segment": 0, "audio": "/audio/x.mp3"}
    ]
    old.execute("INSERT INTO devices (id, created_at) VALUES (?, 1)", [token])
    for session_id in ("old-one", "old-two"):
        old.execute(
            """INSERT INTO sessions (id, device_id, plan_id, plan_name, plan, options, timeline, state, created_at)
               VALUES (?, ?, 'p', 'Old', ?, '{}', ?, 'ready', 1)""",
            [session_id, token, '[{"kind": "forward", "seconds": 5}]', json.dumps(timeline)],
        )
    old.close()
    app = create_app(
        {"DATA_DIR": str(data), "AUDIO_CACHE": str(shared_audio_cache), "GTTS_ENABLED": False, "READY_SESSION_TTL_S": 0}
    )
    try:
        assert rows(app, "SELECT count(*) FROM timelines")[0][0] == 1
        assert rows(app, "SELECT DISTINCT timeline FROM sessions") == [("",)]
        client = app.test_client()
        client.set_cookie("rw_device", token)
        assert client.get("/api/sessions/old-two").get_json()["timeline"] == timeline
    finally:
        app.extensions["live"].stop()


# --- memory: idle sessions unloaded, reloaded on demand; abandoned sessions ended ------------------


class Phone:
    """A stand-in socket: collects what the hub delivers."""

    def __init__(self):
        """Nothing delivered yet."""
        self.messages: list[dict] = []

    def deliver(self, text: str, not_after: int | None = None) -> bool:
        """Keep the message."""
        self.messages.append(json.loads(text))
        return True


def manual_hub(app):
    """The app's hub with its scheduler thread kept off, so the test drives time by hand."""
    hub = app.extensions["live"]
    hub.stop()
    hub.start = lambda: None
    return hub


def test_a_running_session_nobody_watches_is_unloaded_and_still_finishes_at_its_end(walker):
    app, client, plan_id = walker(IDLE_UNLOAD_S=60)
    hub = manual_hub(app)
    session_id = new_session(client, plan_id).get_json()["id"]
    session = hub.control(session_id, "start")
    now, end = hub.clock(), session.end_at()
    hub.housekeep(now)
    assert session_id in hub.sessions  # not idle long enough yet
    hub.housekeep(now + 60_000)
    assert session_id not in hub.sessions and hub.metrics.sessions_unloaded == 1
    hub.tick(now=end + 1)
    assert rows(app, "SELECT state, ended_by FROM sessions WHERE id = ?", session_id) == [("finished", "complete")]
    assert session_id not in hub.sessions
    assert client.get(f"/api/sessions/{session_id}").get_json()["state"] == "finished"


def test_an_unloaded_session_comes_back_when_a_phone_reconnects_and_its_cues_go_on(walker):
    app, client, plan_id = walker(IDLE_UNLOAD_S=60)
    hub = manual_hub(app)
    session_id = new_session(client, plan_id).get_json()["id"]
    hub.control(session_id, "start")
    now = hub.clock()
    hub.housekeep(now)
    hub.housekeep(now + 60_000)
    assert session_id not in hub.sessions
    phone = Phone()
    session = hub.attach(session_id, phone)
    assert phone.messages[0]["type"] == "hello" and phone.messages[0]["state"] == "running"
    last = len(session.timeline) - 1
    hub.tick(now=session.due_ms(last) - hub.lead_ms)
    cues = [m for m in phone.messages if m["type"] == "cue"]
    assert cues and cues[-1]["seq"] == session.timeline[last]["seq"]


def test_an_abandoned_paused_session_is_stopped_after_the_longest_pause_even_unloaded(walker):
    app, client, plan_id = walker(IDLE_UNLOAD_S=60, LIVE_MAX_PAUSE_S=600)
    hub = manual_hub(app)
    session_id = new_session(client, plan_id).get_json()["id"]
    hub.control(session_id, "start")
    paused_at = hub.control(session_id, "pause").paused_at
    hub.housekeep(paused_at)
    hub.housekeep(paused_at + 60_000)
    assert session_id not in hub.sessions
    hub.tick(now=paused_at + 600_000 + 1)
    assert rows(app, "SELECT state, ended_by FROM sessions WHERE id = ?", session_id) == [("finished", "stopped")]


def test_sessions_never_started_are_forgotten_after_a_day_with_their_timelines(walker):
    app, client, plan_id = walker()
    hub = manual_hub(app)
    old, new = (new_session(client, plan_id).get_json()["id"] for _ in range(2))
    now = hub.clock()
    day_ms = 24 * 3600 * 1000
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        conn.execute("UPDATE sessions SET created_at = ? WHERE id = ?", [now - day_ms - 1, old])
    hub.housekeep(now)
    assert client.get(f"/api/sessions/{old}").status_code == 404
    assert client.get(f"/api/sessions/{new}").status_code == 200
    assert rows(app, "SELECT count(*) FROM timelines")[0][0] == 1
    hub.housekeep(now + day_ms + 1)
    assert client.get(f"/api/sessions/{new}").status_code == 404
    assert rows(app, "SELECT count(*) FROM timelines")[0][0] == 0


def test_a_walk_played_offline_counts_against_the_same_bound(walker):
    app, client, plan_id = walker(MAX_SESSIONS_PER_DEVICE=1)
    assert new_session(client, plan_id).status_code == 201
    t0 = app.extensions["live"].clock() - 60_000
    walk = {
        "plan_id": plan_id,
        "plan_name": "Short",
        "segments": PLAN["segments"],
        "options": {},
        "events": [{"type": "start", "at": t0}, {"type": "stop", "at": t0 + 5_000}],
    }
    refused = client.put("/api/sessions/offline/walk-0001", json=walk)
    assert refused.status_code == 409 and refused.get_json()["error"] == "too_many_sessions"


def test_a_device_that_never_stored_anything_is_forgotten_after_a_month(make_app):
    app = make_app()
    hub = manual_hub(app)
    visitor, walker_ = app.test_client(), app.test_client()
    visitor.get("/")
    walker_.post("/api/plans", json=PLAN)
    month_ms = 30 * 24 * 3600 * 1000
    hub.housekeep(hub.clock())
    assert device_count(app) == 2
    hub.housekeep(hub.clock() + month_ms + 1)
    assert device_count(app) == 1
    assert len([p for p in walker_.get("/api/plans").get_json() if not p["builtin"]]) == 1
    # The forgotten visitor's next write simply makes a new device.
    assert visitor.post("/api/plans", json=PLAN).status_code == 201
    assert device_count(app) == 2


def test_a_session_unloaded_twice_is_finished_once_and_not_kept_in_memory(walker):
    app, client, plan_id = walker(IDLE_UNLOAD_S=60)
    hub = manual_hub(app)
    session_id = new_session(client, plan_id).get_json()["id"]
    session = hub.control(session_id, "start")
    now, end = hub.clock(), session.end_at()
    for _ in range(2):  # unloaded, reloaded by a phone that left again, unloaded again
        hub.housekeep(now)
        hub.housekeep(now + 60_000)
        assert session_id not in hub.sessions
        phone = Phone()
        hub.attach(session_id, phone)
        hub.detach(session_id, phone)
    hub.housekeep(now)
    hub.housekeep(now + 60_000)
    hub.tick(now=end + 1)
    assert session_id not in hub.sessions
    assert rows(app, "SELECT count(*) FROM session_events WHERE session_id = ? AND type = 'finish'", session_id) == [
        (1,)
    ]


def test_a_device_keeps_at_most_so_many_plans(make_app, monkeypatch):
    from server.routes import plans

    monkeypatch.setattr(plans, "MAX_PLANS_PER_DEVICE", 2)
    app = make_app()
    client = app.test_client()
    made = [client.post("/api/plans", json=PLAN) for _ in range(2)]
    assert [r.status_code for r in made] == [201, 201]
    refused = client.post("/api/plans", json=PLAN)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "too_many_plans" and "delete one" in refused.get_json()["message"]
    assert client.delete(f"/api/plans/{made[0].get_json()['id']}").status_code == 204
    assert client.post("/api/plans", json=PLAN).status_code == 201
