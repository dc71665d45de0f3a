"""POST /api/sessions, GET /api/sessions/<id> and GET /api/history through requests, served in this process."""

from __future__ import annotations

import sqlite3

import pytest


@pytest.fixture(scope="module")
def server(app_server):
    """The app in this process (tests/wsgi_support.py): these routes need no socket and no process of their own."""
    return app_server


THREE_FIVES = [
    {"kind": "forward", "seconds": 5},
    {"kind": "reverse", "seconds": 5, "speed_mph": 1.5},
    {"kind": "forward", "seconds": 5},
]


def custom_plan(device, server, name="Three fives", segments=THREE_FIVES) -> dict:
    """A plan of this device's own."""
    response = device.post(server.url + "/api/plans", json={"name": name, "segments": segments}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_new_session_is_ready_with_its_socket_path_and_every_cue_audio_on_disk(server, device):
    plan = custom_plan(device, server)
    response = device.post(server.url + "/api/sessions", json={"plan_id": plan["id"]}, timeout=60)
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["ws"] == f"/ws/sessions/{session['id']}" and session["state"] == "ready"
    assert response.headers["Location"] == f"/api/sessions/{session['id']}"
    assert session["plan"]["segments"] == THREE_FIVES
    kinds = [cue["kind"] for cue in session["timeline"]]
    assert kinds.count("switch") == 3 and kinds[-1] == "complete" and "speed" in kinds
    assert [cue["seq"] for cue in session["timeline"]] == list(range(len(kinds)))
    for audio in {cue["audio"] for cue in session["timeline"]}:
        got = device.get(server.url + audio, timeout=10)
        assert got.status_code == 200 and got.headers["Content-Type"] == "audio/mpeg" and got.content


def test_options_choose_what_the_coach_says_and_in_which_language(server, device):
    plan = custom_plan(device, server)
    options = {"countdown": 0, "halfway": False, "time_remaining": False, "lang": "de", "units": "kmh"}
    session = device.post(
        server.url + "/api/sessions", json={"plan_id": plan["id"], "options": options}, timeout=60
    ).json()
    assert session["options"] == options
    assert "countdown" not in {cue["kind"] for cue in session["timeline"]}
    assert session["timeline"][0]["text"] == "Geh vorwärts los."
    assert any("Kilometer pro Stunde" in cue["text"] for cue in session["timeline"])


def test_a_built_in_plan_can_be_walked(server, device):
    plan_id = device.get(server.url + "/api/plans", timeout=10).json()[0]["id"]
    response = device.post(server.url + "/api/sessions", json={"plan_id": plan_id}, timeout=120)
    assert response.status_code == 201, response.text
    assert response.json()["plan"]["id"] == plan_id


def test_identical_plans_from_two_devices_share_one_track_and_a_changed_option_makes_another(server, device):
    # Pocket mode downloads a walk's whole track: walkers of the same plan with the same options
    # share one stored timeline and one track file; an option that changes what is said gets its own.
    other = server.client()
    first = device.post(
        server.url + "/api/sessions", json={"plan_id": custom_plan(device, server)["id"]}, timeout=60
    ).json()
    second = other.post(
        server.url + "/api/sessions", json={"plan_id": custom_plan(other, server)["id"]}, timeout=60
    ).json()
    assert second["timeline"] == first["timeline"] and second["track"] == first["track"]
    db = sqlite3.connect(server.data_dir / "retrowalk.db")
    try:
        stored = db.execute(
            "SELECT count(DISTINCT timeline_id) FROM sessions WHERE id IN (?, ?)", [first["id"], second["id"]]
        ).fetchone()[0]
    finally:
        db.close()
    assert stored == 1
    quieter = device.post(
        server.url + "/api/sessions", json={"plan_id": first["plan"]["id"], "options": {"countdown": 0}}, timeout=60
    ).json()
    assert quieter["timeline"] != first["timeline"] and quieter["track"] != first["track"]


@pytest.mark.parametrize(
    "options, words",
    [
        ({"countdown": 4}, "Countdown"),
        ({"countdown": "3"}, "Countdown"),
        ({"countdown": True}, "Countdown"),
        ({"countdown": 3.0}, "Countdown"),
        ({"lang": "xx"}, "language"),
        ({"units": "furlongs"}, "Units"),
        ({"halfway": "yes"}, "true or false"),
        ({"shout": True}, "Unknown option"),
        ([1, 2], "object"),
    ],
)
def test_options_outside_the_closed_set_are_refused(server, device, options, words):
    plan = custom_plan(device, server)
    response = device.post(server.url + "/api/sessions", json={"plan_id": plan["id"], "options": options}, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_options" and words in response.json()["message"]


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({"plan_id": "no-such-plan"}, 404, "not_found"),
        ({}, 404, "not_found"),
        ({"plan_id": 7}, 404, "not_found"),
        ({"plan_id": "x", "extra": 1}, 400, "invalid_request"),
        ([1], 400, "invalid_request"),
    ],
)
def test_bad_session_requests_are_refused_with_the_one_error_shape(server, device, body, status, error):
    response = device.post(server.url + "/api/sessions", json=body, timeout=30)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["message"]


