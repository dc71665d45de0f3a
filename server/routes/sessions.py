"""Sessions over HTTP: create a walk of a plan, read one, forget a finished one, store one played offline.

The live walk itself (its clock, the cue scheduler, the socket) is the hub's (server/sessions/,
server/ws.py); this module makes a session ready to start, with every cue's audio on disk.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import asdict
from typing import Any

from flask import Blueprint, current_app

from .. import limits, phrases
from ..clock import now_ms
from ..cues import (
    GAP_MS,
    CueOptions,
    CueOptionsInvalid,
    compile_timeline,
    needed_phrases,
    opening_text,
    parse_cue_options,
    segment_starts_ms,
    speed_hints,
)
from ..db import get_db
from ..devices import current_device
from ..inputs import request_json, request_object
from ..refusals import CONFLICT, NotFound, Refusal
from ..sessions import offline
from ..sessions.hub import LiveHub
from ..sessions.model import LiveSession, socket_path
from ..sessions.store import (
    device_session,
    forget_session,
    insert_played_session,
    insert_session,
    new_session_id,
    offline_session_id,
)
from ..track import track_fields
from ..voice import VoiceUnavailable
from ..walkclock import READY
from .plans import get_plan, plan_view
from .settings import device_settings

bp = Blueprint("sessions", __name__)
log = logging.getLogger(__name__)

SESSION_BODY_FIELDS = frozenset({"plan_id", "options"})
SESSION_BODY_EXAMPLE = '{"plan_id": "..."}'


def resolve_cue_options(raw: Any, device_id: str) -> CueOptions:
    """The cue options of a new session: the request's choices over this device's saved settings."""
    return parse_cue_options(raw, device_settings(device_id).cue_options())


def _device_session(session_id: str, device_id: str) -> LiveSession:
    """One of this device's sessions, else NotFound (another device's is not found either)."""
    session = device_session(get_db(), session_id, device_id)
    if session is None:
        raise NotFound(f"There is no session {session_id!r}.")
    return session


def confirmation_texts(lang: str) -> list[str]:
    """The phrases that confirm pause, resume and skip aloud, in the walk's language."""
    return [phrases.confirmation(control, lang) for control in phrases.CONFIRMATIONS]


def confirmations(options: dict, segments, renditions: dict | None = None) -> dict[str, Any]:
    """What the phone plays when the walker pauses, resumes or skips: each control's text and audio.

    `skip_to` maps each segment (by index, as text) whose slow-down is said before its switch
    to that phrase: a skip into that segment jumps over the slow-down, so the phone says it
    after the landed switch phrase, `after_ms` after the segment's start (the switch's spoken
    length and the cue gap, as cues.py says a slow-down with no room before its switch).
    """
    try:
        cue_options = CueOptions(**options)
    except (TypeError, CueOptionsInvalid):
        cue_options = CueOptions()
    lang = cue_options.lang
    before = {
        index: hint.text
        for index, hint in enumerate(speed_hints(segments, cue_options))
        if hint is not None and hint.before
    }
    # The switch phrase that opens each such segment: its spoken length says when the slow-down may follow.
    switches = {index: opening_text(segments, index, cue_options) for index in before}
    texts = confirmation_texts(lang) + list(before.values()) + list(switches.values())
    if renditions is None or any(text not in renditions for text in texts):
        renditions = current_app.extensions["audio_cache"].ensure(texts, lang)

    def spoken(text: str) -> dict[str, str]:
        """A phrase and its audio."""
        return {"text": text, "audio": f"/audio/{renditions[text].file}"}

    out: dict[str, Any] = {
        control: spoken(text) for control, text in zip(phrases.CONFIRMATIONS, confirmation_texts(lang))
    }
    out["skip_to"] = {
        str(index): {**spoken(text), "after_ms": renditions[switches[index]].spoken_ms + GAP_MS}
        for index, text in before.items()
    }
    return out


