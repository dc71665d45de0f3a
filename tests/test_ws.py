"""The session websocket against a real `retrowalk serve` on 127.0.0.1, with a real websocket client.

Longer than 450 lines: the socket's whole contract (hello, controls, cues on time, errors,
reconnects, several devices on one walk) against one real server, with shared client helpers.

Time bounds here are generous (CI has two busy cores); the strict targets live in
bench/bench_capacity.py.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from server import security
from server import ws as socket_layer

THREE_FIVES = [{"kind": "forward", "seconds": 5}, {"kind": "reverse", "seconds": 5}, {"kind": "forward", "seconds": 5}]
LEAD_MS = 1500  # the server's default CUE_LEAD_MS: a cue is pushed this long before its due
START_LEAD_MS = 500  # the server's default START_LEAD_MS: a start takes effect this long after the tap
WAIT_S = 10  # the longest any single expected message may take to come


def now_ms() -> int:
    """This machine's clock, which is also the server's."""
    return int(time.time() * 1000)


def cookie_of(device: requests.Session) -> str:
    """The device's cookies as a Cookie header."""
    return "; ".join(f"{c.name}={c.value}" for c in device.cookies)


def create_session(device: requests.Session, base_url: str, segments=THREE_FIVES, **options) -> dict:
    """A custom plan of `segments` and a session of it, as the phone creates them."""
    plan = device.post(base_url + "/api/plans", json={"name": "Three fives", "segments": segments}, timeout=30)
    assert plan.status_code == 201, plan.text
    body = {"plan_id": plan.json()["id"]}
    if options:
        body["options"] = options
    response = device.post(base_url + "/api/sessions", json=body, timeout=60)
    assert response.status_code == 201, response.text
    return response.json()