def test_a_body_that_is_not_json_is_refused(server, device):
    response = device.post(
        server.url + "/api/sessions", data="plan", headers={"Content-Type": "text/plain"}, timeout=30
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


def test_another_devices_plan_and_session_are_not_found(server, device):
    plan = custom_plan(device, server)
    session = device.post(server.url + "/api/sessions", json={"plan_id": plan["id"]}, timeout=60).json()
    stranger = server.client()
    assert stranger.post(server.url + "/api/sessions", json={"plan_id": plan["id"]}, timeout=30).status_code == 404
    assert stranger.get(server.url + f"/api/sessions/{session['id']}", timeout=10).status_code == 404
    assert all(e["id"] != session["id"] for e in stranger.get(server.url + "/api/history", timeout=10).json())


def test_a_session_shows_its_plan_clock_and_timeline_to_its_device(server, device):
    plan = custom_plan(device, server)
    created = device.post(server.url + "/api/sessions", json={"plan_id": plan["id"]}, timeout=60).json()
    shown = device.get(server.url + f"/api/sessions/{created['id']}", timeout=10).json()
    assert shown["id"] == created["id"] and shown["state"] == "ready" and shown["started_at"] is None
    assert shown["timeline"] == created["timeline"] and shown["plan_name"] == "Three fives"


def test_history_lists_this_devices_sessions_newest_first(server, device):
    names = ["First", "Second", "Third"]
    for name in names:
        plan = custom_plan(device, server, name=name)
        assert device.post(server.url + "/api/sessions", json={"plan_id": plan["id"]}, timeout=60).status_code == 201
    history = device.get(server.url + "/api/history", timeout=10).json()
    assert [entry["plan_name"] for entry in history[:3]] == names[::-1]
    newest = history[0]
    assert newest["state"] == "ready" and newest["started_at"] is None and newest["finished_at"] is None
    assert newest["summary"] is None and newest["planned_seconds"] == 15 and newest["ws"].startswith("/ws/sessions/")
    page = device.get(
        server.url + "/api/history", params={"limit": 1, "before": newest["created_at"]}, timeout=10
    ).json()
    assert len(page) == 1 and page[0]["created_at"] < newest["created_at"]
    assert device.get(server.url + "/api/history", params={"limit": "many"}, timeout=10).status_code == 400


def test_a_finished_walk_can_be_deleted_by_its_device_only_and_leaves_history_and_stats(server, device):
    import time as clock

    import requests

    from test_coaching_api import seed_finished_session

    started = int(clock.time() * 1000) - 3_600_000
    seed_finished_session(
        server,
        device,
        started_at=started,
        segments=THREE_FIVES,
        walked=[5, 5, 5],
        ended_by="stopped",
        plan_id="my-false-start",
        plan_name="False start",
    )
    session_id = f"seed-{started}-my-false-start"
    before = device.get(server.url + "/api/stats/week", timeout=10).json()["walks"]
    stranger = requests.Session()
    stranger.get(server.url + "/", timeout=10)
    assert stranger.delete(server.url + f"/api/sessions/{session_id}", timeout=10).status_code == 404
    assert device.delete(server.url + f"/api/sessions/{session_id}", timeout=10).status_code == 204
    assert session_id not in [entry["id"] for entry in device.get(server.url + "/api/history", timeout=10).json()]
    assert device.get(server.url + f"/api/sessions/{session_id}", timeout=10).status_code == 404
    assert device.get(server.url + "/api/stats/week", timeout=10).json()["walks"] <= before
    assert device.delete(server.url + f"/api/sessions/{session_id}", timeout=10).status_code == 404


def test_a_walk_under_way_cannot_be_deleted(server, device):
    plan = custom_plan(device, server, name="Not yet")
    session = device.post(server.url + "/api/sessions", json={"plan_id": plan["id"]}, timeout=60).json()
    response = device.delete(server.url + f"/api/sessions/{session['id']}", timeout=10)
    assert response.status_code == 409 and response.json()["error"] == "session_not_finished"
