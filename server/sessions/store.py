"""Sessions in SQLite: every statement on the sessions, session_events and timelines tables.

A session row keeps a snapshot of its plan, its options and the walk clock's few numbers; its
events (the skips, and the last event's time) are rows of ``session_events``; equal timelines
share one row of ``timelines`` (by the hash of their text). The tables themselves are made by
server/db.py's migrations; server/sessions/rows.py reads the rows fetched here. Request
handlers pass their connection (``get_db()``); the live hub has its own (``SessionStore``),
shared by the scheduler and the sockets under a lock.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from ..db import LOG_LIMIT_BYTES, LogHold, catch_up, connect, log_bytes, log_copied_elsewhere, timeline_hash
from ..programmes import CompletedWalk
from ..stats import WalkRecord
from ..walkclock import ENDED_COMPLETE, READY
from .model import Event, LiveSession
from .rows import history_entry, session_from_row, walk_record

SESSION_ID_BYTES = 12

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
    """An unguessable session id after this instance's shard (ownership is checked too; this stops enumeration)."""
    return _shard + secrets.token_urlsafe(SESSION_ID_BYTES)


def current_shard() -> str:
    """This process's shard ("" for a single instance): the walks it brings back after a restart."""
    return _shard


# --- writing sessions (a request's connection) ------------------------------------------------


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
        """INSERT INTO sessions
               (id, device_id, plan_id, plan_name, plan, options, timeline, timeline_id, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?)""",
        [
            session_id,
            device_id,
            plan.id,
            plan.name,
            json.dumps([s.to_dict() for s in plan.segments]),
            json.dumps(options),
            timeline_id,
            READY,
            now,
        ],
    )
    return session_id