@bp.post("/api/sessions")
def create_session():
    """A new session of one of this device's plans, ready to start, with every cue's audio on disk."""
    device_id = current_device()
    body = request_object(SESSION_BODY_FIELDS, SESSION_BODY_EXAMPLE)
    plan = get_plan(body.get("plan_id"), device_id)
    options = resolve_cue_options(body.get("options"), device_id)
    hub = current_app.extensions["live"]
    limits.ensure_session_room(get_db(), device_id, lambda session_id: hub.socket_count(session_id) > 0)
    texts = needed_phrases(plan.segments, options) + confirmation_texts(options.lang)
    renditions = current_app.extensions["audio_cache"].ensure(texts, options.lang)
    spoken_ms = {text: rendition.spoken_ms for text, rendition in renditions.items()}
    timeline = [
        {**cue.to_dict(), "audio": f"/audio/{renditions[cue.text].file}"}
        for cue in compile_timeline(plan.segments, options, spoken_ms)
    ]
    end_ms = segment_starts_ms(plan.segments)[-1]
    # The track's manifest is on disk before 201, so its URL answers at once (and after a restart).
    current_app.extensions["tracks"].register(timeline, end_ms)
    created_at = now_ms()
    session_id = insert_session(
        get_db(), device_id=device_id, plan=plan, options=asdict(options), timeline=timeline, now=created_at
    )
    created = {
        "id": session_id,
        "ws": socket_path(session_id),
        "state": READY,
        "created_at": created_at,
        "plan": plan_view(plan, options.units, options.lang),
        "options": asdict(options),
        "lead_ms": hub.lead_ms,
        "start_lead_ms": hub.start_lead_ms,
        **track_fields(timeline, end_ms),
        "timeline": timeline,
        "confirmations": confirmations(asdict(options), plan.segments, renditions),
    }
    return created, 201, {"Location": f"/api/sessions/{session_id}"}


def _session_view(session_id: str, device_id: str) -> dict:
    """One of this device's sessions as GET /api/sessions/<id> shows it."""
    session = _device_session(session_id, device_id)
    now = now_ms()
    session.restore(now)
    options = session.options if isinstance(session.options, dict) else {}
    try:
        spoken = confirmations(options, session.segments)
    except (VoiceUnavailable, sqlite3.Error, OSError):
        # Reading a session must not fail on its extras: the phone keeps the ones it had.
        log.warning("no confirmations for session %s: the audio cache cannot answer", session_id, exc_info=True)
        spoken = None
    start_lead_ms = current_app.extensions["live"].start_lead_ms
    described = session.describe(now)
    return {**described, "start_lead_ms": start_lead_ms, "timeline": session.timeline, "confirmations": spoken}


@bp.get("/api/sessions/<session_id>")
def show_session(session_id: str):
    """One of this device's sessions: its plan snapshot, clock, timeline and (when finished) summary."""
    return _session_view(session_id, current_device())


@bp.delete("/api/sessions/<session_id>")
def delete_session(session_id: str):
    """Forget one of this device's finished walks (a false start, a test): it leaves history, stats and the CSV."""
    device_id = current_device()
    if _device_session(session_id, device_id).finished_at is None:
        raise Refusal(
            "session_not_finished", "This walk is not finished; stop it first, then delete it.", status=CONFLICT
        )
    forget_session(get_db(), session_id, device_id)
    return "", 204


@bp.put("/api/sessions/offline/<walk_id>")
def upload_offline_walk(walk_id: str):
    """A walk played without the server, from its event log: stored once per device (201), a retry gets it (200)."""
    device_id = current_device()
    if not offline.valid_walk_id(walk_id):
        raise Refusal("invalid_walk_id", "A walk id is 8 to 64 letters, digits, _ or -.")
    stored = offline_session_id(get_db(), device_id, walk_id)
    if stored is not None:
        return _session_view(stored, device_id), 200
    limits.ensure_history_room(get_db(), device_id)
    body = request_json()
    now = now_ms()
    hub: LiveHub = current_app.extensions["live"]
    walk_log = offline.parse_log(body, now, hub.start_lead_ms)
    options = resolve_cue_options(body.get("options"), device_id)
    session = LiveSession(
        new_session_id(),
        device_id,
        walk_log.plan.id,
        walk_log.plan.name,
        walk_log.plan.segments,
        [],
        asdict(options),
        created_at=walk_log.events[0]["at"],
    )
    events = offline.play(session, walk_log, now, hub.max_pause_ms)
    db = get_db()
    with db.conn:
        # BEGIN IMMEDIATE: of two uploads of one walk at once, the second finds the first's row.
        db.conn.execute("BEGIN IMMEDIATE")
        stored = offline_session_id(db, device_id, walk_id)
        if stored is None:
            insert_played_session(db, session, events, walk_id)
    if stored is not None:
        return _session_view(stored, device_id), 200
    return _session_view(session.id, device_id), 201, {"Location": f"/api/sessions/{session.id}"}
