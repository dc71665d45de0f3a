"""Storage: SQLite through sqlite-utils, WAL, foreign keys on, numbered migrations, a connection per thread."""

from __future__ import annotations

import _thread
import hashlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app, g
from sqlite_utils import Database

from .clock import MS_PER_S

# SQLite's primary result code is the low byte of its extended code (sqlite3.Error.sqlite_errorcode).
SQLITE_PRIMARY_CODE_MASK = 0xFF
# Primary codes that mean the storage cannot take a write now (busy, locked, read-only, I/O error,
# damaged, full, cannot open): the request was fine, the disk is not.
STORAGE_FAULT_CODES = frozenset({5, 6, 8, 10, 11, 13, 14})
# ...of which these two mean another connection holds the lock: try again later.
SQLITE_BUSY, SQLITE_LOCKED = 5, 6


def sqlite_primary_code(exc: BaseException) -> int | None:
    """SQLite's primary result code behind an error, or None when it is not SQLite's (or gives none)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(exc, sqlite3.Error) or code is None:
        return None
    return code & SQLITE_PRIMARY_CODE_MASK


def is_storage_fault(exc: BaseException) -> bool:
    """Whether an error is the database refusing to store (not a bug in the request or the code)."""
    return sqlite_primary_code(exc) in STORAGE_FAULT_CODES


# Seconds a writer waits for another's lock before giving up (SQLite's busy timeout).
BUSY_TIMEOUT_S = 10.0
# The database's name in the data folder (create_app and `retrowalk serve` agree on it).
DATABASE_FILE = "retrowalk.db"
# How often a Checkpointer copies the write-ahead log into the database file when it is on
# (`retrowalk serve`). After a whole copy the next commit starts the log afresh, and that commit
# flushes the log's new header to disk in the worker: every 2 s made 59 such flushes in a
# 2-minute soak, every 10 s 13 but a 17 MB log; 5 s is between.
CHECKPOINT_EVERY_S = 5.0
# The write-ahead log's bound. SQLite starts the log afresh only when a commit begins with the whole
# log copied back; under continuous commits one always lands during a Checkpointer's copy, so the
# log grew without end (38.7 MB in a 10-minute soak). Where a Checkpointer copies, the scheduler
# catches the log up in an upkeep pause once it is past this size (catch_up); every connection
# also cuts the file back to it when the log starts afresh (PRAGMA journal_size_limit). 4 MB is
# about SQLite's own trigger for a copy (1,000 pages of 4 KB), what SQLite alone kept in the soak.
LOG_LIMIT_BYTES = 4 * 1024 * 1024
# The one write a catch-up makes to start the log afresh: the database header's application id,
# always this value ("RWK1"), so from the second catch-up on the write changes nothing but the log.
APPLICATION_ID = 0x52574B31
# Databases (absolute paths) whose log a Checkpointer copies: their connections never do it in a commit.
_CHECKPOINTED_ELSEWHERE: set[str] = set()


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
    if os.path.abspath(str(path)) in _CHECKPOINTED_ELSEWHERE:
        # A commit that copied the log back would flush the disk twice with the whole worker stopped (see Checkpointer).
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    # When the log starts afresh, its file is cut back to LOG_LIMIT_BYTES (it never shrinks otherwise).
    conn.execute(f"PRAGMA journal_size_limit = {LOG_LIMIT_BYTES}")
    return Database(conn)


def checkpoint(db: Database | sqlite3.Connection) -> tuple[int, int]:
    """Copy the write-ahead log into the database file, waiting for no one: (pages in the log, pages copied).

    Both are 0 when another connection is copying at the time (SQLite answers "busy" at once).
    """
    busy, in_log, copied = _copy_log(db)
    return (0, 0) if busy else (in_log, copied)


def _copy_log(db: Database | sqlite3.Connection) -> tuple[int, int, int]:
    """SQLite's copy of the log that waits for no one: (busy, pages in the log, pages copied)."""
    return db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def log_copied_elsewhere(path: str | Path) -> bool:
    """Whether a Checkpointer copies this database's log, so no commit of its connections ever does."""
    return os.path.abspath(str(path)) in _CHECKPOINTED_ELSEWHERE


def log_bytes(path: str | Path) -> int:
    """The size of a database's write-ahead log file (0 when it has none, or it cannot be looked at)."""
    try:
        return os.path.getsize(f"{path}-wal")
    except OSError:  # gone with its data folder, say: nothing a catch-up could do
        return 0


class LogHold:
    """A read transaction kept open on the write-ahead log, so that no ordinary commit starts the log afresh.

    A commit starts the log afresh whenever the whole log was copied before it began and no
    reader is on the log, and that commit flushes the new log's header to disk with the worker
    stopped, whatever it is (a walk's start, its first cue 500 ms away): with a Checkpointer,
    each of its copies that no commit interrupted let the next commit do that. Held, this lets
    only the scheduler's catch-up start the log afresh (released for it, taken again after). It
    also stops the Checkpointer's copies at the frame it was taken at, so the scheduler moves it
    on at each look, when something was committed since (then the log is not whole, and the hold
    is on the log again).
    """

    def __init__(self, path: str | Path):
        """Two connections of their own, for an owner that serialises their use (the live hub's store)."""
        self.reader = connect(path, shared_across_threads=True).conn
        # Asked whether anyone committed since the hold was taken (PRAGMA data_version).
        self.probe = connect(path, shared_across_threads=True).conn
        self.held = False
        self._version: int | None = None

    def move_on(self) -> None:
        """Hold the log from its end as it is now, unless nothing was committed since the hold was taken."""
        version = self.probe.execute("PRAGMA data_version").fetchone()[0]
        if self.held and version == self._version:
            return  # taken on a log that was not whole, it still holds; taken again it might not
        self.release()
        self.reader.execute("BEGIN")
        try:
            self.reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read begins here
        except BaseException:
            self.reader.execute("ROLLBACK")
            raise
        self.held, self._version = True, version

    def release(self) -> None:
        """Let go of the log (for a catch-up, or for good)."""
        self.held = False
        if self.reader.in_transaction:
            self.reader.execute("COMMIT")

    def close(self) -> None:
        """Let go and close both connections."""
        self.release()
        self.reader.close()
        self.probe.close()


