"""Random message sequences on the session websocket, from a real client to a real server.

Hypothesis draws sequences of controls (with and without an `at`), pings with odd `t`s and
junk (binary frames, broken and deeply nested JSON, over-long text, unknown types). After each
message a marked ping must come back as a pong, so the socket is alive; every frame the server
sends must be one of the protocol's messages; the session's invariants must hold (legal state
changes only, no cue due before the workout started, never a negative position, never an
`internal` error); and the HTTP view of the session must agree with the last state seen.
Derandomized, with a bounded number of examples, so a run is the same every time and short.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.walkclock import CONTROLS

SEGMENTS = [{"kind": "forward", "seconds": 5}, {"kind": "reverse", "seconds": 5}, {"kind": "forward", "seconds": 5}]
WAIT_S = 15  # generous: two busy cores
EXAMPLES = 30
MAX_STEPS = 10
# Above the server's own 4,096-byte message limit, below simple-websocket's 64 KB frame limit
# (over that it closes with 1009, "message too big", by design: simple-websocket's max_message_size).
OVERSIZE_BYTES = 6000
SERVER_MESSAGES = {"hello", "state", "cue", "finished", "error", "pong"}
# (before, after) for every `state` message a control may cause.
LEGAL_CHANGES = {
    ("ready", "running"),
    ("running", "paused"),
    ("paused", "running"),
    ("running", "running"),
    ("paused", "paused"),  # a skip
    ("ready", "finished"),
    ("running", "finished"),
    ("paused", "finished"),
}

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(time.time() * 1000),
)
odd_values = st.one_of(numbers, st.text(max_size=20), st.none(), st.booleans(), st.lists(st.integers(), max_size=3))
controls = st.builds(lambda kind: {"type": kind}, st.sampled_from(CONTROLS))
timed_controls = st.builds(lambda kind, at: {"type": kind, "at": at}, st.sampled_from(CONTROLS), odd_values)
pings = st.builds(lambda t: {"type": "ping", "t": t}, odd_values)
junk = st.one_of(
    st.text(max_size=50),
    st.binary(min_size=1, max_size=50),
    st.integers(min_value=2, max_value=3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(min_value=2, max_value=3000).map(lambda depth: '{"type":' * depth + '"ping"' + "}" * depth),
    st.just("x" * OVERSIZE_BYTES),
    st.just('{"type": "ping", "t": NaN}'),
    st.just('{"type": "pause", "at": 1e400}'),
    st.just('{"type": "start\\ud800"}'),
    st.builds(lambda kind: {"type": kind}, st.text(max_size=30)),
    st.dictionaries(st.text(max_size=8), odd_values, max_size=4),
    st.lists(odd_values, max_size=4),
)
messages = st.lists(st.one_of(controls, controls, timed_controls, pings, junk), min_size=1, max_size=MAX_STEPS)


def cookie_of(device: requests.Session) -> str:
    """The device's cookies as a Cookie header."""
    return "; ".join(f"{c.name}={c.value}" for c in device.cookies)


def new_walker(server) -> tuple[requests.Session, str]:
    """A new device with a short plan of its own per example, so no per-device bound or rate limit is shared."""
    device = server.client()
    plan = device.post(server.url + "/api/plans", json={"name": "Fuzz", "segments": SEGMENTS}, timeout=30)
    assert plan.status_code == 201, plan.text
    return device, plan.json()["id"]


class Invariants:
    """The session as the frames tell it, checked against the protocol's rules frame by frame."""

    def __init__(self, hello: dict):
        """Start from the session as `hello` shows it."""
        assert hello["type"] == "hello", hello
        self.state = hello["state"]
        self.started_at = hello["session"]["started_at"]

    def see(self, frame: dict) -> None:
        """Check one frame from the server."""
        kind = frame.get("type")
        assert kind in SERVER_MESSAGES, f"unknown frame {frame!r}"
        if kind == "error":
            assert isinstance(frame.get("error"), str) and isinstance(frame.get("message"), str), frame
            assert frame["error"] != "internal", f"the server failed on a message: {frame!r}"
        elif kind == "state":
            assert (self.state, frame["state"]) in LEGAL_CHANGES, f"illegal change {self.state} -> {frame['state']}"
            self.state = frame["state"]
            if frame.get("started_at") is not None:
                self.started_at = frame["started_at"]
                assert frame["position_ms"] >= 0, frame
        elif kind == "cue":
            assert self.started_at is not None, f"a cue before the start: {frame!r}"
            assert frame["due"] >= self.started_at, f"a cue due before the workout started: {frame!r}"


def round_trip(ws, marker: int, invariants: Invariants) -> None:
    """Send a marked ping and read (checking every frame) until its pong: the socket is alive."""
    ws.send(json.dumps({"type": "ping", "t": marker}))
    deadline = time.monotonic() + WAIT_S
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "no pong: the socket stopped answering"
        frame = json.loads(ws.recv(timeout=remaining))
        assert isinstance(frame, dict), frame
        invariants.see(frame)
        if frame["type"] == "pong" and frame.get("t") == marker:
            return


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=messages)
def test_random_messages_never_kill_the_socket_or_break_the_session(server, sequence):
    device, plan_id = new_walker(server)
    created = device.post(server.url + "/api/sessions", json={"plan_id": plan_id}, timeout=60)
    assert created.status_code == 201, created.text
    session = created.json()
    with connect(
        server.ws_url + session["ws"], additional_headers={"Cookie": cookie_of(device)}, open_timeout=WAIT_S
    ) as ws:
        invariants = Invariants(json.loads(ws.recv(timeout=WAIT_S)))
        for step, message in enumerate(sequence):
            try:
                ws.send(json.dumps(message) if isinstance(message, (dict, list)) else message)
                round_trip(ws, step, invariants)
            except ConnectionClosed as closed:
                pytest.fail(f"the server closed the socket after {message!r:.80}: {closed}")
        if invariants.state != "finished":
            # Leave nothing running: a stop is always legal before the end, and the socket still answers after it.
            ws.send('{"type": "stop"}')
            round_trip(ws, len(sequence), invariants)
    shown = device.get(server.url + f"/api/sessions/{session['id']}", timeout=WAIT_S)
    assert shown.status_code == 200, shown.text
    # A running workout may have ended on its own since the last frame; nothing else changes it.
    assert shown.json()["state"] == invariants.state or (
        invariants.state == "running" and shown.json()["state"] == "finished"
    )
