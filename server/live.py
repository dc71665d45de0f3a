"""Live workouts: each session's walk clock, the one cue scheduler, and their persistence.

The clock rules (position, dues, what start, pause, resume, skip and stop do, the walk's end)
live in server/walkclock.py, a pure function of the session's event log; this module
applies them to live sessions (all times are epoch ms of the server clock):

- A cue is due at ``started_at + offset_ms + shift_ms`` (walkclock.due_ms).
- A cue is *fired* once its due has passed; cues sent but not yet due when the walker pauses
  or skips are withdrawn (the phone drops scheduled cues from ``next_seq`` on every ``state``)
  and sent again with their new due, or not at all if they were skipped.
- A control may say when it happened (``at``, a pause pressed on a sleeping phone's lock
  screen): it is applied at that moment if it is not before the session's last event, not
  in the future (up to MAX_FUTURE_SKEW_MS is taken as now) and not older than MAX_EVENT_AGE_MS.

The session core (``LiveSession``) is plain data and arithmetic; ``SessionStore`` keeps it in
SQLite; ``LiveHub`` holds the live sessions, the sockets watching them (anything with a
``deliver(text, not_after)`` method) and one scheduler thread for all of them: a heap of each
session's next wake-up, never a sleeping thread per session. Under gunicorn's gevent worker
the thread and locks are greenlet-friendly, as everything else in the worker.
"""

from __future__ import annotations

import functools
import gc
import heapq
import itertools
import json
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

from flask import Flask
from sqlite_utils import Database

from . import walkclock as wc
from .cues import segment_starts_ms
from .db import BUSY_TIMEOUT_S, timeline_hash
from .errors import is_storage_fault
from .limits import EMPTY_DEVICE_TTL_S, HOUSEKEEPING_EVERY_S, IDLE_UNLOAD_S, READY_SESSION_TTL_S
from .plans import Segment, parse_segments
from .walkclock import (  # noqa: F401  (re-exported: the socket and API speak these names)
    CONTROLS, ENDED_COMPLETE, ENDED_STOPPED, FINISHED, FORWARD_KINDS, LIVE_STATES, PAUSED, READY,
    REST_KINDS, RUNNING, Skip,
)
from .track import track_fields

log = logging.getLogger(__name__)

SESSION_ID_BYTES = 12
# Heap entries that are not a session's next wake-up: housekeeping's own (under an id no session
# has), and an unloaded session's end (a generation no session in memory has).
HOUSEKEEPING = ""
UNLOADED = -1
# Full garbage collections are the scheduler's to run: an automatic one stops every walker at a
# random moment, 1.7 s with 10,000 sockets on the 2-core machine, past the cues' lead. The
# scheduler first sends every cue due within GC_HEADROOM_MS more than the lead, then collects, so
# the pause holds up no cue (a phone places a cue by its due, however early it comes).
FULL_GC = "full-gc"  # its heap entries' id, which no session id (16 URL-safe characters) can be
FULL_GC_EVERY_MS = 60 * 1000
# Measured: about 0.7 s of CPU at 10,000 sockets, up to 2.2 s of wall time on the shared machine.
GC_HEADROOM_MS = 4000
# ...and sooner once this share of the sockets (at least FULL_GC_MIN_CLOSED) has closed since the
# last one, as CPython's own rule runs one when a quarter more objects have come to stay, but
# never within FULL_GC_MIN_GAP_MS of the last (walkers finishing together close sockets in waves).
FULL_GC_CLOSED_SHARE = 0.25
FULL_GC_MIN_CLOSED = 500
FULL_GC_MIN_GAP_MS = 15 * 1000
# The automatic collector keeps to the young generations: it would need this many of their
# collections before a full one.
NO_AUTOMATIC_FULL_GC = 1_000_000
# After a scheduler failure on one session (a locked database, say), look at it again this soon.
RETRY_MS = 1000
# Stale wake-ups (a session rescheduled, by a pause or a skip) tolerated beyond twice the live ones.
HEAP_SLACK = 64
# The scheduler works at most this long before yielding, so sockets' writers run between slices.
TICK_SLICE_S = 0.005
MS_PER_S = 1000
# A control's `at` a little ahead of the server clock (the phone's estimate of it is off by a
# few ms, at worst a round trip) is taken as now; further ahead it is refused.
MAX_FUTURE_SKEW_MS = 2 * MS_PER_S
# A control's `at` may be this far in the past (a phone asleep in a pocket for a long pause).
MS_PER_HOUR = 3600 * MS_PER_S
MAX_EVENT_AGE_MS = 6 * MS_PER_HOUR


def now_ms() -> int:
    """The server clock in epoch milliseconds."""
    return int(time.time() * MS_PER_S)


# This instance's shard: the start of every session id it makes, by which a load balancer sends a
# walk's sockets to the one instance whose scheduler owns the walk (docs/scaling.md). Set once
# from the SHARD setting at start-up; empty for a single instance.
SHARD_PATTERN = re.compile(r"[A-Za-z0-9]{0,8}")
_shard = ""


def set_shard(shard: str) -> None:
    """Make this process's session ids start with `shard` (letters and digits, at most 8), or ValueError."""
    global _shard
    if not isinstance(shard, str) or not SHARD_PATTERN.fullmatch(shard):
        raise ValueError(f"SHARD must be up to 8 letters or digits, not {shard!r}")
    _shard = shard


