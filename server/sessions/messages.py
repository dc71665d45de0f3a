"""What the phone is told over a session's socket: the hello, state, cue and finished messages, as compact JSON.

Plain data in, plain data out; README "The live workout" is the contract these keep.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .model import Event, LiveSession


class Watcher(Protocol):
    """A socket watching a session: delivery never blocks (the socket's own writer sends)."""

    def deliver(self, text: str, not_after: int | None = None) -> bool:
        """Queue a message; `not_after` is the time after which it must not be sent. False if closed."""


def encode(message: dict) -> str:
    """A message as the compact JSON text frame the phone receives."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def cue_message(cue: dict, due: int) -> dict:
    """A `cue` message: the phrase, its audio, and exactly when to play it."""
    return {
        "type": "cue",
        "seq": cue["seq"],
        "due": due,
        "kind": cue["kind"],
        "text": cue["text"],
        "audio": cue["audio"],
        "segment": cue["segment"],
        "offset_ms": cue["offset_ms"],
    }


def hello_message(session: LiveSession, now: int, lead_ms: int, start_lead_ms: int) -> dict[str, Any]:
    """The first message a socket gets: the session, its clock and the whole timeline."""
    return {
        "type": "hello",
        "session": session.describe(now),
        "state": session.state,
        "server_time": now,
        "lead_ms": lead_ms,
        "start_lead_ms": start_lead_ms,
        **session.track,
        "timeline": session.timeline,
    }


def state_message(session: LiveSession, event: Event, now: int) -> dict[str, Any]:
    """The `state` broadcast after a change."""
    return {
        "type": "state",
        "state": session.state,
        "event": event.type if event.type != "finish" else session.ended_by,
        "at": event.at,
        "server_time": now,
        **session.clock(now),
    }


def finished_message(session: LiveSession) -> dict[str, Any]:
    """The `finished` broadcast after a finish's `state`: the summary."""
    return {"type": "finished", "session": session.id, "summary": session.summary}
