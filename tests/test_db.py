"""Storage: migrations are numbered and idempotent, every connection enforces foreign keys and WAL."""

import sqlite3

import pytest

from server import db


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
            "INSERT INTO plans (id, device_id, name, segments, created_at, updated_at) VALUES ('p', 'nobody', 'x', '[]', 1, 1)"
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
