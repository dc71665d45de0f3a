"""Disk and memory stay bounded (issue 9): devices only when needed, per-device session bounds,
timelines stored once, idle sessions unloaded and reloaded, abandoned sessions ended."""

from __future__ import annotations

import sqlite3

import pytest

from server import create_app

PLAN = {"name": "Short", "segments": [{"kind": "forward", "seconds": 5}, {"kind": "reverse", "seconds": 5}]}


@pytest.fixture
def make_app(tmp_path, shared_audio_cache):
    """A factory of apps on a fresh database (cue audio shared across tests, offline voice)."""
    apps = []

    def make(**config):
        app = create_app({
            "DATA_DIR": str(tmp_path / f"data{len(apps)}"), "AUDIO_CACHE": str(shared_audio_cache), "GTTS_ENABLED": False,
            **config,
        })
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
    for path in ("/api/plans", "/api/settings", "/api/stats/week", "/api/history", "/api/programmes", "/no/such/page",
                 "/api/sessions/nope", "/api/plans/my-nope"):
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
    # Another device is not affected by this one's history.
    other = app.test_client()
    other_plan = other.post("/api/plans", json=PLAN).get_json()["id"]
    assert new_session(other, other_plan).status_code == 201
