"""Storage: SQLite through sqlite-utils, WAL, foreign keys on, numbered migrations, a connection per thread."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Callable

from flask import current_app, g
from sqlite_utils import Database

# Seconds a writer waits for another's lock before giving up (SQLite's busy timeout).
BUSY_TIMEOUT_S = 10.0
# The database's name in the data folder (create_app and `retrowalk serve` agree on it).
DATABASE_FILE = "retrowalk.db"


def connect(path: str | Path, *, shared_across_threads: bool = False) -> Database:
    """Open one connection with the pragmas every connection needs (foreign keys are per connection).

    Every SQLite file of the app is opened here: the database, the live hub's store and the
    audio cache's index. shared_across_threads is for an owner that serialises every use of
    the connection under a lock of its own (the live hub's store).
    """
    # autocommit mode: each statement commits unless we open a transaction with `with db.conn:`.
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=not shared_across_threads
    )
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL with synchronous=NORMAL: a committed write survives the process being killed.
    conn.execute("PRAGMA synchronous = NORMAL")
    return Database(conn)


def _m001_devices_and_plans(db: Database) -> None:
    """Devices (the cookie identity) and the custom plans that belong to them."""
    # Plain SQL rather than Table.create: sqlite-utils commits inside its own helpers,
    # which would end the migration's transaction half way.
    db.execute(
        """CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE plans (
            id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            segments TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX plans_by_device ON plans(device_id)")


def _m002_sessions(db: Database) -> None:
    """Live workouts and the events that moved them (start, pause, resume, skip, stop, finish)."""
    db.execute(
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            plan_id TEXT NOT NULL,
            plan_name TEXT NOT NULL,
            plan TEXT NOT NULL,            -- JSON segments, a snapshot: editing the plan later changes nothing here
            options TEXT NOT NULL,         -- JSON cue options the timeline was compiled with
            timeline TEXT NOT NULL,        -- JSON cues with their audio URLs
            state TEXT NOT NULL,           -- ready, running, paused, finished
            created_at INTEGER NOT NULL,   -- epoch ms, server clock (as every time here)
            started_at INTEGER,
            paused_at INTEGER,
            shift_ms INTEGER NOT NULL DEFAULT 0,
            finished_at INTEGER,
            ended_by TEXT,                 -- complete or stopped
            summary TEXT                   -- JSON, written in the same transaction as the finish
        )"""
    )
    db.execute("CREATE INDEX sessions_by_device ON sessions(device_id, created_at)")
    db.execute("CREATE INDEX sessions_live ON sessions(state) WHERE state IN ('running', 'paused')")
    db.execute(
        """CREATE TABLE session_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            at INTEGER NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute("CREATE INDEX session_events_by_session ON session_events(session_id, id)")


def _m003_settings(db: Database) -> None:
    """Per-device settings: units, weight, cue options, voice language, time zone, programme."""
    db.execute(
        """CREATE TABLE settings (
            device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
            data TEXT NOT NULL,            -- JSON, validated by the settings module
            updated_at INTEGER NOT NULL
        )"""
    )


def _m004_offline_walks(db: Database) -> None:
    """Walks played without the server and uploaded later: the phone's own id for each, unique per device."""
    db.execute("ALTER TABLE sessions ADD COLUMN client_id TEXT")
    # A retry of the same upload finds the walk already stored instead of counting it twice.
    db.execute("CREATE UNIQUE INDEX sessions_by_client ON sessions(device_id, client_id) WHERE client_id IS NOT NULL")


def _m005_shared_timelines(db: Database) -> None:
    """Timelines stored once each, shared by every session compiled from the same plan, options and voice.

    A 200-segment plan's timeline is hundreds of KB; a walker repeats plans, so sessions point to
    a row of `timelines` by the hash of its text instead of each keeping a copy. The sessions
    stored so far are moved across (their `timeline` column is left empty).
    """
    db.execute(
        """CREATE TABLE timelines (
            id TEXT PRIMARY KEY,           -- SHA-256 of the cues' JSON text
            cues TEXT NOT NULL,            -- JSON cues with their audio URLs
            created_at INTEGER NOT NULL
        )"""
    )
    db.execute("ALTER TABLE sessions ADD COLUMN timeline_id TEXT REFERENCES timelines(id)")
    db.execute("CREATE INDEX sessions_by_timeline ON sessions(timeline_id)")
    # Sessions made but never started are forgotten after a while (server/limits.py): found by this.
    db.execute("CREATE INDEX sessions_ready ON sessions(created_at) WHERE state = 'ready'")
    # One session at a time: a large database's timelines need not fit in memory at once.
    to_move = [row[0] for row in db.conn.execute("SELECT id FROM sessions WHERE timeline != ''")]
    for session_id in to_move:
        text, created_at = db.conn.execute("SELECT timeline, created_at FROM sessions WHERE id = ?", [session_id]).fetchone()
        timeline_id = timeline_hash(text)
        db.execute("INSERT OR IGNORE INTO timelines (id, cues, created_at) VALUES (?, ?, ?)", [timeline_id, text, created_at])
        db.execute("UPDATE sessions SET timeline_id = ?, timeline = '' WHERE id = ?", [timeline_id, session_id])


def timeline_hash(text: str) -> str:
    """The id of a timeline: the SHA-256 of its JSON text (equal timelines share one row)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Append only: a migration that has shipped is never edited, a new one is added.
MIGRATIONS: list[Callable[[Database], None]] = [
    _m001_devices_and_plans,
    _m002_sessions,
    _m003_settings,
    _m004_offline_walks,
    _m005_shared_timelines,
]


def schema_version(db: Database) -> int:
    """The number of migrations applied to this database."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: Database) -> int:
    """Apply the migrations this database has not had yet, each in its own transaction."""
    db.enable_wal()
    version = schema_version(db)
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")
            migration(db)
            db.conn.execute(f"PRAGMA user_version = {number}")
    return schema_version(db)


def get_db() -> Database:
    """This request's connection, opened on first use and closed when the request ends."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Close the request's connection, if it opened one."""
    db = g.pop("db", None)
    if db is not None:
        db.close()