def catch_up(conn: sqlite3.Connection, hold: LogHold | None = None) -> bool:
    """Copy what is left of the log and start it afresh, from the thread that makes every commit; False: not now.

    For a moment when no commit can come in between and no cue is due (the scheduler's upkeep
    pause): the copy waits for no one and gives up at once if a Checkpointer is mid-copy or a
    reader still uses the log's pages; once all of it is copied, one write makes the log start
    again from its beginning, flushing its new header now rather than in whichever commit comes
    next, and cuts its file back to LOG_LIMIT_BYTES. The `hold` is let go for it and taken again.
    """
    if hold is not None:
        hold.release()
    try:
        return _catch_up(conn)
    finally:
        if hold is not None:
            hold.move_on()


def _catch_up(conn: sqlite3.Connection) -> bool:
    """catch_up with no reader of this process on the log."""
    busy, in_log, copied = _copy_log(conn)
    if busy or copied < in_log:
        return False
    if in_log <= 0:
        return True  # nothing in the log: the next commit starts it afresh without a catch-up
    # A writer elsewhere (another process) would make this wait BUSY_TIMEOUT_S with every walker stopped.
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except sqlite3.OperationalError as exc:
        if sqlite_primary_code(exc) not in (SQLITE_BUSY, SQLITE_LOCKED):
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * MS_PER_S)}")
    return True


def _os_thread() -> tuple[Callable[..., Any], Callable[[float], None]]:
    """start_new_thread and sleep as the OS gives them, even where gevent patched them (its threads are greenlets)."""
    try:
        from gevent import monkey
    except ImportError:
        return _thread.start_new_thread, time.sleep
    return monkey.get_original("_thread", "start_new_thread"), monkey.get_original("time", "sleep")


class Checkpointer:
    """Copies a database's write-ahead log into its file every few seconds, from an OS thread of its own.

    Left to SQLite, the copy runs inside whichever commit takes the log past 1,000 pages, and
    its two flushes to disk (0.2-0.8 s on this shared machine's busy disk) stop the whole gevent
    worker: in the soak benchmark a walk's start whose commit ran one sent its first cue, due
    500 ms after the tap, with 104 ms to spare. SQLite lets go of the GIL while it copies and
    flushes, so from a real thread the worker keeps serving; once started, every connection to
    the database (connect) leaves the copy to it. Only a commit starts the log afresh, though,
    and only when the whole of it was copied before it began: the worker's scheduler does the
    last bit of the copy itself when the log is past LOG_LIMIT_BYTES (catch_up), at a moment
    no cue is due.
    """

    def __init__(self, path: str | Path, every_s: float = CHECKPOINT_EVERY_S):
        """A checkpointer of the database at `path`, copying every `every_s` seconds once started."""
        self.path = os.path.abspath(str(path))
        self.every_s = float(every_s)
        self.runs = 0
        self.pages_copied = 0
        self.longest_ms = 0.0
        self.failures = 0
        self.last_failure: str | None = None
        self._stopping = False

    def take_over(self) -> Checkpointer:
        """From now on connections opened to the database leave the copy to this."""
        _CHECKPOINTED_ELSEWHERE.add(self.path)
        return self

    def start(self) -> Checkpointer:
        """Take the copy over and start the thread that does it."""
        self.take_over()
        start_thread, self._sleep = _os_thread()
        start_thread(self._run, ())
        return self

    def run_once(self, db: Database) -> int:
        """One copy through `db`; returns the pages it copied (the figures are kept for the metrics)."""
        began = time.monotonic()
        _in_log, copied = checkpoint(db)  # nothing, when the scheduler is catching the log up (catch_up)
        self.runs += 1
        self.pages_copied += copied
        self.longest_ms = max(self.longest_ms, (time.monotonic() - began) * 1000)
        return copied

    def _run(self) -> None:
        """The thread: its own connection (made here: a connection stays in its thread), a copy every every_s."""
        db = connect(self.path)
        try:
            while not self._stopping:
                self._sleep(self.every_s)
                try:
                    self.run_once(db)
                except Exception as exc:  # a busy or vanished file: try again next time, or the log grows without end
                    # Counted, not logged: the logging module's locks are gevent's, not this thread's.
                    self.failures += 1
                    self.last_failure = str(exc)
        finally:
            db.close()

    def stop(self) -> None:
        """End the thread after its current wait; connections opened from now on copy for themselves again."""
        self._stopping = True
        _CHECKPOINTED_ELSEWHERE.discard(self.path)

    def snapshot(self) -> dict[str, Any]:
        """The figures for /api/live/metrics."""
        return {
            "every_s": self.every_s,
            "runs": self.runs,
            "pages_copied": self.pages_copied,
            "longest_ms": round(self.longest_ms, 1),
            "failures": self.failures,
            "last_failure": self.last_failure,
        }


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
    """Live sessions (walks) and the events that moved them (start, pause, resume, skip, stop, finish)."""
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
        text, created_at = db.conn.execute(
            "SELECT timeline, created_at FROM sessions WHERE id = ?", [session_id]
        ).fetchone()
        timeline_id = timeline_hash(text)
        db.execute(
            "INSERT OR IGNORE INTO timelines (id, cues, created_at) VALUES (?, ?, ?)", [timeline_id, text, created_at]
        )
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
