"""The JSON API: health, plans, and the cached cue audio."""

from __future__ import annotations

import json
import logging
import sqlite3
import secrets
import time
from dataclasses import asdict
from dataclasses import fields as dataclass_fields
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, request, send_file

from . import live, offline
from . import limits
from . import phrases
from .cues import (
    COUNTDOWN_CHOICES,
    GAP_MS,
    CueOptions,
    CueOptionsInvalid,
    compile_timeline,
    needed_phrases,
    opening_text,
    segment_starts_ms,
    speed_hints,
)
from .db import get_db
from .devices import current_device
from .errors import BadInput, NotFound, error_response
from .inputs import SQLITE_MAX_INT, query_int, request_json
from .plans import Plan, PlanInvalid, parse_plan, parse_segments
from .programmes import BUILTIN_PLANS, PROGRAMMES, CompletedWalk, Programme
from .programmes import progress as programme_progress
from .programmes import week_backward_minutes
from .programme_texts import localize_plan, localize_programme, localize_progress, localize_text, pattern
from .settings import Settings, SettingsInvalid, timezone_problem, valid_timezone
from .settings import apply_changes as apply_settings_changes
from .settings import from_stored as settings_from_stored
from .settings import start_programme as start_following
from . import stats
from .track import track_fields
from .trackstore import track_response
from .voice import VoiceUnavailable

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)

CUSTOM_PLAN_PREFIX = "my-"
MAX_PLANS_PER_DEVICE = 500


def now_ms() -> int:
    """The server clock in epoch milliseconds, the unit of every stored time."""
    return int(time.time() * 1000)


def json_body() -> Any:
    """The request's JSON body, or a 400 `invalid_json` (one reader for every route: see inputs.py)."""
    return request_json()


def _plan_from_row(row: dict) -> Plan:
    """A stored custom plan as a Plan."""
    segments = parse_segments(json.loads(row["segments"]))
    return Plan(row["id"], row["name"], segments, row["description"])


def device_plans(device_id: str) -> list[Plan]:
    """This device's own plans, oldest first."""
    rows = get_db().query(
        "SELECT * FROM plans WHERE device_id = ? ORDER BY created_at, id", [device_id]
    )
    return [_plan_from_row(row) for row in rows]


def get_plan(plan_id: Any, device_id: str) -> Plan:
    """A built-in plan or one of this device's own, else NotFound (another device's plan is not found either)."""
    if not isinstance(plan_id, str):
        raise NotFound("plan_id must be the id of a plan, as a string.")
    if plan_id in BUILTIN_PLANS:
        return BUILTIN_PLANS[plan_id]
    row = get_db().execute(
        "SELECT id, name, description, segments FROM plans WHERE id = ? AND device_id = ?",
        [plan_id, device_id],
    ).fetchone()
    if row is None:
        raise NotFound(f"There is no plan {plan_id!r}.")
    return _plan_from_row(dict(zip(("id", "name", "description", "segments"), row)))


@bp.errorhandler(PlanInvalid)
def plan_invalid(exc: PlanInvalid):
    """A plan that breaks the rules: 400 with every problem in one message."""
    return error_response(400, "invalid_plan", " ".join(exc.problems), problems=exc.problems)


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers and the test suite."""
    return {"ok": True}


@bp.get("/api/plans")
def list_plans():
    """Built-in plans, then this device's own, each with its totals."""
    device_id = current_device()
    plans = list(BUILTIN_PLANS.values()) + device_plans(device_id)
    settings = device_settings(device_id)
    units, lang = display_units(settings), display_lang(settings)
    return jsonify([plan_view(plan, units, lang) for plan in plans])


@bp.get("/api/plans/<plan_id>")
def show_plan(plan_id: str):
    """One plan this device may see."""
    device_id = current_device()
    settings = device_settings(device_id)
    return plan_view(get_plan(plan_id, device_id), display_units(settings), display_lang(settings))


