"""Storage: migrations are numbered and idempotent, every connection enforces foreign keys and WAL."""

import sqlite3
import time

import pytest
import requests

from server import db

# Generous: the thread copies every 50 ms, but the machine may be loaded.
WAIT_S = 30


def test_migrations_bring_a_new_file_to_the_latest_version(tmp_path):
    database = db.connect(tmp_path / "r.db")
    assert db.migrate(database) == len(db.MIGRATIONS)
    assert {"devices", "plans", "sessions", "session_events", "settings"} <= set(database.table_names())
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrating_twice_changes_nothing(tmp_path):
    path = tmp_path / "r.db"
    first = db.connect(path)
    db.migrate(first)
    first["devices"].insert({"id": "a" * 32, "created_at": 1})
    first.close()
    again = db.connect(path)
    assert db.migrate(again) == len(db.MIGRATIONS)
    assert again["devices"].count == 1


def test_foreign_keys_are_on_for_every_connection(tmp_path):
    path = tmp_path / "r.db"
    db.migrate(db.connect(path))
    database = db.connect(path)
    with pytest.raises(sqlite3.IntegrityError):
        database.execute(
            "INSERT INTO plans (id, device_id, name, segments, created_at, updated_at)"
            " VALUES ('p', 'nobody', 'x', '[]', 1, 1)"
        )


def test_a_failed_migration_leaves_the_version_where_it_was(tmp_path, monkeypatch):
    path = tmp_path / "r.db"
    database = db.connect(path)

    def broken(d):
        d.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(db, "MIGRATIONS", db.MIGRATIONS + [broken])
    with pytest.raises(RuntimeError):
        db.migrate(database)
    assert db.schema_version(database) == len(db.MIGRATIONS) - 1
    assert "half_done" not in database.table_names()


# --- the write-ahead log's copy into the database file, off the worker ---------------------------

# More pages in the write-ahead log than SQLite's own trigger for copying it back (1,000).
LOG_PAGES = 1_200
# A row this big fills about one 4 KB page.
ROW_BYTES = 4_000


def fill_log(path) -> db.Database:
    """Commit LOG_PAGES pages nobody has copied into the database file yet; kept open (closing the last one copies)."""
    writer = db.connect(path)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE ballast (b BLOB)")
    writer.execute("BEGIN")
    writer.conn.executemany("INSERT INTO ballast VALUES (?)", [(b"\0" * ROW_BYTES,) for _ in range(LOG_PAGES)])
    writer.execute("COMMIT")
    return writer


@pytest.mark.parametrize("checkpointer", [True, False], ids=["with a checkpointer", "SQLite alone"])
def test_with_a_checkpointer_no_commit_copies_the_log_back_with_the_worker_waiting(tmp_path, checkpointer):
    # A walk's start is committed between fixing its first cue's due (500 ms away) and sending
    # it; a commit that also copied the log back flushed the disk twice first (0.2-0.8 s here).
    path = tmp_path / "r.db"
    db.migrate(db.connect(path))
    copier = db.Checkpointer(path).take_over() if checkpointer else None
    try:
        writer = fill_log(path)
        before = path.read_bytes()
        start = db.connect(path)  # opened as the hub's and each request's are: after the checkpointer took over
        start.execute("INSERT INTO devices (id, created_at) VALUES (?, 1)", ["d" * 32])
        assert (path.read_bytes() == before) is checkpointer, "only SQLite alone copies the log in a commit"
        if copier is not None:
            assert copier.run_once(start) >= LOG_PAGES
            assert path.read_bytes() != before, "the checkpointer's copy reaches the database file"
        writer.close()
    finally:
        if copier is not None:
            copier.stop()


def test_the_checkpointers_own_thread_copies_the_log(tmp_path):
    path = tmp_path / "r.db"
    db.migrate(db.connect(path))
    copier = db.Checkpointer(path, every_s=0.05).start()
    try:
        writer = fill_log(path)
        deadline = time.monotonic() + WAIT_S
        while copier.pages_copied < LOG_PAGES and time.monotonic() < deadline:
            time.sleep(0.05)
        assert copier.pages_copied >= LOG_PAGES and copier.failures == 0
        writer.close()
    finally:
        copier.stop()


def test_retrowalk_serve_copies_the_log_from_its_own_thread(server):
    metrics = requests.get(server.url + "/api/live/metrics", timeout=10).json()
    assert metrics["wal_checkpoints"]["every_s"] == db.CHECKPOINT_EVERY_S
