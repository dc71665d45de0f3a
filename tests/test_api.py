"""The HTTP API through requests, served by the app in this process (tests/wsgi_support.py), with a real SQLite file."""

import shutil
import subprocess

import pytest
import requests


@pytest.fixture(scope="module")
def server(app_server):
    """The app in this process: the HTTP API needs no socket and no process of its own."""
    return app_server


GOOD_PLAN = {
    "name": "Lunch walk",
    "description": "Two bouts",
    "segments": [
        {"kind": "warmup", "seconds": 60, "speed_mph": 2.5},
        {"kind": "reverse", "seconds": 60, "speed_mph": 1.5},
        {"kind": "cooldown", "seconds": 60},
    ],
}


def test_health(server):
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"ok": True}


def test_a_device_gets_an_httponly_cookie_on_its_first_visit(server):
    # The app's page (or a first write) makes the device; a cookieless read makes none (test_storage_bounds.py).
    response = requests.get(server.url + "/", timeout=10)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("rw_device=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_cookie_is_set_once(device, server):
    assert "Set-Cookie" not in device.get(server.url + "/api/plans", timeout=10).headers


def test_plans_list_has_the_builtin_plans_with_totals(device, server):
    plans = device.get(server.url + "/api/plans", timeout=10).json()
    by_id = {p["id"]: p for p in plans}
    assert {"first-steps", "knee-friendly-10", "intervals-20"} <= set(by_id)
    for plan in plans:
        assert plan["total_seconds"] == sum(s["seconds"] for s in plan["segments"])
        backward = sum(s["seconds"] for s in plan["segments"] if s["kind"] == "reverse")
        # reverse_seconds is the older name of backward_seconds, kept for readers that know only it.
        assert plan["backward_seconds"] == plan["reverse_seconds"] == backward
        assert plan["name"] and plan["description"]


def test_a_custom_plan_belongs_to_its_device(server):
    mine, theirs = server.client(), server.client()
    created = mine.post(server.url + "/api/plans", json=GOOD_PLAN, timeout=10)
    assert created.status_code == 201
    plan = created.json()
    assert plan["total_seconds"] == 180 and plan["backward_seconds"] == 60 and not plan["builtin"]
    assert plan["id"] in [p["id"] for p in mine.get(server.url + "/api/plans", timeout=10).json()]
    assert plan["id"] not in [p["id"] for p in theirs.get(server.url + "/api/plans", timeout=10).json()]
    stolen = theirs.get(f"{server.url}/api/plans/{plan['id']}", timeout=10)
    assert stolen.status_code == 404 and stolen.json()["error"] == "not_found"
    assert theirs.delete(f"{server.url}/api/plans/{plan['id']}", timeout=10).status_code == 404
    assert mine.get(f"{server.url}/api/plans/{plan['id']}", timeout=10).json()["name"] == "Lunch walk"


def test_a_custom_plan_can_be_edited_and_deleted(device, server):
    plan = device.post(server.url + "/api/plans", json=GOOD_PLAN, timeout=10).json()
    edited = device.put(f"{server.url}/api/plans/{plan['id']}", json={**GOOD_PLAN, "name": "Longer"}, timeout=10)
    assert edited.json()["name"] == "Longer"
    assert device.delete(f"{server.url}/api/plans/{plan['id']}", timeout=10).status_code == 204
    assert device.get(f"{server.url}/api/plans/{plan['id']}", timeout=10).status_code == 404


def test_builtin_plans_cannot_be_changed(device, server):
    response = device.put(server.url + "/api/plans/first-steps", json=GOOD_PLAN, timeout=10)
    assert response.status_code == 403 and response.json()["error"] == "builtin_plan"


@pytest.mark.parametrize(
    "body, status, code, words",
    [
        ({"name": "x", "segments": [{"kind": "reverse", "seconds": 2}]}, 400, "invalid_plan", "5 to 3600 seconds"),
        ({"name": "x", "segments": [{"kind": "sideways", "seconds": 60}]}, 400, "invalid_plan", "kind must be one of"),
        ({"name": "x", "segments": "lots"}, 400, "invalid_plan", "list of at least one segment"),
        ({"segments": [{"kind": "reverse", "seconds": 60}]}, 400, "invalid_plan", "needs a name"),
        ([1, 2, 3], 400, "invalid_plan", "must be a JSON object"),
        ("just a string", 400, "invalid_plan", "must be a JSON object"),
    ],
)
def test_bad_plans_get_a_400_with_a_message(device, server, body, status, code, words):
    response = device.post(server.url + "/api/plans", json=body, timeout=10)
    assert response.status_code == status
    assert response.json()["error"] == code and words in response.json()["message"]


def test_bad_json_and_huge_bodies_are_clear_4xx(device, server):
    bad = device.post(
        server.url + "/api/plans", data="{not json", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_json"
    huge = device.post(
        server.url + "/api/plans", data="x" * (1024 * 1024), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert huge.status_code == 413 and huge.json()["message"] == "The request body is too large."


def test_unknown_routes_and_methods_answer_in_the_error_shape(device, server):
    missing = device.get(server.url + "/api/nothing", timeout=10)
    assert missing.status_code == 404 and set(missing.json()) == {"error", "message"}
    wrong = device.delete(server.url + "/api/plans", timeout=10)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert "Traceback" not in missing.text + wrong.text


def _cached_file(server) -> str:
    """Render one phrase through the server's own cache folder and return its file name."""
    from server.voice import AudioCache

    return (
        AudioCache(server.audio_cache, gtts_enabled=False)
        .ensure(["Switch to reverse."], "en")["Switch to reverse."]
        .file
    )


def test_audio_is_served_immutable_with_an_etag(server):
    name = _cached_file(server)
    response = requests.get(f"{server.url}/audio/{name}", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert "immutable" in response.headers["Cache-Control"] and "max-age=31536000" in response.headers["Cache-Control"]
    assert response.content[:3] == b"ID3" or response.content[0] == 0xFF
    again = requests.get(f"{server.url}/audio/{name}", headers={"If-None-Match": response.headers["ETag"]}, timeout=10)
    assert again.status_code == 304


@pytest.mark.skipif(not shutil.which("sox"), reason="sox is not installed (./tests/run installs it)")
def test_served_audio_plays_and_is_not_silent(server, tmp_path):
    name = _cached_file(server)
    path = tmp_path / "cue.mp3"
    path.write_bytes(requests.get(f"{server.url}/audio/{name}", timeout=10).content)
    stat = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    figures = dict(line.split(":", 1) for line in stat.splitlines() if ":" in line)
    assert 0.4 < float(figures["Length (seconds)"]) < 4
    assert float(figures["RMS     amplitude"]) > 0.02


@pytest.mark.parametrize("name", ["..%2Fretrowalk.db", "index.db", "abc.mp3", "%2Fetc%2Fpasswd", "A" * 64 + ".mp3"])
def test_audio_gives_no_way_out_of_the_cache(server, name):
    response = requests.get(f"{server.url}/audio/{name}", timeout=10)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