def new_session_id() -> str:
    """An unguessable session id, after this instance's shard (ownership is checked too; this keeps ids from being enumerated)."""
    return _shard + secrets.token_urlsafe(SESSION_ID_BYTES)


def socket_path(session_id: str) -> str:
    """The websocket path of a session, as the API hands it to the phone."""
    return f"/ws/sessions/{session_id}"


# A control message that does not apply to the session as it is; `code` names the reason.
ControlRefused = wc.WalkRefused


def event_time(at: int | None, now: int, last_at: int | None) -> int:
    """When a control happened: its `at` if within bounds (a little ahead is now), else ControlRefused `bad_time`.

    Without `at` it is now, never before the last event (a server clock stepped back by NTP
    must not refuse a tap).
    """
    if at is None:
        return now if last_at is None else max(now, last_at)
    if at > now + MAX_FUTURE_SKEW_MS:
        raise ControlRefused("bad_time", "That control's time is in the future; check the phone's clock.")
    at = min(at, now)
    if at < now - MAX_EVENT_AGE_MS:
        raise ControlRefused("bad_time", f"That control is too old (more than {MAX_EVENT_AGE_MS // MS_PER_HOUR} hours ago).")
    if last_at is not None and at < last_at:
        raise ControlRefused("bad_time", "That control happened before the session's last change; it no longer applies.")
    return at


class SessionGone(Exception):
    """The session does not exist (or no longer does)."""


@dataclass(frozen=True)
class Event:
    """One thing that happened to a session, stored in `session_events` before anyone hears of it."""

    type: str
    at: int
    data: dict = field(default_factory=dict)


def _walk_field(name: str) -> property:
    """A read-only view of one field of a session's walk."""
    return property(lambda self: getattr(self.walk, name), doc=f"The walk's {name} (server/walkclock.py).")