class Listener:
    """A websocket client whose messages are collected, with their arrival time, by a thread."""

    def __init__(self, url: str, cookie: str | None = None, origin: str | None = None):
        headers = {"Cookie": cookie} if cookie else {}
        # __enter__ opens it on every websockets version (17 warns about connect() used bare).
        self.ws = connect(url, additional_headers=headers, origin=origin, open_timeout=WAIT_S).__enter__()
        self.messages: list[tuple[dict, int]] = []
        self.cursor = 0
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for raw in self.ws:
                at = now_ms()
                with self.changed:
                    self.messages.append((json.loads(raw), at))
                    self.changed.notify_all()
        except ConnectionClosed:
            pass

    def send(self, message: dict | str | bytes) -> None:
        """Send a message (a dict as JSON, text or bytes as they are)."""
        self.ws.send(json.dumps(message) if isinstance(message, dict) else message)

    def next(self, match=lambda m: True, timeout: float = WAIT_S) -> tuple[dict, int]:
        """The next message after the last one returned that matches, and when it arrived."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                while self.cursor < len(self.messages):
                    message, at = self.messages[self.cursor]
                    self.cursor += 1
                    if match(message):
                        return message, at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching message within {timeout} s; got {[m for m, _ in self.messages]}")
                self.changed.wait(left)

    def of_type(self, kind: str) -> list[tuple[dict, int]]:
        """Every message of one type so far, with arrival times."""
        with self.changed:
            return [(m, at) for m, at in self.messages if m["type"] == kind]

    def close(self) -> None:
        self.ws.close()
        self.thread.join(timeout=5)


def of(kind: str, **fields):
    """A matcher for the next message of a type (and fields)."""
    return lambda m: m["type"] == kind and all(m.get(k) == v for k, v in fields.items())


@pytest.fixture
def workout(server, device):
    """A fresh session of three 5-second segments on the shared server, and a way to open its socket."""
    session = create_session(device, server.url)
    opened: list[Listener] = []

    def open_socket(**kwargs) -> Listener:
        listener = Listener(server.ws_url + session["ws"], cookie_of(device), **kwargs)
        opened.append(listener)
        return listener

    yield session, open_socket
    for listener in opened:
        listener.close()


def test_hello_carries_the_session_its_clock_and_every_cue_with_its_audio(server, device, workout):
    session, open_socket = workout
    hello, at = open_socket().next()
    assert hello["type"] == "hello" and hello["state"] == "ready"
    assert abs(hello["server_time"] - at) < 5_000
    assert hello["session"]["id"] == session["id"] and hello["session"]["segments"] == THREE_FIVES
    assert hello["session"]["started_at"] is None and hello["lead_ms"] == LEAD_MS
    assert hello["start_lead_ms"] == START_LEAD_MS
    assert hello["timeline"] == session["timeline"]
    for audio in {cue["audio"] for cue in hello["timeline"]}:
        response = device.get(server.url + audio, timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"] == "audio/mpeg"


@pytest.mark.realtime(seconds=16)
def test_every_cue_arrives_in_order_before_its_due_on_every_socket_of_the_session(server, device, workout):
    session, open_socket = workout
    phone, tablet = open_socket(), open_socket()
    for listener in (phone, tablet):
        listener.next(of("hello"))
    phone.send({"type": "start"})
    for listener in (phone, tablet):
        state, _ = listener.next(of("state", event="start"))
        assert state["state"] == "running"
        finished, finished_at = listener.next(of("finished"), timeout=15 + WAIT_S)
        cues = listener.of_type("cue")
        assert [cue["seq"] for cue, _ in cues] == [cue["seq"] for cue in session["timeline"]]
        for (cue, received), planned in zip(cues, session["timeline"]):
            assert cue["due"] == state["started_at"] + planned["offset_ms"], "due is exactly start + offset"
            assert received < cue["due"], f"cue {cue['seq']} arrived {received - cue['due']} ms late"
            assert (cue["kind"], cue["text"], cue["audio"]) == (planned["kind"], planned["text"], planned["audio"])
        assert finished_at >= cues[-1][1]
        assert [m["event"] for m, _ in listener.of_type("state")] == ["start", "complete"]
        summary = finished["summary"]
        assert (summary["forward_seconds"], summary["backward_seconds"], summary["ended_by"]) == (10.0, 5.0, "complete")
    # `finished` is only sent once the workout is committed.
    entry = next(e for e in device.get(server.url + "/api/history", timeout=10).json() if e["id"] == session["id"])
    assert entry["state"] == "finished" and entry["summary"] == summary


@pytest.mark.realtime(seconds=9)
def test_a_pause_moves_every_later_cue_by_the_time_paused(workout):
    session, open_socket = workout
    phone = open_socket()
    phone.next(of("hello"))
    phone.send({"type": "start"})
    started, _ = phone.next(of("state", event="start"))
    start = started["started_at"]
    # Pause 2.2 s into the first segment: "Three" (2 s) is said, "Two" (3 s) is already on its way.
    time.sleep(max(start + 2_200 - now_ms(), 0) / 1000)
    pressed = time.monotonic()
    phone.send({"type": "pause"})
    paused, _ = phone.next(of("state", event="pause"))
    time.sleep(2)
    phone.send({"type": "resume"})
    measured_ms = (time.monotonic() - pressed) * 1000
    resumed, _ = phone.next(of("state", event="resume"))
    assert paused["state"] == "paused" and resumed["state"] == "running"
    shift = resumed["shift_ms"]
    assert shift == resumed["at"] - paused["at"], "the shift is exactly the time paused"
    assert abs(shift - measured_ms) < 300
    assert paused["next_seq"] == 2, "the cue on its way at the pause is withdrawn"
    # Every cue from next_seq on comes again with its due moved by the pause, and before it.
    for planned in session["timeline"][2:6]:
        cue, received = phone.next(of("cue", seq=planned["seq"]))
        assert cue["due"] == start + planned["offset_ms"] + shift
        assert received < cue["due"]
    phone.send({"type": "stop"})
    finished, _ = phone.next(of("finished"))
    assert abs(finished["summary"]["paused_seconds"] - shift / 1000) <= 0.1


@pytest.mark.realtime(seconds=3)
def test_a_skip_starts_the_next_segment_and_brings_every_later_cue_forward(workout):
    session, open_socket = workout
    phone = open_socket()
    phone.next(of("hello"))
    phone.send({"type": "start"})
    started, _ = phone.next(of("state", event="start"))
    phone.next(of("cue", seq=0))
    time.sleep(max(started["started_at"] + 300 - now_ms(), 0) / 1000)
    phone.send({"type": "skip"})
    skipped, _ = phone.next(of("state", event="skip"))
    assert skipped["skipped_segments"] == [0] and skipped["shift_ms"] < 0
    reverse_switch = next(c for c in session["timeline"] if c["kind"] == "switch" and c["segment"] == 1)
    assert skipped["next_seq"] == reverse_switch["seq"], "the rest of the skipped segment is not said"
    cue, received = phone.next(of("cue"))
    assert cue["seq"] == reverse_switch["seq"]
    assert cue["due"] == skipped["at"] + START_LEAD_MS, "the next segment starts one start lead after the skip"
    assert cue["due"] == started["started_at"] + cue["offset_ms"] + skipped["shift_ms"]
    assert received < cue["due"]
    later, received = phone.next(of("cue"))
    assert later["due"] == started["started_at"] + later["offset_ms"] + skipped["shift_ms"] and received < later["due"]
    phone.send({"type": "stop"})
    finished, _ = phone.next(of("finished"))
    summary = finished["summary"]
    assert summary["skipped_segments"] == [0] and summary["forward_seconds"] < 5


def test_stop_ends_the_workout_with_a_summary_and_the_socket_stays_open(server, device, workout):
    session, open_socket = workout
    phone = open_socket()
    phone.next(of("hello"))
    phone.send({"type": "start"})
    phone.next(of("cue", seq=0))
    phone.send({"type": "stop"})
    state, _ = phone.next(of("state"))
    assert (state["state"], state["event"]) == ("finished", "stopped")
    finished, _ = phone.next(of("finished"))
    assert finished["summary"]["ended_by"] == "stopped"
    entry = next(e for e in device.get(server.url + "/api/history", timeout=10).json() if e["id"] == session["id"])
    assert entry["state"] == "finished" and entry["ended_by"] == "stopped"
    for control in ("start", "pause", "resume", "skip", "stop"):
        phone.send({"type": control})
        error, _ = phone.next(of("error"))
        assert error["error"] == "finished" and error["message"]
    phone.send({"type": "ping", "t": 42})
    pong, _ = phone.next(of("pong"))
    assert pong["t"] == 42
    # A phone that comes back later is told the workout is over, with its summary.
    hello, _ = open_socket().next(of("hello"))
    assert hello["state"] == "finished" and hello["session"]["summary"] == finished["summary"]


@pytest.mark.parametrize(
    "frame, code",
    [
        ("this is not json", "invalid_json"),
        ("[" * 1000 + "]" * 1000, "invalid_json"),
        ("[1, 2]", "bad_message"),
        ('{"kind": "start"}', "bad_message"),
        (b"\x00\x01binary", "bad_message"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "ping", "t": "noon"}', "bad_message"),
        (json.dumps({"type": "start", "padding": "x" * 5_000}), "too_large"),
        ('{"type": "pause"}', "not_running"),
        ('{"type": "resume"}', "not_paused"),
        ('{"type": "skip"}', "not_started"),
    ],
)
def test_a_bad_message_is_answered_with_an_error_and_harms_nothing(workout, frame, code):
    session, open_socket = workout
    phone = open_socket()
    phone.next(of("hello"))
    phone.send(frame)
    error, _ = phone.next(of("error"))
    assert error["error"] == code and error["message"]
    # The socket is still open and the session still ready to start.
    phone.send({"type": "start"})
    state, _ = phone.next(of("state"))
    assert state["state"] == "running"
    cue, received = phone.next(of("cue", seq=0))
    assert received < cue["due"]


def test_controls_that_do_not_apply_while_running_are_refused(workout):
    _, open_socket = workout
    phone = open_socket()
    phone.next(of("hello"))
    phone.send({"type": "start"})
    phone.next(of("state", event="start"))
    for control, code in (("start", "already_started"), ("resume", "not_paused")):
        phone.send({"type": control})
        assert phone.next(of("error"))[0]["error"] == code
    phone.send({"type": "pause"})
    phone.next(of("state", event="pause"))
    phone.send({"type": "pause"})
    assert phone.next(of("error"))[0]["error"] == "not_running"
    phone.send({"type": "ping", "t": 1.5})
    pong, _ = phone.next(of("pong"))
    assert pong["t"] == 1.5 and abs(pong["server_time"] - now_ms()) < 5_000


def refused_status(url: str, **kwargs) -> tuple[int, dict]:
    """The HTTP status and JSON body of a refused upgrade."""
    headers = {"Cookie": kwargs.pop("cookie")} if kwargs.get("cookie") else {}
    kwargs.pop("cookie", None)
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(url, additional_headers=headers, open_timeout=WAIT_S, **kwargs),
    ):
        pass
    response = refused.value.response
    return response.status_code, json.loads(response.body)


def test_only_the_owning_device_may_open_a_session_socket(server, workout):
    session, _ = workout
    stranger = server.client()
    status, body = refused_status(server.ws_url + session["ws"], cookie=cookie_of(stranger))
    assert status == 404 and body["error"] == "not_found"
    status, _ = refused_status(server.ws_url + session["ws"])  # no cookie at all
    assert status == 404
    status, _ = refused_status(server.ws_url + "/ws/sessions/no-such-session", cookie=cookie_of(stranger))
    assert status == 404


def test_a_foreign_origin_is_refused_and_this_sites_origin_is_welcome(server, device, workout):
    session, open_socket = workout
    status, body = refused_status(server.ws_url + session["ws"], cookie=cookie_of(device), origin="http://evil.example")
    assert status == 403 and body["error"] == "forbidden_origin"
    status, _ = refused_status(server.ws_url + session["ws"], cookie=cookie_of(device), origin="null")
    assert status == 403
    own = open_socket(origin=f"http://127.0.0.1:{server.port}")
    assert own.next()[0]["type"] == "hello"


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (gunicorn's master and its worker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


@pytest.mark.realtime(seconds=12)
def test_a_server_killed_mid_workout_resumes_it_with_the_same_due_times(fresh_server):
    running = fresh_server()
    device = running.client()
    session = create_session(device, running.url, segments=THREE_FIVES[:2])
    phone = Listener(running.ws_url + session["ws"], cookie_of(device))
    phone.next(of("hello"))
    phone.send({"type": "start"})
    started, _ = phone.next(of("state", event="start"))
    phone.next(of("cue", seq=1))
    # kill -9 the master and its worker: nothing gets to shut down cleanly.
    for pid in reversed(process_tree(running.process.pid)):
        os.kill(pid, signal.SIGKILL)
    running.stop(signal.SIGKILL)
    killed_at = now_ms()
    running.start()
    back = Listener(running.ws_url + session["ws"], cookie_of(device))
    hello, reconnected_at = back.next(of("hello"))
    assert hello["state"] == "running"
    assert hello["session"]["started_at"] == started["started_at"] and hello["session"]["shift_ms"] == 0
    finished, _ = back.next(of("finished"), timeout=10 + WAIT_S)
    cues = back.of_type("cue")
    assert cues, "the remaining cues are sent after the restart"
    expected = {c["seq"]: started["started_at"] + c["offset_ms"] for c in session["timeline"]}
    for cue, received in cues:
        assert cue["due"] == expected[cue["seq"]], "same wall-clock due as before the crash"
        assert received < cue["due"]
        assert cue["due"] > killed_at, "nothing due while the server was down is sent late"
    said = [c["seq"] for c, _ in cues]
    assert said == sorted(said) and said[-1] == session["timeline"][-1]["seq"]
    missed = [s for s, due in expected.items() if killed_at <= due < reconnected_at - LEAD_MS]
    assert not set(missed) & set(said)
    assert finished["summary"]["ended_by"] == "complete"
    back.close()
    phone.close()


# --- the socket layer's pure parts -------------------------------------------------------------


@pytest.mark.parametrize(
    "origin, host, scheme, allowed",
    [
        (None, "gym.example:8000", "http", True),  # not a browser: no Origin at all
        ("http://gym.example:8000", "gym.example:8000", "http", True),
        ("https://gym.example", "gym.example", "https", True),
        ("https://gym.example:443", "gym.example", "https", True),  # default port either way
        ("http://GYM.example:8000", "gym.example:8000", "http", True),
        ("http://evil.example:8000", "gym.example:8000", "http", False),
        ("http://gym.example:8001", "gym.example:8000", "http", False),
        ("http://gym.example.evil.example", "gym.example", "http", False),
        ("null", "gym.example", "http", False),
        ("", "gym.example", "http", False),
    ],
)
def test_only_this_sites_own_pages_may_open_a_socket(origin, host, scheme, allowed):
    assert security.same_origin(origin, host, scheme) is allowed


class BrokenHub:
    """A hub whose every control fails the way a locked database would."""

    def clock(self) -> int:
        return 1

    def control(self, session_id, kind):
        raise OSError("database is locked")


def test_a_control_the_server_cannot_save_is_answered_and_the_socket_kept():
    reply = socket_layer.answer(BrokenHub(), "s", '{"type": "pause"}', 4096)
    assert reply == {
        "type": "error",
        "error": "internal",
        "message": "The server could not save that; please try again.",
    }


def test_a_ping_is_answered_with_both_clocks():
    assert socket_layer.answer(BrokenHub(), "s", '{"type": "ping", "t": 7}', 4096) == {
        "type": "pong",
        "t": 7,
        "server_time": 1,
    }


# --- controls that say when they happened (`at`) -------------------------------------------


@pytest.mark.realtime(seconds=3)
def test_a_pause_sent_late_with_its_time_freezes_the_walk_where_it_was_pressed(workout):
    session, open_socket = workout
    phone, tablet = open_socket(), open_socket()
    for listener in (phone, tablet):
        listener.next(of("hello"))
    phone.send({"type": "start"})
    started, _ = phone.next(of("state", event="start"))
    start = started["started_at"]
    # Pressed on the lock screen 1 s into the walk; the page woke and sent it at 2.5 s.
    time.sleep(max(start + 2_500 - now_ms(), 0) / 1000)
    phone.send({"type": "pause", "at": start + 1_000})
    for listener in (phone, tablet):
        paused, _ = listener.next(of("state", event="pause"))
        assert paused["at"] == start + 1_000 and paused["paused_at"] == start + 1_000
        assert paused["position_ms"] == 1_000, "the position froze where the walker paused"
    first_after = next(c for c in session["timeline"] if c["offset_ms"] > 1_000)
    assert paused["next_seq"] == first_after["seq"], "cues after the pause are withdrawn, even those already sent"
    phone.send({"type": "resume"})
    resumed, _ = phone.next(of("state", event="resume"))
    assert resumed["shift_ms"] == resumed["at"] - (start + 1_000), "the time paused counts from the press"
    cue, received = phone.next(of("cue", seq=first_after["seq"]))
    assert cue["due"] == start + first_after["offset_ms"] + resumed["shift_ms"] and received < cue["due"]
    phone.send({"type": "stop"})
    finished, _ = phone.next(of("finished"))
    assert finished["summary"]["paused_seconds"] >= 1.5, "paused from the press, not from when the page woke"


def test_a_control_with_an_impossible_time_is_refused_with_bad_time_and_the_socket_kept(workout):
    _, open_socket = workout
    phone = open_socket()
    phone.next(of("hello"))
    tapped = now_ms()
    phone.send({"type": "start", "at": tapped})
    started, _ = phone.next(of("state", event="start"))
    assert started["at"] == tapped and started["started_at"] == tapped + START_LEAD_MS
    assert started["last_at"] == tapped, "the phone is told the time no control may come before"
    for at in (
        now_ms() + 60_000,  # in the future, beyond clock error
        tapped - 1,  # before the session's last event
        now_ms() - 7 * 3600 * 1000,  # older than any pause a pocket could hold
        "noon",
        True,
    ):
        phone.send({"type": "pause", "at": at})
        error, _ = phone.next(of("error"))
        assert error["error"] == "bad_time" and error["message"], at
    # A little ahead (the phone's estimate of the server clock is off by a few ms) is now.
    sent = now_ms()
    phone.send({"type": "pause", "at": sent + 1_000})
    paused, _ = phone.next(of("state", event="pause"))
    assert paused["state"] == "paused" and sent <= paused["at"] <= now_ms()
