"""Stats over HTTP: this week against its targets, the weekly series for the charts, one walk's figures, the CSV.

The figures are computed by server/stats.py from plain walk records; this module reads the
walks of the device asking and chooses the time zone and language they are shown in.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, request

from .. import stats
from ..clock import now_ms
from ..db import get_db
from ..devices import current_device
from ..inputs import query_int
from ..programme_texts import localize_text, pattern
from ..refusals import BadInput, NotFound
from ..sessions import store
from ..settings import Settings, timezone_problem, valid_timezone
from .programmes import progress_targets
from .settings import device_settings, display_lang

bp = Blueprint("stats", __name__)

DEFAULT_TIMEZONE = "UTC"
HISTORY_CSV_NAME = "retrowalk-history-{date}.csv"


def stats_zone(settings: Settings) -> ZoneInfo:
    """The walker's time zone: `?tz=` if given, else the saved one, else UTC."""
    name = request.args.get("tz")
    if name is not None and not valid_timezone(name):
        raise BadInput("invalid_timezone", timezone_problem(name))
    return ZoneInfo(name or settings.timezone or DEFAULT_TIMEZONE)


def device_walks(device_id: str) -> list[stats.WalkRecord]:
    """This device's finished sessions as walk records, oldest first."""
    return store.finished_walks(get_db(), device_id)


@bp.get("/api/stats/week")
def stats_week():
    """This week's minutes against 150, backward minutes, sessions, calories range and streak."""
    device_id = current_device()
    settings = device_settings(device_id)
    zone = stats_zone(settings)
    targets = progress_targets(device_id, settings)
    week = stats.week_summary(device_walks(device_id), zone, now_ms(), settings.weight_kg, targets)
    lang = display_lang(settings)
    # The two definitions, like the calorie note (which quotes the Compendium's speed), in the walker's
    # language and units.
    definitions = targets.definitions(
        lambda english: pattern(english, lang),
        localize_text(targets.programme, settings.units, lang) if targets.programme else None,
    )
    note = localize_text(week["calories_note"], settings.units, lang)
    return {**week, "definitions": definitions, "calories_note": note}


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


@bp.get("/api/stats/sessions/<session_id>")
def stats_session(session_id: str):
    """One finished walk of this device: minutes walked each way and its calorie range (the summary screen)."""
    device_id = current_device()
    record = store.finished_walk(get_db(), session_id, device_id)
    if record is None:
        raise NotFound(f"There is no finished session {session_id!r} on this device.")
    settings = device_settings(device_id)
    note = stats.CALORIES_NOTE if settings.weight_kg is not None else stats.CALORIES_NEED_WEIGHT
    note = localize_text(note, settings.units, display_lang(settings))
    return {**stats.walk_stats(record, stats_zone(settings), settings.weight_kg), "calories_note": note}


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