def display_units(settings: Settings) -> str:
    """The units the server's texts speak of speeds in: `?units=` if given, else the device's setting."""
    units = request.args.get("units")
    if units is None:
        return settings.units
    if units not in phrases.UNITS:
        raise BadInput("invalid_units", 'units must be "mph" or "kmh".')
    return units


def display_lang(settings: Settings) -> str:
    """The language of the server's texts (programmes, plans, notes): `?lang=` if given, else the device's setting."""
    lang = request.args.get("lang")
    if lang is None:
        return settings.lang
    if lang not in phrases.LANGUAGES:
        raise BadInput("invalid_lang", f"lang must be one of {', '.join(phrases.LANGUAGES)}.")
    return lang


def plan_view(plan: Plan, units: str, lang: str = "en") -> dict:
    """A plan as the API shows it; a built-in plan's name and description in the walker's language and units."""
    shown = plan.to_dict()
    if plan.builtin:
        shown = localize_plan(shown, units, lang)
    return shown


def _store_plan(plan: Plan, device_id: str, created_at: int) -> None:
    """Insert or replace a custom plan row."""
    # Plain SQL: sqlite-utils 3.x upserts with INSERT OR IGNORE of the key alone, which
    # NOT NULL columns silently turn into no row at all.
    get_db().execute(
        """INSERT INTO plans (id, device_id, name, description, segments, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET name = excluded.name, description = excluded.description,
               segments = excluded.segments, updated_at = excluded.updated_at""",
        [
            plan.id,
            device_id,
            plan.name,
            plan.description,
            json.dumps([s.to_dict() for s in plan.segments]),
            created_at,
            now_ms(),
        ],
    )


@bp.post("/api/plans")
def create_plan():
    """Validate and save a custom plan for this device."""
    device_id = current_device()
    plan = parse_plan(json_body(), CUSTOM_PLAN_PREFIX + secrets.token_hex(6))
    count = get_db().execute("SELECT count(*) FROM plans WHERE device_id = ?", [device_id]).fetchone()[0]
    if count >= MAX_PLANS_PER_DEVICE:
        return error_response(409, "too_many_plans", f"A device may keep at most {MAX_PLANS_PER_DEVICE} plans; delete one first.")
    _store_plan(plan, device_id, now_ms())
    return plan.to_dict(), 201


@bp.put("/api/plans/<plan_id>")
def update_plan(plan_id: str):
    """Replace one of this device's own plans; built-in plans cannot be changed."""
    device_id = current_device()
    existing = get_plan(plan_id, device_id)
    if existing.builtin:
        return error_response(403, "builtin_plan", "Built-in plans cannot be changed; duplicate it first.")
    plan = parse_plan(json_body(), plan_id)
    created = get_db().execute("SELECT created_at FROM plans WHERE id = ?", [plan_id]).fetchone()[0]
    _store_plan(plan, device_id, created)
    return plan.to_dict()


@bp.delete("/api/plans/<plan_id>")
def delete_plan(plan_id: str):
    """Delete one of this device's own plans."""
    device_id = current_device()
    if get_plan(plan_id, device_id).builtin:
        return error_response(403, "builtin_plan", "Built-in plans cannot be deleted.")
    get_db().execute("DELETE FROM plans WHERE id = ? AND device_id = ?", [plan_id, device_id])
    return "", 204


@bp.get("/audio/<name>")
def audio(name: str):
    """A cached cue file: immutable, so cached by the phone for a year."""
    path = current_app.extensions["audio_cache"].path_for(name)
    if path is None:
        raise NotFound("There is no such audio file.")
    response = send_file(path, mimetype="audio/mpeg", conditional=True, etag=True, max_age=current_app.config["AUDIO_MAX_AGE_S"])
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response


@bp.get("/audio/tracks/<name>")
def audio_track(name: str):
    """A session's whole walk as one MP3 (pocket mode): immutable, with byte ranges, rendered as it is asked for."""
    return track_response(current_app.extensions["tracks"], name, request, current_app.config["AUDIO_MAX_AGE_S"])


# --- Coaching: device settings, programmes, weekly stats, history export ---