def insert_played_session(db: Database, session: LiveSession, events: Iterable[Event], client_id: str) -> None:
    """Store a walk played elsewhere (a phone offline), finished, with its events, in one transaction.

    The caller holds the transaction (BEGIN IMMEDIATE), so a retry racing this one finds it.
    """
    db.execute(
        """INSERT INTO sessions
               (id, device_id, plan_id, plan_name, plan, options, timeline, timeline_id, state, created_at,
                started_at, paused_at, shift_ms, finished_at, ended_by, summary, client_id)
           VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            session.id,
            session.device_id,
            session.plan_id,
            session.plan_name,
            json.dumps([s.to_dict() for s in session.segments]),
            json.dumps(session.options),
            store_timeline(db, session.timeline, session.created_at),
            session.state,
            session.created_at,
            session.started_at,
            session.paused_at,
            session.shift_ms,
            session.finished_at,
            session.ended_by,
            json.dumps(session.summary),
            client_id,
        ],
    )
    for event in events:
        db.execute(
            "INSERT INTO session_events (session_id, at, type, data) VALUES (?, ?, ?, ?)",
            [session.id, event.at, event.type, json.dumps(event.data)],
        )


SESSION_COLUMNS = (
    "id",
    "device_id",
    "plan_id",
    "plan_name",
    "plan",
    "options",
    "timeline",
    "state",
    "created_at",
    "started_at",
    "paused_at",
    "shift_ms",
    "finished_at",
    "ended_by",
    "summary",
    "timeline_id",
)
# SESSION_COLUMNS as a SELECT list that fetches the shared timeline (a row from before
# migration 5 that still has its own copy is read as it is).
TIMELINE_COLUMN = (
    "COALESCE((SELECT cues FROM timelines WHERE timelines.id = sessions.timeline_id), sessions.timeline) AS timeline"
)
SESSION_SELECT = ", ".join(TIMELINE_COLUMN if name == "timeline" else f"sessions.{name}" for name in SESSION_COLUMNS)
# --- reading and deleting one device's sessions (a request's connection) -------------------


def device_session_row(db: Database, session_id: str, device_id: str) -> dict | None:
    """One of this device's sessions as stored, timeline included, else None."""
    select = f"SELECT {SESSION_SELECT} FROM sessions WHERE id = ? AND device_id = ?"
    row = db.execute(select, [session_id, device_id]).fetchone()
    return dict(zip(SESSION_COLUMNS, row)) if row else None


def device_session(db: Database, session_id: str, device_id: str) -> LiveSession | None:
    """One of this device's sessions with its events, as the model, else None (another device's is not found either)."""
    row = device_session_row(db, session_id, device_id)
    if row is None:
        return None
    events = db.query("SELECT type, at, data FROM session_events WHERE session_id = ? ORDER BY id", [session_id])
    return session_from_row(row, events)


def forget_session(db: Database, session_id: str, device_id: str) -> None:
    """Forget one of this device's sessions; one statement, so atomic: its events go with it (ON DELETE CASCADE)."""
    db.execute("DELETE FROM sessions WHERE id = ? AND device_id = ?", [session_id, device_id])


def offline_session_id(db: Database, device_id: str, walk_id: str) -> str | None:
    """The session stored for a walk this device played offline, if it was uploaded before."""
    row = db.execute("SELECT id FROM sessions WHERE device_id = ? AND client_id = ?", [device_id, walk_id]).fetchone()
    return row[0] if row else None


def history(db: Database, device_id: str, limit: int, before: int | None = None) -> list[dict[str, Any]]:
    """This device's sessions as GET /api/history lists them: newest first, `limit` of them made before `before`."""
    where, params = "device_id = ?", [device_id]
    if before is not None:
        where += " AND created_at < ?"
        params.append(before)
    rows = db.execute(
        f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions WHERE {where} ORDER BY created_at DESC, rowid DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [history_entry(dict(zip(SESSION_COLUMNS, row))) for row in rows]


# What stats read of a finished session.
RECORD_COLUMNS = "id, plan_id, plan_name, plan, started_at, finished_at, ended_by, summary"


def finished_walks(db: Database, device_id: str) -> list[WalkRecord]:
    """This device's finished sessions as walk records, oldest first."""
    rows = db.query(
        f"SELECT {RECORD_COLUMNS} FROM sessions WHERE device_id = ? AND finished_at IS NOT NULL ORDER BY finished_at",
        [device_id],
    )
    return [record for record in map(walk_record, rows) if record is not None]


def finished_walk(db: Database, session_id: str, device_id: str) -> WalkRecord | None:
    """One of this device's sessions as a walk record, or None if there is no such finished one."""
    select = f"SELECT {RECORD_COLUMNS} FROM sessions WHERE id = ? AND device_id = ?"
    rows = list(db.query(select, [session_id, device_id]))
    return walk_record(rows[0]) if rows else None


def completed_walks(db: Database, device_id: str) -> list[CompletedWalk]:
    """This device's finished sessions as programme progress reads them."""
    rows = db.execute(
        "SELECT plan_id, finished_at, ended_by FROM sessions WHERE device_id = ? AND finished_at IS NOT NULL",
        [device_id],
    ).fetchall()
    return [CompletedWalk(plan_id, at, ended_by == ENDED_COMPLETE) for plan_id, at, ended_by in rows]


# --- how many sessions a device keeps (server/limits.py) -------------------------------------


def session_counts(db: Database, device_id: str) -> tuple[int, int, int]:
    """This device's sessions ready to start, live (running or paused), and in all."""
    return tuple(
        db.execute(
            """SELECT count(*) FILTER (WHERE state = 'ready'), count(*) FILTER (WHERE state IN ('running', 'paused')),
                  count(*) FROM sessions WHERE device_id = ?""",
            [device_id],
        ).fetchone()
    )


def ready_session_ids(db: Database, device_id: str) -> list[str]:
    """This device's sessions made but never started, oldest first."""
    return [
        row[0]
        for row in db.execute(
            "SELECT id FROM sessions WHERE device_id = ? AND state = 'ready' ORDER BY created_at, rowid", [device_id]
        )
    ]


def forget_ready_sessions(db: Database, session_ids: Iterable[str]) -> None:
    """Delete these sessions if they are still ready (never started: they hold nothing walked)."""
    db.conn.executemany("DELETE FROM sessions WHERE id = ? AND state = 'ready'", [(i,) for i in session_ids])


def session_count(db: Database, device_id: str) -> int:
    """How many sessions this device keeps, finished ones included."""
    return db.execute("SELECT count(*) FROM sessions WHERE device_id = ?", [device_id]).fetchone()[0]


# --- the live hub's own connection -------------------------------------------------------------


class SessionStore:
    """The live sessions' own SQLite connection, shared by the scheduler and the sockets under a lock."""

    def __init__(self, path: str):
        """Open the connection through db.connect, rows readable by column name."""
        # Shared across threads: the scheduler and the socket handlers share this one
        # connection, always under self.lock, so writes are serialised in one place.
        conn = connect(path, shared_across_threads=True).conn
        conn.row_factory = sqlite3.Row
        self.conn = conn
        self.path = path
        self.lock = threading.Lock()
        self._log_hold: LogHold | None = None  # made at the first look, where a Checkpointer copies

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            if self._log_hold is not None:
                self._log_hold.close()
            self.conn.close()

    # --- the write-ahead log, where a Checkpointer copies it (server/db.py) ----------------------

    def log_needs_catch_up(self) -> bool:
        """Whether the log is past its limit and only a catch-up from this process can start it afresh."""
        return log_copied_elsewhere(self.path) and log_bytes(self.path) > LOG_LIMIT_BYTES

    def log_bytes(self) -> int:
        """The size of the database's write-ahead log file."""
        return log_bytes(self.path)

    def hold_log(self) -> None:
        """Keep ordinary commits from starting the log afresh (db.LogHold), where a Checkpointer copies it."""
        if not log_copied_elsewhere(self.path):
            return
        with self.lock:
            if self._log_hold is None:
                self._log_hold = LogHold(self.path)
            self._log_hold.move_on()

    def catch_up_log(self) -> bool | None:
        """Copy the rest of the log and start it afresh (db.catch_up); None when SQLite does that in commits itself."""
        if not log_copied_elsewhere(self.path):
            return None
        with self.lock:
            return catch_up(self.conn, self._log_hold)

    def _events(self, session_id: str) -> list[dict]:
        """A session's events, oldest first."""
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT type, at, data FROM session_events WHERE session_id = ? ORDER BY id", [session_id]
            )
        ]

    def load(self, session_id: str) -> LiveSession | None:
        """One session, or None."""
        with self.lock:
            row = self.conn.execute(f"SELECT {SESSION_SELECT} FROM sessions WHERE id = ?", [session_id]).fetchone()
            return session_from_row(dict(row), self._events(session_id)) if row else None

    def load_live(self, shard: str = "") -> list[LiveSession]:
        """Every session of `shard` (all, if empty) that was running or paused when the server last stopped."""
        with self.lock:
            rows = [
                dict(r)
                for r in self.conn.execute(
                    f"SELECT {SESSION_SELECT} FROM sessions"
                    " WHERE state IN ('running', 'paused') AND substr(id, 1, ?) = ?",
                    [len(shard), shard],
                )
            ]
            return [session_from_row(row, self._events(row["id"])) for row in rows]

    def owner(self, session_id: str) -> str | None:
        """The device a session belongs to, or None if there is no such session."""
        with self.lock:
            row = self.conn.execute("SELECT device_id FROM sessions WHERE id = ?", [session_id]).fetchone()
            return row[0] if row else None

    def forget_ready(self, created_before: int, keep: Iterable[str] = ()) -> int:
        """Delete sessions made before `created_before`, never started, not in `keep`; then timelines none uses."""
        keep = set(keep)
        with self.lock:
            conn = self.conn
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM sessions WHERE state = 'ready' AND created_at < ?", [created_before]
                )
                if row[0] not in keep
            ]
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("DELETE FROM sessions WHERE id = ? AND state = 'ready'", [(i,) for i in ids])
                conn.execute(
                    "DELETE FROM timelines WHERE NOT EXISTS"
                    " (SELECT 1 FROM sessions WHERE sessions.timeline_id = timelines.id)"
                )
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
                        session.state,
                        session.started_at,
                        session.paused_at,
                        session.shift_ms,
                        session.finished_at,
                        session.ended_by,
                        json.dumps(session.summary) if session.summary is not None else None,
                        session.id,
                    ],
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
