"""History over HTTP: this device's sessions, newest first, a page at a time."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..db import get_db
from ..devices import current_device
from ..inputs import SQLITE_MAX_INT, query_int
from ..sessions import store

bp = Blueprint("history", __name__)

DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 500


@bp.get("/api/history")
def history():
    """This device's sessions, newest first (`?limit=`, `?before=<created_at>` for the next page)."""
    # limit is clamped to 1..MAX_HISTORY_LIMIT; before is a created_at, so any stored time.
    limit = min(max(query_int("limit", DEFAULT_HISTORY_LIMIT, 0, SQLITE_MAX_INT), 1), MAX_HISTORY_LIMIT)
    before = query_int("before", None, 0, SQLITE_MAX_INT)
    return jsonify(store.history(get_db(), current_device(), limit, before))