@dataclass
class LiveSession:
    """One workout: its plan, timeline, walk clock (server/walkclock.py) and the scheduler's cursor."""

    id: str
    device_id: str
    plan_id: str
    plan_name: str
    segments: tuple[Segment, ...]
    timeline: list[dict]
    options: dict = field(default_factory=dict)
    created_at: int = 0
    walk: wc.Walk = wc.READY_WALK
    summary: dict | None = None
    # Runtime only: the first cue not handed to the sockets yet, and the scheduler's token.
    next_index: int = 0
    generation: int = 0

    def __post_init__(self):
        """Precompute the segment boundaries and cue offsets the clock maths looks up."""
        self.starts = segment_starts_ms(self.segments)
        self.offsets = [cue["offset_ms"] for cue in self.timeline]
        self.kinds = [segment.kind for segment in self.segments]
        self.end_ms = wc.walk_end_ms(self.starts, self.offsets)

    state = _walk_field("state")
    started_at = _walk_field("started_at")
    paused_at = _walk_field("paused_at")
    shift_ms = _walk_field("shift_ms")
    skips = _walk_field("skips")
    finished_at = _walk_field("finished_at")
    ended_by = _walk_field("ended_by")
    last_at = _walk_field("last_at")

    # --- positions and due times -----------------------------------------------------

    @functools.cached_property
    def track(self) -> dict:
        """The session's `track` fields, hashed once: its timeline never changes (hello needs them twice)."""
        return track_fields(self.timeline, self.total_ms)

    @property
    def total_ms(self) -> int:
        """The plan's length."""
        return self.starts[-1]

    def position_ms(self, now: int) -> int:
        """How far into the plan the walker is (negative during the lead before the start)."""
        position = wc.position_ms(self.walk, now)
        return min(position, self.end_ms) if self.state == FINISHED else position

    def segment_index(self, position: int) -> int:
        """The segment a position falls in (the first before the start, the last at the end)."""
        return wc.segment_index(self.starts, position)

    def due_ms(self, index: int) -> int:
        """The wall-clock time the cue at `index` is due, as the clock stands now."""
        return wc.due_ms(self.walk, self.offsets[index])

    def end_at(self) -> int | None:
        """When a running workout ends on its own."""
        return wc.end_at(self.walk, self.end_ms)

    def pending_from(self, position: int) -> int:
        """The index of the first cue still to be said from `position` on."""
        return wc.pending_from(self.walk, self.offsets, position)

    def restore(self, now: int) -> None:
        """Point the cursor after a reload: cues whose due has passed are not said late."""
        self.next_index = self.pending_from(self.position_ms(now)) if self.state in LIVE_STATES else len(self.offsets)

    # --- controls ---------------------------------------------------------------------

    def _step(self, kind: str, now: int, lead_ms: int = 0, **extra: Any) -> wc.Walk:
        """The walk after one event at `now` (ControlRefused if it does not apply; nothing changes then)."""
        return wc.step(self.walk, self.starts, {"type": kind, "at": now, **extra}, lead_ms, self.end_ms)

    def start(self, now: int, lead_ms: int) -> Event:
        """Start the clock one lead from now, so the first cue can reach the phone before it is due."""
        self.walk, self.next_index = self._step("start", now, lead_ms), 0
        return Event("start", now, {"started_at": self.started_at})

    def pause(self, now: int) -> Event:
        """Freeze the clock; cues sent but not yet due are withdrawn and sent again after resume."""
        self.walk = self._step("pause", now)
        self.next_index = self.pending_from(self.position_ms(now))
        return Event("pause", now)

    def resume(self, now: int) -> Event:
        """Restart the clock: every cue still to come moves later by exactly the time paused."""
        shift_before = self.shift_ms
        self.walk = self._step("resume", now)
        return Event("resume", now, {"paused_ms": self.shift_ms - shift_before, "shift_ms": self.shift_ms})

    def skip(self, now: int, lead_ms: int) -> Event:
        """Leave the current segment: the next one starts one lead from now, every later cue moves earlier."""
        self.walk = self._step("skip", now, lead_ms)
        skip = self.skips[-1]
        self.next_index = self.pending_from(skip.to_ms)
        return Event("skip", now, {**skip.to_dict(), "shift_ms": self.shift_ms})

    def stop(self, now: int) -> Event:
        """End the workout here, at the walker's request."""
        return self._finished(self._step("stop", now), now)

    def finish(self, now: int, ended_by: str) -> Event:
        """End the workout (the server's own finish: at its end, or after the longest pause)."""
        return self._finished(self._step("finish", now, ended_by=ended_by), now)

    def _finished(self, walk: wc.Walk, now: int) -> Event:
        """Take a finished walk and its summary (a paused one ends with its pause counted)."""
        self.walk, self.next_index = walk, len(self.offsets)
        self.summary = wc.summarize(walk, self.starts, self.kinds)
        return Event("finish", now, {"ended_by": walk.ended_by, "summary": self.summary})

    def apply(self, kind: str, now: int, lead_ms: int) -> Event:
        """Apply one of CONTROLS."""
        if kind == "start":
            return self.start(now, lead_ms)
        if kind == "pause":
            return self.pause(now)
        if kind == "resume":
            return self.resume(now)
        if kind == "skip":
            return self.skip(now, lead_ms)
        if kind == "stop":
            return self.stop(now)
        raise ValueError(f"not a control: {kind}")

    # --- what the scheduler asks ---------------------------------------------------------

    def take_due(self, now: int, lead_ms: int, margin_ms: int) -> tuple[list[tuple[dict, int]], list[tuple[dict, int]]]:
        """Cues whose send time (due minus lead) has come: those still ahead of due by the margin, and those missed."""
        send: list[tuple[dict, int]] = []
        missed: list[tuple[dict, int]] = []
        if self.state != RUNNING:
            return send, missed
        while self.next_index < len(self.offsets):
            due = self.due_ms(self.next_index)
            if due - lead_ms > now:
                break
            (send if due - now >= margin_ms else missed).append((self.timeline[self.next_index], due))
            self.next_index += 1
        return send, missed

    def in_flight(self, now: int, margin_ms: int) -> list[tuple[dict, int]]:
        """Cues already handed out but not yet due: what a socket that joins now has missed."""
        if self.state != RUNNING:
            return []
        first = self.pending_from(self.position_ms(now))
        out = []
        for index in range(first, self.next_index):
            due = self.due_ms(index)
            if due - now >= margin_ms:
                out.append((self.timeline[index], due))
        return out

    def next_wake_ms(self, lead_ms: int, max_pause_ms: int | None) -> int | None:
        """When the scheduler must next look at this session, or None if it need not."""
        if self.state == RUNNING:
            end = self.end_at()
            if self.next_index < len(self.offsets):
                return min(self.due_ms(self.next_index) - lead_ms, end)
            return end
        if self.state == PAUSED and max_pause_ms:
            return self.paused_at + max_pause_ms
        return None

    # --- what the phone is told -----------------------------------------------------------

    def clock(self, now: int) -> dict[str, Any]:
        """The clock as the phone needs it to place every cue: due = started_at + offset_ms + shift_ms."""
        position = self.position_ms(now)
        return {
            "started_at": self.started_at,
            "paused_at": self.paused_at,
            "shift_ms": self.shift_ms,
            "position_ms": max(position, 0),
            "segment": self.segment_index(position),
            "next_seq": self.timeline[self.next_index]["seq"] if self.next_index < len(self.timeline) else None,
            "end_at": self.end_at(),
            "skipped_segments": sorted({s.segment for s in self.skips}),
            # The time of the last event: a control sent with `at` must not be earlier.
            "last_at": self.last_at,
        }

    def describe(self, now: int) -> dict[str, Any]:
        """The session as `hello` and the API show it."""
        return {
            "id": self.id,
            "ws": socket_path(self.id),
            "plan_id": self.plan_id,
            "plan_name": self.plan_name,
            "segments": [s.to_dict() for s in self.segments],
            "segment_starts_ms": self.starts[:-1],
            "total_ms": self.total_ms,
            "options": self.options,
            "state": self.state,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "ended_by": self.ended_by,
            "summary": self.summary,
            **self.track,
            **self.clock(now),
        }


# --- persistence ----------------------------------------------------------------------------


def store_timeline(db: Database, timeline: list[dict], now: int) -> str:
    """Keep a timeline once (equal timelines share one row) and return its id."""
    text = json.dumps(timeline)
    timeline_id = timeline_hash(text)
    db.execute("INSERT OR IGNORE INTO timelines (id, cues, created_at) VALUES (?, ?, ?)", [timeline_id, text, now])
    return timeline_id


def insert_session(db: Database, *, device_id: str, plan: Any, options: dict, timeline: list[dict], now: int) -> str:
    """Store a new session, ready to start, with a snapshot of its plan and (shared) timeline; return its id."""
    session_id = new_session_id()
    timeline_id = store_timeline(db, timeline, now)
    db.execute(
        """INSERT INTO sessions (id, device_id, plan_id, plan_name, plan, options, timeline, timeline_id, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?)""",
        [
            session_id, device_id, plan.id, plan.name,
            json.dumps([s.to_dict() for s in plan.segments]), json.dumps(options),
            timeline_id, READY, now,
        ],
    )
    return session_id