DEFAULT_TIMEZONE = "UTC"
HISTORY_CSV_NAME = "retrowalk-history-{date}.csv"


def device_settings(device_id: str) -> Settings:
    """This device's settings, the defaults until it saves any."""
    row = get_db().execute("SELECT data FROM settings WHERE device_id = ?", [device_id]).fetchone()
    return settings_from_stored(json.loads(row[0])) if row else Settings()


def _save_settings(device_id: str, change) -> Settings:
    """Apply `change` (current settings -> new settings) to the stored row atomically and return the result."""
    db = get_db()
    with db.conn:
        # BEGIN IMMEDIATE: two phones of one device saving at once cannot lose each other's fields.
        db.conn.execute("BEGIN IMMEDIATE")
        updated = change(device_settings(device_id))
        db.conn.execute(
            """INSERT INTO settings (device_id, data, updated_at) VALUES (?, ?, ?)
               ON CONFLICT(device_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at""",
            [device_id, json.dumps(updated.to_stored()), now_ms()],
        )
    return updated


@bp.errorhandler(SettingsInvalid)
def settings_invalid(exc: SettingsInvalid):
    """Settings that break a rule: 400 with every problem in one message."""
    return error_response(400, "invalid_settings", " ".join(exc.problems), problems=exc.problems)


@bp.get("/api/settings")
def show_settings():
    """This device's settings (defaults until it saves any)."""
    return device_settings(current_device()).to_dict()


@bp.put("/api/settings")
def change_settings():
    """Change the fields sent (others keep their value; null clears weight, time zone, programme)."""
    body = json_body()
    return _save_settings(current_device(), lambda current: apply_settings_changes(current, body)).to_dict()


def stats_zone(settings: Settings) -> ZoneInfo:
    """The walker's time zone: `?tz=` if given, else the saved one, else UTC."""
    name = request.args.get("tz")
    if name is not None and not valid_timezone(name):
        raise BadInput("invalid_timezone", timezone_problem(name))
    return ZoneInfo(name or settings.timezone or DEFAULT_TIMEZONE)


def device_walks(device_id: str) -> list[stats.WalkRecord]:
    """This device's finished sessions as walk records, oldest first."""
    rows = get_db().query(
        """SELECT id, plan_id, plan_name, plan, started_at, finished_at, ended_by, summary
           FROM sessions WHERE device_id = ? AND finished_at IS NOT NULL ORDER BY finished_at""",
        [device_id],
    )
    return [record for record in map(stats.record_from_session, rows) if record is not None]


@bp.get("/api/stats/week")
def stats_week():
    """This week's minutes against 150, backward minutes, sessions, calories range and streak."""
    device_id = current_device()
    settings = device_settings(device_id)
    zone = stats_zone(settings)
    targets = progress_targets(device_id, settings)
    week = stats.week_summary(device_walks(device_id), zone, now_ms(), settings.weight_kg, targets)
    lang = display_lang(settings)
    # The two definitions, like the calorie note (which quotes the Compendium's speed), in the walker's language and units.
    definitions = targets.definitions(
        lambda english: pattern(english, lang),
        localize_text(targets.programme, settings.units, lang) if targets.programme else None,
    )
    return {**week, "definitions": definitions, "calories_note": localize_text(week["calories_note"], settings.units, lang)}


@bp.get("/api/stats/weeks")
def stats_weeks():
    """Chart data: a bar per week for the last `?weeks=` weeks (default 12) and a point per session."""
    weeks = query_int("weeks", stats.DEFAULT_WEEKS, 1, stats.MAX_WEEKS, code="invalid_weeks")
    device_id = current_device()
    settings = device_settings(device_id)
    zone = stats_zone(settings)
    return stats.weeks_summary(
        device_walks(device_id), zone, now_ms(), weeks, settings.weight_kg, progress_targets(device_id, settings)
    )


