"""The live hub: every live session of this process, the sockets watching each, and what a control does.

A control (start, pause, resume, skip, stop from a socket) is applied to the session's model
(server/sessions/model.py), stored (server/sessions/store.py) and only then broadcast as
``state`` (and ``finished``); a socket that joins gets ``hello``, then any cue already on its
way. Sockets are anything with a ``deliver(text, not_after)`` method (server/ws.py's Outbox).
The cues themselves go out from the one scheduler this hub is (server/sessions/scheduler.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask

from ..clock import MS_PER_S, now_ms
from ..limits import EMPTY_DEVICE_TTL_S, HOUSEKEEPING_EVERY_S, IDLE_UNLOAD_S, READY_SESSION_TTL_S
from ..walkclock import ENDED_COMPLETE, FINISHED, LIVE_STATES, RUNNING
from .messages import Watcher, cue_message, encode, finished_message, hello_message, state_message
from .metrics import watch_gc
from .model import Event, LiveSession, SessionGone, event_time
from .scheduler import FULL_GC_EVERY_MS, Scheduler
from .store import SessionStore, current_shard, set_shard

log = logging.getLogger(__name__)


def _checkpoint(session: LiveSession) -> dict:
    """A copy of a session's fields (the walk is immutable), to put back if persisting a change fails."""
    return dict(session.__dict__)


class LiveHub(Scheduler):
    """Every live session of this process, the sockets watching each, and the one cue scheduler."""

    def __init__(
        self,
        store: SessionStore,
        lead_ms: int,
        margin_ms: int,
        max_pause_ms: int | None = None,
        clock: Callable[[], int] = now_ms,
        start_lead_ms: int | None = None,
        idle_unload_ms: int | None = IDLE_UNLOAD_S * MS_PER_S,
        ready_ttl_ms: int | None = READY_SESSION_TTL_S * MS_PER_S,
        housekeeping_ms: int = HOUSEKEEPING_EVERY_S * MS_PER_S,
        empty_device_ttl_ms: int | None = EMPTY_DEVICE_TTL_S * MS_PER_S,
        full_gc_every_ms: int | None = None,
    ):
        """A hub with no session in memory and the scheduler not started (start() or the first socket starts it)."""
        super().__init__(
            store,
            lead_ms,
            margin_ms,
            max_pause_ms,
            clock,
            idle_unload_ms,
            ready_ttl_ms,
            housekeeping_ms,
            empty_device_ttl_ms,
            full_gc_every_ms,
        )
        # Two leads: a `cue` is pushed lead_ms before its due; a start takes effect (and a skip
        # lands) start_lead_ms after the tap, short so the first word comes soon (None: the same).
        self.start_lead_ms = int(lead_ms if start_lead_ms is None else start_lead_ms)

    # --- loading -----------------------------------------------------------------------

    def restore(self) -> int:
        """Reload running and paused sessions after a restart; finish those whose end has passed."""
        now = self.clock()
        with self.lock:
            # Another instance's walks are its own to bring back (they share the database).
            for session in self.store.load_live(current_shard()):
                session.restore(now)
                self.sessions[session.id] = session
                end = session.end_at()
                if end is not None and end <= now:
                    self._finish(session, end, ENDED_COMPLETE)
                else:
                    self._schedule(session)
            live = sum(1 for s in self.sessions.values() if s.state in LIVE_STATES)
        if live:
            self.start()
        log.info("Restored %d live session(s)", live)
        return live

    def _get(self, session_id: str) -> LiveSession:
        """A session, loaded from the store if it is not in memory."""
        session = self.sessions.get(session_id)
        if session is None:
            session = self.store.load(session_id)
            if session is None:
                raise SessionGone(session_id)
            session.restore(self.clock())
            self.sessions[session_id] = session
            if session.state in LIVE_STATES:
                # Reloaded after it was unloaded: its cues are due again from now on.
                self._schedule(session)
        return session

    def owner(self, session_id: str) -> str | None:
        """The device that owns a session, or None."""
        with self.lock:
            session = self.sessions.get(session_id)
        return session.device_id if session else self.store.owner(session_id)

    def socket_count(self, session_id: str) -> int:
        """How many sockets watch a session."""
        with self.lock:
            return len(self.watchers.get(session_id, ()))

    # --- sockets -------------------------------------------------------------------------

    def attach(self, session_id: str, watcher: Watcher) -> LiveSession:
        """Add a socket to a session: it gets `hello`, then any cue already on its way, then everything new."""
        self.start()
        with self.lock:
            session = self._get(session_id)
            now = self.clock()
            watcher.deliver(encode(hello_message(session, now, self.lead_ms, self.start_lead_ms)))
            for cue, due in session.in_flight(now, self.margin_ms):
                watcher.deliver(encode(cue_message(cue, due)), not_after=due - self.margin_ms)
            watchers = self.watchers.setdefault(session_id, set())
            if watcher not in watchers:
                watchers.add(watcher)
                self._socket_count += 1
            return session

    def detach(self, session_id: str, watcher: Watcher) -> None:
        """Forget a socket; a session nobody watches is kept in memory only while it is live."""
        with self.lock:
            self._socket_closed()
            watchers = self.watchers.get(session_id)
            if watchers is not None:
                if watcher in watchers:
                    watchers.discard(watcher)
                    self._socket_count -= 1
                if not watchers:
                    del self.watchers[session_id]
            session = self.sessions.get(session_id)
            if session is not None and session.state not in LIVE_STATES and session_id not in self.watchers:
                del self.sessions[session_id]

    # --- controls -------------------------------------------------------------------------

    def control(self, session_id: str, kind: str, at: int | None = None) -> LiveSession:
        """Apply a control at `at` (now if not given): persisted first, then broadcast as `state` (and `finished`)."""
        with self.lock:
            session = self._get(session_id)
            now = self.clock()
            at = event_time(at, now, session.last_at)
            end = session.end_at()
            if end is not None and end <= at:
                self._finish(session, end, ENDED_COMPLETE)
            before = _checkpoint(session)
            event = session.apply(kind, at, self.start_lead_ms)
            self._commit(session, before, event)
            if session.state == FINISHED:
                self._announce_finish(session, event, now)
            else:
                self.broadcast(session_id, state_message(session, event, now))
                if session.state == RUNNING:
                    # Cues already due go out with the state, not at the scheduler's next turn: the
                    # first after a start or skip is due only start_lead_ms (500 ms) after the tap.
                    self._advance(session, now)
                    self._wake.set()
                else:
                    self._schedule(session)
            return session

    def _commit(self, session: LiveSession, before: dict, event: Event) -> None:
        """Persist an applied event; if that fails, put the session back as it was and re-raise."""
        try:
            self.store.record(session, event)
        except BaseException:
            session.__dict__.update(before)
            raise

    def _finish(self, session: LiveSession, at: int, ended_by: str) -> None:
        """Finish a session at `at`, commit it, then tell its sockets."""
        before = _checkpoint(session)
        event = session.finish(at, ended_by)
        self._commit(session, before, event)
        self._announce_finish(session, event, self.clock())

    def _announce_finish(self, session: LiveSession, event: Event, now: int) -> None:
        """Tell every socket of a committed finish: `state`, then `finished` with the summary."""
        self.metrics.sessions_finished += 1
        self.broadcast(session.id, state_message(session, event, now))
        self.broadcast(session.id, finished_message(session))
        session.generation += 1
        if session.id not in self.watchers:
            self.sessions.pop(session.id, None)

    # --- what an operator reads --------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Counters and sizes for the capacity benchmark and an operator."""
        with self.lock:
            live = sum(1 for s in self.sessions.values() if s.state in LIVE_STATES)
            return {
                "sessions_in_memory": len(self.sessions),
                "sessions_live": live,
                "sockets": sum(len(w) for w in self.watchers.values()),
                "heap": len(self.heap),
                **self.metrics.__dict__,
            }


