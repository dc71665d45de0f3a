"""Hostile input and hostile conditions (issue 9): every one gets a 4xx JSON error or a socket `error`, never a 500."""

from __future__ import annotations

import json

import pytest

from server import create_app
from server import ws as socket_layer

PLAN = {"name": "Lunch walk", "segments": [{"kind": "reverse", "seconds": 60}]}
DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.fixture
def app(tmp_path):
    """An app on a temporary database, never calling Google's voice."""
    return create_app({"DATA_DIR": str(tmp_path / "data"), "AUDIO_CACHE": str(tmp_path / "audio"), "GTTS_ENABLED": False})


@pytest.fixture
def client(app):
    """A device: the test client keeps the cookie of its first request."""
    client = app.test_client()
    client.get("/")
    return client


def hostile_bodies() -> list[tuple[str, str]]:
    """JSON texts the server must refuse as invalid_json, by name."""
    segment = '{"kind": "reverse", "seconds": %s}'
    return [
        ("nested 1,000 deep", DEEP),
        ("objects nested 1,000 deep", DEEP_OBJECT),
        ("NaN", '{"name": "x", "segments": [%s]}' % (segment % "NaN")),
        ("Infinity", '{"name": "x", "segments": [%s]}' % (segment % "Infinity")),
        ("-Infinity", '{"name": "x", "segments": [%s]}' % (segment % "-Infinity")),
        ("1e400", '{"name": "x", "segments": [%s]}' % (segment % "1e400")),
        ("beyond 64 bits", '{"name": "x", "segments": [%s]}' % (segment % str(2**64))),
        ("lone surrogate in a name", '{"name": "a\\ud800", "segments": [%s]}' % (segment % "60")),
        ("lone surrogate in a description", '{"name": "a", "description": "\\udfff", "segments": [%s]}' % (segment % "60")),
        ("lone surrogate in a key", '{"\\ud800": 1}'),
        ("not UTF-8", b'{"name": "\xff"}'),
    ]


def json_routes(client) -> list[tuple[str, str]]:
    """Every route that reads a JSON body, as (method, path)."""
    own = client.post("/api/plans", json=PLAN).json["id"]
    return [("POST", "/api/plans"), ("PUT", f"/api/plans/{own}"), ("PUT", "/api/settings"), ("POST", "/api/sessions")]


@pytest.mark.parametrize("name, body", hostile_bodies(), ids=[name for name, _ in hostile_bodies()])
def test_hostile_json_is_refused_the_same_way_on_every_route(client, name, body):
    for method, path in json_routes(client):
        response = client.open(path, method=method, data=body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.json)
        assert response.json["error"] == "invalid_json" and response.json["message"]


def test_a_lone_surrogate_plan_id_is_refused_not_looked_up(client):
    response = client.post("/api/sessions", data='{"plan_id": "a\\ud800"}', content_type="application/json")
    assert response.status_code == 400 and response.json["error"] == "invalid_json"


def test_ordinary_json_still_works_with_paired_surrogates_and_plain_numbers(client):
    created = client.post("/api/plans", data=json.dumps({**PLAN, "name": "Walk 🚶"}), content_type="application/json")
    assert created.status_code == 201 and created.json["name"] == "Walk 🚶"
    changed = client.put("/api/settings", json={"weight_kg": 70.5})
    assert changed.status_code == 200 and changed.json["weight_kg"] == 70.5


@pytest.mark.parametrize(
    "query",
    [
        "/api/stats/weeks?weeks=²",
        "/api/stats/weeks?weeks=١٢",
        "/api/stats/weeks?weeks=１２",
        "/api/stats/weeks?weeks=99999999999999999999999",
        "/api/history?before=9223372036854775808",
        "/api/history?before=-1",
        "/api/history?limit=²",
        "/api/history?limit=" + "9" * 5000,
        "/api/history?before=1_000",
        "/api/history?before=%201",
    ],
)
def test_query_numbers_are_ascii_digits_within_64_bits(client, query):
    response = client.get(query)
    assert response.status_code == 400, response.json
    assert set(response.json) == {"error", "message"}


def test_query_numbers_in_range_still_work(client):
    assert client.get("/api/stats/weeks?weeks=12").status_code == 200
    assert client.get("/api/history?before=9223372036854775807&limit=0").status_code == 200


class IdleHub:
    """A hub that answers pings and would accept any control."""

    def clock(self) -> int:
        return 1

    def control(self, session_id, kind):
        return None


@pytest.mark.parametrize(
    "frame",
    [DEEP, DEEP_OBJECT, '{"type": "ping", "t": NaN}', '{"type": "ping", "t": 1e400}', '{"type": "ping", "t": Infinity}',
     '{"type": "pause", "note": "\\ud800"}', "not json"],
)
def test_hostile_socket_frames_get_the_same_error_as_http(frame):
    # A generous size limit, so the JSON reader (not the size check) is what answers.
    reply = socket_layer.answer(IdleHub(), "s", frame, 64 * 1024)
    assert reply["type"] == "error" and reply["error"] == "invalid_json" and reply["message"]
