"""History over HTTP: this device's sessions, newest first, a page at a time."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..db import get_db
from ..devices import current_device
from ..inputs import SQLITE_MAX_INT, query_int
from ..sessions.store import SESSION_COLUMNS, history_entry

bp = Blueprint("history", __name__)

DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 500


@bp.get("/api/history")
def history():
    """This device's sessions, newest first (`?limit=`, `?before=<created_at>` for the next page)."""
    # limit is clamped to 1..MAX_HISTORY_LIMIT; before is a created_at, so any stored time.
    limit = min(max(query_int("limit", DEFAULT_HISTORY_LIMIT, 0, SQLITE_MAX_INT), 1), MAX_HISTORY_LIMIT)
    before = query_int("before", None, 0, SQLITE_MAX_INT)
    where, params = "device_id = ?", [current_device()]
    if before is not None:
        where += " AND created_at < ?"
        params.append(before)
    rows = get_db().execute(
        f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions WHERE {where} "
        "ORDER BY created_at DESC, rowid DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return jsonify([history_entry(dict(zip(SESSION_COLUMNS, row))) for row in rows])
