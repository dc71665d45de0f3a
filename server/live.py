"""Old home of the sessions (server/sessions/): kept only until server/api.py's routes import from there."""

from __future__ import annotations

from .sessions.hub import LiveHub, init_app  # noqa: F401
from .sessions.messages import encode  # noqa: F401
from .clock import now_ms  # noqa: F401
from .sessions.model import ControlRefused, Event, LiveSession, SessionGone, socket_path  # noqa: F401
from .sessions.store import (  # noqa: F401
    SESSION_COLUMNS, SESSION_SELECT, history_entry, insert_played_session, insert_session, new_session_id,
    session_from_row,
)
from .walkclock import CONTROLS, READY  # noqa: F401