def insert_played_session(db: Database, session: LiveSession, events: Iterable[Event], client_id: str) -> None:
    """Store a walk played elsewhere (a phone offline), finished, with its events, in one transaction.

    The caller holds the transaction (BEGIN IMMEDIATE), so a retry racing this one finds it.
    """
    db.execute(
        """INSERT INTO sessions (id, device_id, plan_id, plan_name, plan, options, timeline, timeline_id, state, created_at,
               started_at, paused_at, shift_ms, finished_at, ended_by, summary, client_id)
           VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            session.id, session.device_id, session.plan_id, session.plan_name,
            json.dumps([s.to_dict() for s in session.segments]), json.dumps(session.options),
            store_timeline(db, session.timeline, session.created_at), session.state, session.created_at,
            session.started_at, session.paused_at, session.shift_ms, session.finished_at, session.ended_by,
            json.dumps(session.summary), client_id,
        ],
    )
    for event in events:
        db.execute(
            "INSERT INTO session_events (session_id, at, type, data) VALUES (?, ?, ?, ?)",
            [session.id, event.at, event.type, json.dumps(event.data)],
        )


SESSION_COLUMNS = (
    "id", "device_id", "plan_id", "plan_name", "plan", "options", "timeline", "state", "created_at",
    "started_at", "paused_at", "shift_ms", "finished_at", "ended_by", "summary", "timeline_id",
)
# SESSION_COLUMNS as a SELECT list that fetches the shared timeline (a row from before
# migration 5 that still has its own copy is read as it is).
TIMELINE_COLUMN = "COALESCE((SELECT cues FROM timelines WHERE timelines.id = sessions.timeline_id), sessions.timeline) AS timeline"
SESSION_SELECT = ", ".join(TIMELINE_COLUMN if name == "timeline" else f"sessions.{name}" for name in SESSION_COLUMNS)
# Parsed timelines shared by the sessions in memory that use them (they are never changed).
PARSED_TIMELINES_KEPT = 64
_parsed_timelines: OrderedDict[str, list[dict]] = OrderedDict()
_parsed_lock = threading.Lock()


def parsed_timeline(timeline_id: str | None, text: str) -> list[dict]:
    """A stored timeline as cues, parsed once for every session in memory that shares it."""
    if not timeline_id:
        return json.loads(text)
    with _parsed_lock:
        cues = _parsed_timelines.get(timeline_id)
        if cues is not None:
            _parsed_timelines.move_to_end(timeline_id)
            return cues
    cues = json.loads(text)
    with _parsed_lock:
        _parsed_timelines[timeline_id] = cues
        while len(_parsed_timelines) > PARSED_TIMELINES_KEPT:
            _parsed_timelines.popitem(last=False)
    return cues


def session_from_row(row: dict, events: Iterable[dict] = ()) -> LiveSession:
    """A stored session (and its events: the skips, and the last event's time) as a LiveSession."""
    events = list(events)
    skips = tuple(
        Skip(**{k: data[k] for k in ("segment", "from_ms", "to_ms", "next_ms")})
        for data in (json.loads(e["data"]) for e in events if e["type"] == "skip")
    )
    walk = wc.Walk(
        state=row["state"],
        started_at=row["started_at"],
        paused_at=row["paused_at"],
        shift_ms=row["shift_ms"] or 0,
        skips=skips,
        finished_at=row["finished_at"],
        ended_by=row["ended_by"],
        last_at=max((e["at"] for e in events), default=None),
    )
    return LiveSession(
        id=row["id"],
        device_id=row["device_id"],
        plan_id=row["plan_id"],
        plan_name=row["plan_name"],
        segments=parse_segments(json.loads(row["plan"])),
        timeline=parsed_timeline(row.get("timeline_id"), row["timeline"]),
        options=json.loads(row["options"]),
        created_at=row["created_at"],
        walk=walk,
        summary=json.loads(row["summary"]) if row["summary"] else None,
    )


def history_entry(row: dict) -> dict[str, Any]:
    """One row of GET /api/history."""
    segments = json.loads(row["plan"])
    return {
        "id": row["id"],
        "ws": socket_path(row["id"]) if row["state"] != FINISHED else None,
        "plan_id": row["plan_id"],
        "plan_name": row["plan_name"],
        "planned_seconds": sum(s["seconds"] for s in segments),
        "state": row["state"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "ended_by": row["ended_by"],
        "summary": json.loads(row["summary"]) if row["summary"] else None,
    }


class SessionStore:
    """The live sessions' own SQLite connection, shared by the scheduler and the sockets under a lock."""

    def __init__(self, path: str):
        """Open the connection with the pragmas every connection needs (see db.connect)."""
        # check_same_thread=False: the scheduler and the socket handlers share this one
        # connection, always under self.lock, so writes are serialised in one place.
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        self.conn = conn
        self.lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()

    def _events(self, session_id: str) -> list[dict]:
        """A session's events, oldest first."""
        return [dict(r) for r in self.conn.execute(
            "SELECT type, at, data FROM session_events WHERE session_id = ? ORDER BY id", [session_id]
        )]

    def load(self, session_id: str) -> LiveSession | None:
        """One session, or None."""
        with self.lock:
            row = self.conn.execute(
                f"SELECT {SESSION_SELECT} FROM sessions WHERE id = ?", [session_id]
            ).fetchone()
            return session_from_row(dict(row), self._events(session_id)) if row else None

    def load_live(self, shard: str = "") -> list[LiveSession]:
        """Every session of `shard` (all, if empty) that was running or paused when the server last stopped."""
        with self.lock:
            rows = [dict(r) for r in self.conn.execute(
                f"SELECT {SESSION_SELECT} FROM sessions WHERE state IN ('running', 'paused') AND substr(id, 1, ?) = ?",
                [len(shard), shard],
            )]
            return [session_from_row(row, self._events(row["id"])) for row in rows]

    def owner(self, session_id: str) -> str | None:
        """The device a session belongs to, or None if there is no such session."""
        with self.lock:
            row = self.conn.execute("SELECT device_id FROM sessions WHERE id = ?", [session_id]).fetchone()
            return row[0] if row else None

    def forget_ready(self, created_before: int, keep: Iterable[str] = ()) -> int:
        """Delete sessions made before `created_before` and never started (but not those in `keep`), then timelines no session uses."""
        keep = set(keep)
        with self.lock:
            conn = self.conn
            ids = [row[0] for row in conn.execute(
                "SELECT id FROM sessions WHERE state = 'ready' AND created_at < ?", [created_before]
            ) if row[0] not in keep]
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("DELETE FROM sessions WHERE id = ? AND state = 'ready'", [(i,) for i in ids])
                conn.execute("DELETE FROM timelines WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.timeline_id = timelines.id)")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return len(ids)

    def forget_empty_devices(self, created_before: int) -> int:
        """Delete devices made before `created_before` that never stored a plan, a session or a setting."""
        with self.lock:
            return self.conn.execute(
                """DELETE FROM devices WHERE created_at < ?
                   AND NOT EXISTS (SELECT 1 FROM plans WHERE plans.device_id = devices.id)
                   AND NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.device_id = devices.id)
                   AND NOT EXISTS (SELECT 1 FROM settings WHERE settings.device_id = devices.id)""",
                [created_before],
            ).rowcount

    def record(self, session: LiveSession, event: Event) -> None:
        """Store an event and the session's new state in one transaction (committed on return)."""
        with self.lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO session_events (session_id, at, type, data) VALUES (?, ?, ?, ?)",
                    [session.id, event.at, event.type, json.dumps(event.data)],
                )
                conn.execute(
                    """UPDATE sessions SET state = ?, started_at = ?, paused_at = ?, shift_ms = ?,
                       finished_at = ?, ended_by = ?, summary = ? WHERE id = ?""",
                    [
                        session.state, session.started_at, session.paused_at, session.shift_ms,
                        session.finished_at, session.ended_by,
                        json.dumps(session.summary) if session.summary is not None else None,
                        session.id,
                    ],
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


# --- the hub: live sessions, their sockets, and the one scheduler -----------------------------


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


@dataclass
class Metrics:
    """Counters a capacity benchmark and an operator read."""

    cues_dispatched: int = 0  # cues handed to the sockets of their session
    cues_missed: int = 0  # cues whose send time came too late to send before due (not sent)
    cues_dropped_late: int = 0  # cue messages a socket's writer dropped because due had passed
    sessions_finished: int = 0
    scheduler_errors: int = 0
    scheduler_lag_max_ms: int = 0  # the longest a wake-up waited past its time
    gc_pause_max_ms: float = 0.0  # the longest cyclic garbage collection (it stops every greenlet)
    gc_full_collections: int = 0
    gc_pause_total_ms: float = 0.0
    gc_cpu_total_ms: float = 0.0
    gc_scheduled_full: int = 0  # full collections the scheduler ran, cues of their pause sent ahead
    gc_scheduled_last_ms: float = 0.0
    gc_scheduled_found: int = 0  # unreachable objects the last one found
    # The latest long pauses as [epoch ms, pause ms, generation], so a benchmark can tell which fell mid-walk.
    gc_long_pauses: list = field(default_factory=list)
    sessions_unloaded: int = 0  # live sessions nobody watched, dropped from memory (reloaded on demand)
    ready_sessions_forgotten: int = 0  # sessions made but never started, deleted after READY_SESSION_TTL_S
    empty_devices_forgotten: int = 0  # devices that never stored anything, deleted after EMPTY_DEVICE_TTL_S


def _checkpoint(session: LiveSession) -> dict:
    """A copy of a session's fields (the walk is immutable), to put back if persisting a change fails."""
    return dict(session.__dict__)


class LiveHub:
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
        self.store = store
        # None: the garbage collector runs on its own, as in any process (tests, the dev server).
        self.full_gc_every_ms = full_gc_every_ms
        self._gc_generation = 0  # only the latest FULL_GC entry counts
        self._gc_due = False
        self._closed_since_gc = 0
        self._socket_count = 0  # sockets attached and not yet detached (kept as they come and go: a sum over 10,000 sessions per close is not cheap)
        self._gc_last_at = 0  # when the scheduler's last full collection ended
        self._gc_threshold_before: tuple[int, int, int] | None = None
        self.empty_device_ttl_ms = empty_device_ttl_ms
        self.idle_unload_ms = idle_unload_ms
        self.ready_ttl_ms = ready_ttl_ms
        self.housekeeping_ms = housekeeping_ms
        # When each session in memory was last seen with no socket (housekeeping unloads it after idle_unload_ms).
        self.unwatched_since: dict[str, int] = {}
        self._housekeeping_scheduled = False
        # Two leads: a `cue` is pushed lead_ms before its due; a start takes effect (and a skip
        # lands) start_lead_ms after the tap, short so the first word comes soon (None: the same).
        self.lead_ms = int(lead_ms)
        self.start_lead_ms = int(lead_ms if start_lead_ms is None else start_lead_ms)
        self.margin_ms = int(margin_ms)
        self.max_pause_ms = max_pause_ms
        self.clock = clock
        self.lock = threading.RLock()
        self.sessions: dict[str, LiveSession] = {}
        self.watchers: dict[str, set[Watcher]] = {}
        self.heap: list[tuple[int, int, str, int]] = []
        self._heap_floor = 0  # entries left by the last compaction: all current then
        self.metrics = Metrics()
        self._counter = itertools.count()
        self._wake = threading.Event()
        # Missed cues are logged in a summary line at most once a second.
        self._missed_logged_at, self._missed_unlogged, self._missed_worst_ms = 0, 0, -self.margin_ms
        self._thread: threading.Thread | None = None
        self._stopping = False

    # --- loading -----------------------------------------------------------------------

    def restore(self) -> int:
        """Reload running and paused sessions after a restart; finish those whose end has passed."""
        now = self.clock()
        with self.lock:
            # Another instance's walks are its own to bring back (they share the database).
            for session in self.store.load_live(_shard):
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

    def hello(self, session: LiveSession, now: int) -> dict:
        """The first message a socket gets: the session, its clock and the whole timeline."""
        return {
            "type": "hello",
            "session": session.describe(now),
            "state": session.state,
            "server_time": now,
            "lead_ms": self.lead_ms,
            "start_lead_ms": self.start_lead_ms,
            **session.track,
            "timeline": session.timeline,
        }

    def attach(self, session_id: str, watcher: Watcher) -> LiveSession:
        """Add a socket to a session: it gets `hello`, then any cue already on its way, then everything new."""
        self.start()
        with self.lock:
            session = self._get(session_id)
            now = self.clock()
            watcher.deliver(encode(self.hello(session, now)))
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
            self._closed_since_gc += 1
            if self.full_gc_every_ms and self._closed_since_gc >= max(FULL_GC_MIN_CLOSED, FULL_GC_CLOSED_SHARE * self._socket_count):
                self._closed_since_gc = 0
                # The closed sockets' cycles are garbage worth collecting soon.
                self._schedule_full_gc(max(self.clock(), self._gc_last_at + FULL_GC_MIN_GAP_MS))
                self._wake.set()
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

    def broadcast(self, session_id: str, message: dict, not_after: int | None = None) -> int:
        """Queue one message for every socket of a session; returns how many took it."""
        watchers = self.watchers.get(session_id)
        if not watchers:
            return 0
        text = encode(message)
        delivered = 0
        for watcher in list(watchers):
            if watcher.deliver(text, not_after):
                delivered += 1
            elif watcher in watchers:
                watchers.discard(watcher)
                self._socket_count -= 1
        return delivered

    def _state_message(self, session: LiveSession, event: Event, now: int) -> dict:
        """The `state` broadcast after a change."""
        return {
            "type": "state",
            "state": session.state,
            "event": event.type if event.type != "finish" else session.ended_by,
            "at": event.at,
            "server_time": now,
            **session.clock(now),
        }

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
                self.broadcast(session_id, self._state_message(session, event, now))
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
        self.broadcast(session.id, self._state_message(session, event, now))
        self.broadcast(session.id, {"type": "finished", "session": session.id, "summary": session.summary})
        session.generation += 1
        if session.id not in self.watchers:
            self.sessions.pop(session.id, None)

    # --- the scheduler ----------------------------------------------------------------------

    def _schedule(self, session: LiveSession, wake_scheduler: bool = True) -> None:
        """(Re)enter a session's next wake-up in the heap; older entries for it go stale."""
        session.generation += 1
        wake = session.next_wake_ms(self.lead_ms, self.max_pause_ms)
        if wake is not None:
            heapq.heappush(self.heap, (wake, next(self._counter), session.id, session.generation))
            self._compact_if_stale()
            # Only a change from outside wakes the scheduler: inside a tick it would make the
            # scheduler's wait return at once, and a scheduler that never waits starves the writers.
            if wake_scheduler:
                self._wake.set()

    def _is_current(self, entry: tuple[int, int, str, int]) -> bool:
        """Whether a heap entry still matters: housekeeping, an unloaded session's end, or a session's latest wake-up."""
        _, _, session_id, generation = entry
        if session_id == HOUSEKEEPING or generation == UNLOADED:
            return True
        if session_id == FULL_GC:
            return generation == self._gc_generation
        session = self.sessions.get(session_id)
        return session is not None and session.generation == generation

    def _compact_if_stale(self) -> None:
        """Drop stale wake-ups once the heap has doubled since the last compaction (so each costs as many pushes as it keeps)."""
        if len(self.heap) <= 2 * self._heap_floor + HEAP_SLACK:
            return
        self.heap = [entry for entry in self.heap if self._is_current(entry)]
        heapq.heapify(self.heap)
        self._heap_floor = len(self.heap)

    def _advance(self, session: LiveSession, now: int, early_ms: int = 0) -> None:
        """Send a session's cues whose time has come (`early_ms` sooner still), and finish it at its end."""
        if session.state == PAUSED:
            if self.max_pause_ms and now - session.paused_at >= self.max_pause_ms:
                self._finish(session, session.paused_at + self.max_pause_ms, ENDED_STOPPED)
            return
        send, missed = session.take_due(now, self.lead_ms + early_ms, self.margin_ms)
        for cue, due in send:
            self.metrics.cues_dispatched += 1
            self.broadcast(session.id, cue_message(cue, due), not_after=due - self.margin_ms)
        if missed:
            self._note_missed(missed, now)
        end = session.end_at()
        if end is not None and end <= now:
            self._finish(session, end, ENDED_COMPLETE)
        else:
            self._schedule(session, wake_scheduler=False)

    def _note_missed(self, missed: list[tuple[dict, int]], now: int) -> None:
        """Count cues not sent in time; log them at most once a second (a line per cue would slow a scheduler already behind)."""
        self.metrics.cues_missed += len(missed)
        self._missed_unlogged += len(missed)
        self._missed_worst_ms = max(self._missed_worst_ms, now - missed[0][1])
        if now - self._missed_logged_at >= MS_PER_S:
            log.warning("%d cue(s) not sent since the last note: due passed or too soon (the worst %d ms ago)", self._missed_unlogged, self._missed_worst_ms)
            self._missed_logged_at, self._missed_unlogged, self._missed_worst_ms = now, 0, -self.margin_ms

    def tick(self, now: int | None = None, budget_s: float | None = None) -> int | None:
        """Handle the wake-ups that have come (for at most `budget_s`); return when the next one is due."""
        with self.lock:
            now = self.clock() if now is None else now
            stop_at = time.monotonic() + budget_s if budget_s is not None else None
            while self.heap and self.heap[0][0] <= now:
                if stop_at is not None and time.monotonic() > stop_at:
                    break
                at, _, session_id, generation = heapq.heappop(self.heap)
                if session_id == HOUSEKEEPING:
                    self.housekeep(now)
                    continue
                if session_id == FULL_GC:
                    # Collected by the scheduler outside the lock, after this slice (see collect_garbage).
                    self._gc_due = self._gc_due or generation == self._gc_generation
                    continue
                if generation == UNLOADED:
                    self._settle_unloaded(session_id, now)
                    continue
                session = self.sessions.get(session_id)
                if session is None or session.generation != generation:
                    continue
                if now - at > self.metrics.scheduler_lag_max_ms:
                    self.metrics.scheduler_lag_max_ms = now - at
                try:
                    self._advance(session, now)
                except Exception as exc:
                    # Try again shortly (a busy database, say) rather than forget the session.
                    self.metrics.scheduler_errors += 1
                    if is_storage_fault(exc):  # a full or read-only disk: one line, not a traceback a second
                        log.warning("Session %s not stored (%s); trying again in %d ms", session_id, exc, RETRY_MS)
                    else:
                        log.exception("Scheduler failed on session %s", session_id)
                    heapq.heappush(self.heap, (now + RETRY_MS, next(self._counter), session_id, session.generation))
            return self.heap[0][0] if self.heap else None

    # --- garbage collection between slices, with every cue of the pause sent ahead -------------

    def _schedule_full_gc(self, at: int) -> None:
        """Put the (one) next full collection in the heap; any earlier entry for it goes stale."""
        self._gc_generation += 1
        heapq.heappush(self.heap, (at, next(self._counter), FULL_GC, self._gc_generation))

    def send_ahead(self, now: int, early_ms: int) -> int:
        """Send now every running session's cues due within the lead plus `early_ms`; returns how many sessions it advanced."""
        with self.lock:
            coming = []
            while self.heap and self.heap[0][0] <= now + early_ms:
                coming.append(heapq.heappop(self.heap))
            advanced = 0
            # Each entry once: a session's next wake-up lands after now + early_ms, unless it is its end.
            for entry in coming:
                _, _, session_id, generation = entry
                session = self.sessions.get(session_id)
                if session is not None and session.generation == generation and session.state == RUNNING:
                    try:
                        self._advance(session, now, early_ms)
                        advanced += 1
                    except Exception:
                        self.metrics.scheduler_errors += 1
                        log.exception("Scheduler failed on session %s", session_id)
                        heapq.heappush(self.heap, (now + RETRY_MS, next(self._counter), session_id, session.generation))
                elif self._is_current(entry):
                    heapq.heappush(self.heap, entry)  # housekeeping, a paused session's limit, an unloaded end: on time
            return advanced

    def collect_garbage(self) -> None:
        """A full collection with the cues of its pause already sent; the next one comes FULL_GC_EVERY_MS later."""
        self.send_ahead(self.clock(), GC_HEADROOM_MS)
        started = time.perf_counter()
        found = gc.collect()
        self.metrics.gc_scheduled_full += 1
        self.metrics.gc_scheduled_last_ms = round((time.perf_counter() - started) * MS_PER_S, 1)
        self.metrics.gc_scheduled_found = found
        with self.lock:
            self._closed_since_gc = 0
            self._gc_last_at = self.clock()
            self._schedule_full_gc(self._gc_last_at + self.full_gc_every_ms)

    def _run(self) -> None:
        """The scheduler: sleep until the earliest wake-up (or a change), handle it in slices, repeat."""
        while not self._stopping:
            try:
                next_at = self.tick(budget_s=TICK_SLICE_S)
                if self._gc_due:
                    self._gc_due = False
                    self.collect_garbage()
                    continue
            except Exception:  # never let one bad session stop every walker's cues
                log.exception("Scheduler tick failed")
                next_at = self.clock() + MS_PER_S
            timeout = None if next_at is None else (next_at - self.clock()) / MS_PER_S
            if timeout is not None and timeout <= 0:
                # More is due already: yield first, so the sockets' writers send what was queued.
                time.sleep(0)
                continue
            self._wake.wait(timeout)
            # A change that comes after this is in the heap, which the next tick reads anyway.
            self._wake.clear()

    # --- housekeeping: bounded memory, abandoned sessions ended ---------------------------------

    def housekeep(self, now: int) -> None:
        """Unload sessions nobody has watched for a while and forget ready ones never started; then come back later."""
        try:
            self._unload_idle(now)
            if self.ready_ttl_ms:
                self.metrics.ready_sessions_forgotten += self.store.forget_ready(now - self.ready_ttl_ms, keep=set(self.sessions))
            if self.empty_device_ttl_ms:
                self.metrics.empty_devices_forgotten += self.store.forget_empty_devices(now - self.empty_device_ttl_ms)
        except Exception:  # a busy database, say: the next round tries again
            log.exception("Housekeeping failed")
        finally:
            heapq.heappush(self.heap, (now + self.housekeeping_ms, next(self._counter), HOUSEKEEPING, 0))

    def _unload_idle(self, now: int) -> None:
        """Drop from memory the sessions with no socket for idle_unload_ms (their end stays in the heap)."""
        for session_id in list(self.unwatched_since):
            if session_id in self.watchers or session_id not in self.sessions:
                del self.unwatched_since[session_id]
        if self.idle_unload_ms is None:
            return
        for session_id, session in list(self.sessions.items()):
            if session_id in self.watchers:
                continue
            since = self.unwatched_since.setdefault(session_id, now)
            if now - since >= self.idle_unload_ms:
                self._unload(session)

    def _unload(self, session: LiveSession) -> None:
        """Forget a session's in-memory copy; a marker wakes the scheduler at its end to finish it from the store."""
        del self.sessions[session.id]
        self.unwatched_since.pop(session.id, None)
        session.generation += 1  # its wake-ups go stale
        if session.state == RUNNING:
            deadline = session.end_at()
        elif session.state == PAUSED and self.max_pause_ms:
            deadline = session.paused_at + self.max_pause_ms
        else:
            deadline = None
        if deadline is not None:
            heapq.heappush(self.heap, (deadline, next(self._counter), session.id, UNLOADED))
        self.metrics.sessions_unloaded += 1

    def _settle_unloaded(self, session_id: str, now: int) -> None:
        """An unloaded session's end has come: load it and let it finish (or stop, if paused too long)."""
        if session_id in self.sessions:
            return  # reloaded meanwhile: its own wake-ups drive it
        try:
            session = self._get(session_id)
            if session.state not in LIVE_STATES:
                # Settled already (by an earlier marker of the same session): nothing to keep in memory.
                self.sessions.pop(session_id, None)
                return
            self._advance(session, now)
        except SessionGone:
            return
        except Exception:
            self.metrics.scheduler_errors += 1
            log.exception("Could not settle unloaded session %s", session_id)
            self.sessions.pop(session_id, None)
            heapq.heappush(self.heap, (now + RETRY_MS, next(self._counter), session_id, UNLOADED))

    def start(self) -> None:
        """Start the scheduler thread (a greenlet under gevent) once."""
        with self.lock:
            if not self._housekeeping_scheduled:
                self._housekeeping_scheduled = True
                heapq.heappush(self.heap, (self.clock() + self.housekeeping_ms, next(self._counter), HOUSEKEEPING, 0))
                if self.full_gc_every_ms:
                    # From now on full collections are the scheduler's (young ones stay automatic).
                    self._gc_threshold_before = gc.get_threshold()
                    young, older, _ = self._gc_threshold_before
                    gc.set_threshold(young, older, NO_AUTOMATIC_FULL_GC)
                    self._schedule_full_gc(self.clock() + self.full_gc_every_ms)
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="cue-scheduler", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Stop the scheduler (tests and shutdown)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._gc_threshold_before is not None:
            gc.set_threshold(*self._gc_threshold_before)  # full collections are automatic again

    def overdue(self) -> bool:
        """Whether a wake-up's time has come and the scheduler has not taken it yet (read without the lock: a hint)."""
        heap = self.heap
        return bool(heap) and heap[0][0] <= self.clock()

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


# GC pauses at least this long (ms) are logged with their time, the latest GC_LONG_PAUSES_KEPT of them.
GC_LONG_PAUSE_MS = 50
GC_LONG_PAUSES_KEPT = 100


def _watch_gc(metrics: Metrics) -> None:
    """Time the garbage collector's pauses: a long one holds up every cue of every walker."""
    started: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter(), time.process_time()]
        elif started:
            pause = (time.perf_counter() - started[0]) * MS_PER_S
            metrics.gc_pause_max_ms = max(metrics.gc_pause_max_ms, round(pause, 1))
            metrics.gc_pause_total_ms += pause
            # CPU time apart from wall time: on a busy machine a pause also counts time the OS gave others.
            metrics.gc_cpu_total_ms += (time.process_time() - started[1]) * MS_PER_S
            if pause >= GC_LONG_PAUSE_MS:
                metrics.gc_long_pauses = [*metrics.gc_long_pauses[-GC_LONG_PAUSES_KEPT + 1:], [now_ms(), round(pause, 1), info.get("generation")]]
            if info.get("generation") == 2:
                metrics.gc_full_collections += 1

    gc.callbacks.append(on_gc)


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
    _watch_gc(hub.metrics)
    hub.restore()
    return hub