@bp.get("/api/history.csv")
def history_csv():
    """Every finished walk of this device as a CSV download, times in the walker's time zone."""
    device_id = current_device()
    settings = device_settings(device_id)
    zone = stats_zone(settings)
    text = stats.history_csv(device_walks(device_id), zone, settings.weight_kg)
    today = stats.local_date(now_ms(), zone).isoformat()
    response = current_app.response_class(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{HISTORY_CSV_NAME.format(date=today)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/stats/sessions/<session_id>")
def stats_session(session_id: str):
    """One finished walk of this device: minutes walked each way and its calorie range (the summary screen)."""
    device_id = current_device()
    row = get_db().execute(
        """SELECT id, plan_id, plan_name, plan, started_at, finished_at, ended_by, summary
           FROM sessions WHERE id = ? AND device_id = ?""",
        [session_id, device_id],
    ).fetchone()
    keys = ("id", "plan_id", "plan_name", "plan", "started_at", "finished_at", "ended_by", "summary")
    record = stats.record_from_session(dict(zip(keys, row))) if row else None
    if record is None:
        raise NotFound(f"There is no finished session {session_id!r} on this device.")
    settings = device_settings(device_id)
    note = stats.CALORIES_NOTE if settings.weight_kg is not None else stats.CALORIES_NEED_WEIGHT
    note = localize_text(note, settings.units, display_lang(settings))
    return {**stats.walk_stats(record, stats_zone(settings), settings.weight_kg), "calories_note": note}


def _completed_walks(device_id: str) -> list[CompletedWalk]:
    """This device's finished sessions as progress needs them."""
    rows = get_db().execute(
        "SELECT plan_id, finished_at, ended_by FROM sessions WHERE device_id = ? AND finished_at IS NOT NULL",
        [device_id],
    ).fetchall()
    return [CompletedWalk(plan_id, at, ended_by == "complete") for plan_id, at, ended_by in rows]


def progress_targets(device_id: str, settings: Settings) -> stats.Targets:
    """What this device's weeks are measured against: the followed programme's current week, else the guideline."""
    programme = PROGRAMMES.get(settings.programme) if settings.programme else None
    if programme is None:
        return stats.GENERAL_TARGETS
    state = programme_progress(programme, _completed_walks(device_id), settings.programme_starts.get(programme.id))
    week = state.next_session.week if state.next_session is not None else programme.weeks
    return stats.Targets(programme.sessions_per_week, week_backward_minutes(programme, week), programme.name)


def _programme_view(programme: Programme, settings: Settings, walks: list[CompletedWalk]) -> dict:
    """A programme with its sessions and this device's progress in it."""
    started = settings.programme_starts.get(programme.id)
    lang = display_lang(settings)
    view = localize_programme(programme.to_dict("mph"), display_units(settings), lang)
    return {
        **view,
        "following": settings.programme == programme.id,
        "started_at": started,
        "progress": localize_progress(programme_progress(programme, walks, started).to_dict(), view, lang),
    }


def _get_programme(programme_id: str) -> Programme:
    """A built-in programme, else NotFound."""
    if programme_id not in PROGRAMMES:
        raise NotFound(f"There is no programme {programme_id!r}; there are {', '.join(PROGRAMMES)}.")
    return PROGRAMMES[programme_id]


@bp.get("/api/programmes")
def list_programmes():
    """Every programme with its sessions and this device's progress; `next` is the followed one's next session."""
    device_id = current_device()
    settings = device_settings(device_id)
    walks = _completed_walks(device_id)
    views = [_programme_view(p, settings, walks) for p in PROGRAMMES.values()]
    following = next((v for v in views if v["following"]), None)
    offered = None
    if following is not None and following["progress"]["next_plan_id"]:
        offered = {
            "programme_id": following["id"],
            "programme_name": following["name"],
            "plan_id": following["progress"]["next_plan_id"],
            "label": following["progress"]["label"],
        }
    return {"following": settings.programme, "next": offered, "programmes": views}


@bp.get("/api/programmes/<programme_id>")
def show_programme(programme_id: str):
    """One programme with its sessions and this device's progress."""
    device_id = current_device()
    programme = _get_programme(programme_id)
    return _programme_view(programme, device_settings(device_id), _completed_walks(device_id))


@bp.post("/api/programmes/<programme_id>/start")
def start_programme(programme_id: str):
    """Follow a programme from week 1, session 1 (a restart, if it was followed before)."""
    device_id = current_device()
    programme = _get_programme(programme_id)
    at = now_ms()
    settings = _save_settings(device_id, lambda current: start_following(current, programme.id, at))
    return _programme_view(programme, settings, _completed_walks(device_id))


# --- Live sessions: create one, list this device's, show one (the socket is in ws.py) ---

SESSION_BODY_FIELDS = frozenset({"plan_id", "options"})
CUE_OPTION_FIELDS = frozenset(f.name for f in dataclass_fields(CueOptions))
DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 500


def resolve_cue_options(raw: Any, device_id: str) -> CueOptions:
    """The cue options of a new session: the request's choices over this device's defaults."""
    # The one place defaults come from: the device's saved settings (GET/PUT /api/settings).
    defaults = asdict(device_settings(device_id).cue_options())
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise CueOptionsInvalid("options must be an object of cue options.")
    unknown = sorted(set(raw) - CUE_OPTION_FIELDS)
    if unknown:
        raise CueOptionsInvalid(f"Unknown option(s): {', '.join(map(str, unknown))}.")
    countdown = raw.get("countdown", defaults["countdown"])
    if not isinstance(countdown, int) or isinstance(countdown, bool):
        raise CueOptionsInvalid(f"Countdown must be one of {COUNTDOWN_CHOICES}.")
    return CueOptions(**{**defaults, **raw})


@bp.errorhandler(CueOptionsInvalid)
def cue_options_invalid(exc: CueOptionsInvalid):
    """Cue options outside the closed set: 400 with the rule broken."""
    return error_response(400, "invalid_options", str(exc))


@bp.errorhandler(VoiceUnavailable)
def voice_unavailable(exc: VoiceUnavailable):
    """No engine could speak a phrase: the session cannot promise its cues."""
    return error_response(503, "voice_unavailable", "The coach's voice is not available right now; please try again.")


def _session_row(session_id: str, device_id: str) -> dict:
    """One of this device's sessions as stored, else NotFound (another device's is not found either)."""
    cursor = get_db().execute(
        f"SELECT {live.SESSION_SELECT} FROM sessions WHERE id = ? AND device_id = ?",
        [session_id, device_id],
    )
    row = cursor.fetchone()
    if row is None:
        raise NotFound(f"There is no session {session_id!r}.")
    return dict(zip(live.SESSION_COLUMNS, row))


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
    """A new workout of one of this device's plans, ready to start, with every cue's audio on disk."""
    device_id = current_device()
    body = json_body()
    if not isinstance(body, dict):
        return error_response(400, "invalid_request", 'The body must be a JSON object such as {"plan_id": "..."}.')
    unknown = sorted(set(body) - SESSION_BODY_FIELDS)
    if unknown:
        return error_response(400, "invalid_request", f"Unknown field(s): {', '.join(unknown)}.")
    plan = get_plan(body.get("plan_id"), device_id)
    options = resolve_cue_options(body.get("options"), device_id)
    hub = current_app.extensions["live"]
    refused = limits.session_room_problem(get_db(), device_id, lambda session_id: hub.socket_count(session_id) > 0)
    if refused is not None:
        return refused
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
    session_id = live.insert_session(
        get_db(), device_id=device_id, plan=plan, options=asdict(options), timeline=timeline, now=created_at
    )
    body = {
        "id": session_id,
        "ws": live.socket_path(session_id),
        "state": live.READY,
        "created_at": created_at,
        "plan": plan_view(plan, options.units, options.lang),
        "options": asdict(options),
        "lead_ms": current_app.extensions["live"].lead_ms,
        "start_lead_ms": current_app.extensions["live"].start_lead_ms,
        **track_fields(timeline, end_ms),
        "timeline": timeline,
        "confirmations": confirmations(asdict(options), plan.segments, renditions),
    }
    return body, 201, {"Location": f"/api/sessions/{session_id}"}


def _session_view(session_id: str, device_id: str) -> dict:
    """One of this device's sessions as GET /api/sessions/<id> shows it."""
    row = _session_row(session_id, device_id)
    session = live.session_from_row(row, get_db().query(
        "SELECT type, at, data FROM session_events WHERE session_id = ? ORDER BY id", [session_id]
    ))
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
    return {**session.describe(now), "start_lead_ms": start_lead_ms, "timeline": session.timeline, "confirmations": spoken}


@bp.get("/api/sessions/<session_id>")
def show_session(session_id: str):
    """One of this device's sessions: its plan snapshot, clock, timeline and (when finished) summary."""
    return _session_view(session_id, current_device())


@bp.delete("/api/sessions/<session_id>")
def delete_session(session_id: str):
    """Forget one of this device's finished walks (a false start, a test): it leaves history, stats and the CSV."""
    device_id = current_device()
    row = _session_row(session_id, device_id)
    if row.get("finished_at") is None:
        return error_response(409, "session_not_finished", "This walk is not finished; stop it first, then delete it.")
    # One statement, so atomic: its events go with it (ON DELETE CASCADE).
    get_db().execute("DELETE FROM sessions WHERE id = ? AND device_id = ?", [session_id, device_id])
    return "", 204


def _offline_session_id(device_id: str, walk_id: str) -> str | None:
    """The session stored for a walk this device played offline, if it was uploaded before."""
    row = get_db().execute(
        "SELECT id FROM sessions WHERE device_id = ? AND client_id = ?", [device_id, walk_id]
    ).fetchone()
    return row[0] if row else None


@bp.errorhandler(offline.OfflineWalkInvalid)
def offline_walk_invalid(exc: offline.OfflineWalkInvalid):
    """An uploaded walk that can never be stored as it is: 400 with the rule broken."""
    return error_response(400, exc.code, exc.message)


@bp.errorhandler(offline.OfflineWalkUnfinished)
def offline_walk_unfinished(exc: offline.OfflineWalkUnfinished):
    """An uploaded walk still under way by its clock: 409, to be uploaded again once it has ended."""
    return error_response(409, "walk_not_finished", str(exc))


@bp.put("/api/sessions/offline/<walk_id>")
def upload_offline_walk(walk_id: str):
    """A walk played without the server, from its event log: stored once per device (201), a retry gets it again (200)."""
    device_id = current_device()
    if not offline.valid_walk_id(walk_id):
        return error_response(400, "invalid_walk_id", "A walk id is 8 to 64 letters, digits, _ or -.")
    stored = _offline_session_id(device_id, walk_id)
    if stored is not None:
        return _session_view(stored, device_id), 200
    refused = limits.history_room_problem(get_db(), device_id)
    if refused is not None:
        return refused
    body = json_body()
    now = now_ms()
    hub: live.LiveHub = current_app.extensions["live"]
    log = offline.parse_log(body, now, hub.start_lead_ms)
    options = resolve_cue_options(body.get("options"), device_id)
    session = live.LiveSession(
        live.new_session_id(), device_id, log.plan.id, log.plan.name, log.plan.segments, [],
        asdict(options), created_at=log.events[0]["at"],
    )
    events = offline.play(session, log, now, hub.max_pause_ms)
    db = get_db()
    with db.conn:
        # BEGIN IMMEDIATE: of two uploads of one walk at once, the second finds the first's row.
        db.conn.execute("BEGIN IMMEDIATE")
        stored = _offline_session_id(device_id, walk_id)
        if stored is None:
            live.insert_played_session(db, session, events, walk_id)
    if stored is not None:
        return _session_view(stored, device_id), 200
    return _session_view(session.id, device_id), 201, {"Location": f"/api/sessions/{session.id}"}


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
        f"SELECT {', '.join(live.SESSION_COLUMNS)} FROM sessions WHERE {where} "
        "ORDER BY created_at DESC, rowid DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return jsonify([live.history_entry(dict(zip(live.SESSION_COLUMNS, row))) for row in rows])
