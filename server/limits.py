"""What one device may store and how long an abandoned session lasts: bounded disk and memory whatever a client sends.

Every bound here is a config setting (RETROWALK_<NAME>) with the default below, and each is
listed in README "Security". Over a bound, the request is refused with 409 and a sentence
that says what to do; nothing the walker already has is deleted to make room.
"""

from __future__ import annotations

from flask import current_app
from sqlite_utils import Database

from .refusals import CONFLICT, Refusal
from .sessions import store

# Sessions ready but never started one device keeps: the phone makes one each time it opens a
# plan's ready screen, so past this the oldest unwatched ones are forgotten to make room
# (they hold nothing walked).
MAX_READY_SESSIONS_PER_DEVICE = 10
# Walks (sessions) running or paused at once on one device: a walker walks one; past this, 409.
MAX_LIVE_SESSIONS_PER_DEVICE = 5
# Every session one device keeps, finished ones included: two walks a day for about seven years.
MAX_SESSIONS_PER_DEVICE = 5000
# A session created but never started is forgotten (deleted) after this long.
READY_SESSION_TTL_S = 24 * 3600
# A device that never stored anything (it only opened the app) is forgotten after this long;
# its phone simply gets a new, equally empty one on its next write.
EMPTY_DEVICE_TTL_S = 30 * 24 * 3600
# A session in memory with no socket watching it for this long is unloaded (reloaded on demand).
IDLE_UNLOAD_S = 120
# How often the scheduler looks for idle sessions to unload and ready sessions to forget.
HOUSEKEEPING_EVERY_S = 60


def setting(name: str) -> int:
    """A bound from the app's config, else its default here."""
    return int(current_app.config.get(name, globals()[name]))


def ensure_session_room(db: Database, device_id: str, watched) -> None:
    """Make room for one more session of this device (old unwatched ready ones go), else refuse with a 409."""
    ready, live, total = store.session_counts(db, device_id)
    max_live, max_total = setting("MAX_LIVE_SESSIONS_PER_DEVICE"), setting("MAX_SESSIONS_PER_DEVICE")
    if live >= max_live:
        raise Refusal(
            "too_many_live_sessions",
            f"This device has {live} workouts running or paused (at most {max_live}); stop one first.",
            status=CONFLICT,
        )
    excess = ready - setting("MAX_READY_SESSIONS_PER_DEVICE") + 1
    if excess > 0:
        forget = [session_id for session_id in store.ready_session_ids(db, device_id) if not watched(session_id)][
            :excess
        ]
        store.forget_ready_sessions(db, forget)
        total -= len(forget)
    _refuse_when_full(total, max_total)


def ensure_history_room(db: Database, device_id: str) -> None:
    """Refuse with a 409 unless this device may store another (finished) session, such as a walk played offline."""
    _refuse_when_full(store.session_count(db, device_id), setting("MAX_SESSIONS_PER_DEVICE"))


def _refuse_when_full(total: int, max_total: int) -> None:
    """The 409 for a device whose sessions have reached the bound."""
    if total >= max_total:
        raise Refusal(
            "too_many_sessions",
            f"This device keeps at most {max_total} sessions; delete old walks from your history to make room.",
            status=CONFLICT,
        )
