"""Driving the phone app in Debian's Chromium: launch options, cue instrumentation, workout helpers.

Shared by tests/test_browser*.py and bench/bench_browser.py. The instrumentation wraps
AudioBufferSourceNode.prototype.start/stop in an init script, so every cue the app schedules
is recorded with both clocks (the AudioContext's and performance.now()) at the moment of
scheduling, and can be mapped to the server's epoch clock.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_PATH = os.environ.get("RETROWALK_CHROMIUM", "/usr/bin/chromium")
# No sandbox (containers run as root); no GPU; nothing phoning home during a test. The
# autoplay policy is left alone: the tests tap Start as a walker does, which is what
# unlocks the sound.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
HOW_TO_ENABLE = (
    "Browser tests need Debian's Chromium at /usr/bin/chromium: `apt-get install chromium` "
    "(the README's test command does it), or set RETROWALK_CHROMIUM to another Chromium."
)

# Records each scheduled cue: when it was asked to start on the context clock, both clocks at
# that moment, and whether it was stopped before it began (a cue withdrawn on pause or skip).
# `confirmation`: a pause, resume or skip confirmation (web/js/audio.js CONFIRMATION_MARK), not a cue.
INSTRUMENT_JS = r"""
(() => {
  const started = [];
  window.__cueStarts = started;
  const proto = AudioBufferSourceNode.prototype;
  const realStart = proto.start;
  const realStop = proto.stop;
  proto.start = function (when = 0, ...rest) {
    const ctx = this.context;
    const stamp = typeof ctx.getOutputTimestamp === "function" ? ctx.getOutputTimestamp() : null;
    const record = {
      when, currentTime: ctx.currentTime, perf: performance.now(), timeOrigin: performance.timeOrigin,
      stampContext: stamp ? stamp.contextTime : null, stampPerf: stamp ? stamp.performanceTime : null,
      samples: this.buffer ? this.buffer.length : 0, duration: this.buffer ? this.buffer.duration : 0,
      cancelled: false, confirmation: Boolean(this.retrowalkConfirmation),
    };
    this.__record = record;
    started.push(record);
    return realStart.call(this, when, ...rest);
  };
  proto.stop = function (...args) {
    if (this.__record && this.context.currentTime < this.__record.when) this.__record.cancelled = true;
    return realStop.apply(this, args);
  };
})();
"""

# Plays of real cue files only: the one-sample silence that unlocks audio is not a cue.
MIN_CUE_SAMPLES = 100


def require_chromium() -> str:
    """The Chromium to drive; in CI its absence fails the run, elsewhere it skips with how to enable it."""
    if Path(CHROMIUM_PATH).exists():
        return CHROMIUM_PATH
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium is missing in CI. {HOW_TO_ENABLE}")
    pytest.skip(HOW_TO_ENABLE)


def create_plan(page, name: str, segments: list[dict]) -> dict:
    """Create a custom plan for the browser's own device (its rw_device cookie) and return it."""
    response = page.request.post(
        "/api/plans",
        data=json.dumps({"name": name, "segments": segments}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 201, response.text()
    return response.json()


def confirm_safety(page) -> None:
    """Tick the one-time safety check if it is shown (the get-ready screen loads when first opened: wait for either)."""
    page.wait_for_selector("#safety-0, #start", timeout=30_000)
    if page.locator("#safety-0").count():
        for index in range(4):
            page.check(f"#safety-{index}")
        page.click("#safety-confirm")  # "I’m ready", in whichever language the screens speak


def open_plan(page, plan_id: str) -> None:
    """From the picker, tap a plan and wait until Start can be tapped."""
    page.locator(f'[data-plan="{plan_id}"]').first.click()
    confirm_safety(page)
    page.wait_for_selector("#start:not([disabled])", timeout=30_000)


# How long the pocket lock is held in tests: its 1 s (UNLOCK_HOLD_MS in player.js) and some slack.
UNLOCK_HOLD_S = 1.3


def choose_audio_mode(page, mode: str) -> None:
    """On the get-ready screen, choose how the coach plays: "pocket" (the track) or "screen" (clips, locked)."""
    page.check(f"#mode-{mode}")


def hold_to_unlock(page) -> None:
    """Press and hold the pocket lock's button (screen-on mode), as a walker does, if the lock is shown."""
    if not page.locator(".pocket-lock:not([hidden])").count():
        return
    box = page.locator("#unlock").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    time.sleep(UNLOCK_HOLD_S)
    page.mouse.up()
    page.wait_for_selector(".pocket-lock", state="hidden")


class SocketLog:
    """Every JSON message the page receives over its session websockets, with arrival times."""

    def __init__(self, page):
        self.messages: list[dict[str, Any]] = []
        self.sockets = 0
        page.on("websocket", self._watch)

    def _watch(self, socket) -> None:
        if "/ws/sessions/" not in socket.url:
            return
        self.sockets += 1
        socket.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        try:
            message = json.loads(payload if isinstance(payload, str) else payload.decode())
        except (ValueError, AttributeError):
            return
        message["_received"] = time.time() * 1000
        self.messages.append(message)

    def of_type(self, kind: str) -> list[dict]:
        """Messages of one type, in arrival order."""
        return [m for m in self.messages if m.get("type") == kind]

    def last_clock(self) -> dict:
        """The last clock the server told (from `state`, or from `hello`'s session)."""
        for message in reversed(self.messages):
            if message.get("type") == "state":
                return message
            if message.get("type") == "hello":
                return message["session"]
        raise AssertionError("no hello or state received")

    def timeline(self) -> list[dict]:
        """The timeline from the first hello."""
        hello = self.of_type("hello")
        assert hello, "no hello received"
        return hello[0]["timeline"]


def hold_server_up_after_hello(page, server, hold_ms: int) -> None:
    """Stop the server's processes for `hold_ms` when the page's first hello arrives, as a server busy
    making the walk's track or short of CPU does: every ping of the page's first burst waits and is
    answered late (the page's clock estimate must not take those round trips at their word)."""
    held = threading.Event()

    def watch(socket) -> None:
        if "/ws/sessions/" not in socket.url:
            return

        def frame(payload) -> None:
            if held.is_set() or '"hello"' not in (payload if isinstance(payload, str) else payload.decode()):
                return
            held.set()
            os.killpg(server.process.pid, signal.SIGSTOP)
            threading.Timer(hold_ms / 1000, os.killpg, (server.process.pid, signal.SIGCONT)).start()

        socket.on("framereceived", frame)

    page.on("websocket", watch)


def played_cues(page) -> list[dict]:
    """Cue sources that started (not withdrawn), each with the epoch time it is heard and a naive one.

    `heard` maps `when` through getOutputTimestamp (the clock pair at the speaker, so output
    latency is included); `naive` maps it through currentTime and performance.now() read
    together, as a first-order check that does not know about output latency.
    """
    records = page.evaluate("window.__cueStarts")
    plays = []
    for r in records:
        if r["samples"] < MIN_CUE_SAMPLES or r["cancelled"] or r.get("confirmation"):
            continue
        naive = r["timeOrigin"] + r["perf"] + (r["when"] - r["currentTime"]) * 1000
        if r["stampPerf"]:
            heard = r["timeOrigin"] + r["stampPerf"] + (r["when"] - r["stampContext"]) * 1000
        else:
            heard = naive
        plays.append({**r, "heard": heard, "naive": naive})
    plays.sort(key=lambda p: p["heard"])
    return plays


def heard_until(page, epoch_ms: float) -> list[dict]:
    """The cues heard (started at the speaker) up to an epoch time."""
    return [play for play in played_cues(page) if play["heard"] <= epoch_ms]


def expected_dues(log: SocketLog) -> list[tuple[int, int]]:
    """(seq, due) of every cue of the timeline, in time order.

    A cue the server sent says its due (the last message for it wins: a pause withdraws cues
    and sends them again). A cue it never sent (the server was down) is due at
    started_at + offset_ms + shift_ms by the last clock it told.
    """
    sent = {m["seq"]: m["due"] for m in log.of_type("cue")}
    clock = log.last_clock()
    dues = []
    for cue in log.timeline():
        due = sent.get(cue["seq"])
        if due is None:
            due = clock["started_at"] + cue["offset_ms"] + clock["shift_ms"]
        dues.append((cue["seq"], due))
    return sorted(dues, key=lambda item: item[1])


def wait_until(predicate: Callable[[], Any], timeout: float, message: str, interval: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy; fail with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message)


def match_plays_to_dues(
    plays: list[dict], dues: list[tuple[int, int]], key: str = "heard"
) -> list[tuple[int, int, float]]:
    """Pair the n-th play with the n-th due (both in time order): (seq, due, error ms)."""
    assert len(plays) == len(dues), f"{len(plays)} cues played, {len(dues)} due: {[p[key] for p in plays]} vs {dues}"
    return [(seq, due, play[key] - due) for (seq, due), play in zip(dues, plays)]