def init_app(app: Flask) -> LiveHub:
    """Create the app's hub and bring back the sessions that were live when the server stopped."""
    store = SessionStore(app.config["DATABASE"])
    max_pause_s = app.config.get("LIVE_MAX_PAUSE_S")
    idle_s = app.config.get("IDLE_UNLOAD_S", IDLE_UNLOAD_S)
    ready_ttl_s = app.config.get("READY_SESSION_TTL_S", READY_SESSION_TTL_S)
    empty_s = app.config.get("EMPTY_DEVICE_TTL_S", EMPTY_DEVICE_TTL_S)
    hub = LiveHub(
        store,
        lead_ms=app.config["CUE_LEAD_MS"],
        start_lead_ms=app.config["START_LEAD_MS"],
        margin_ms=app.config["CUE_MIN_MARGIN_MS"],
        max_pause_ms=int(max_pause_s * MS_PER_S) if max_pause_s else None,
        idle_unload_ms=int(idle_s * MS_PER_S) if idle_s else None,
        ready_ttl_ms=int(ready_ttl_s * MS_PER_S) if ready_ttl_s else None,
        housekeeping_ms=int(app.config.get("HOUSEKEEPING_EVERY_S", HOUSEKEEPING_EVERY_S) * MS_PER_S),
        empty_device_ttl_ms=int(empty_s * MS_PER_S) if empty_s else None,
        full_gc_every_ms=FULL_GC_EVERY_MS if app.config.get("SCHEDULED_GC") else None,
    )
    app.extensions["live"] = hub
    set_shard(app.config.get("SHARD", ""))
    watch_gc(hub.metrics)
    hub.restore()
    if app.extensions.get("checkpointer"):
        # Only the scheduler's catch-ups keep the log within its limit then (server/db.py): walks or not.
        hub.start()
    return hub
