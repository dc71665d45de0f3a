"""Programmes over HTTP: each course with this device's progress in it, and following one from its start."""

from __future__ import annotations

from flask import Blueprint

from .. import stats
from ..clock import now_ms
from ..db import get_db
from ..devices import current_device
from ..programme_texts import localize_programme, localize_progress
from ..programmes import PROGRAMMES, CompletedWalk, Programme, progress, week_backward_minutes
from ..refusals import NotFound
from ..sessions import store
from ..settings import Settings, start_programme
from .settings import device_settings, display_lang, display_units, save_settings

bp = Blueprint("programmes", __name__)


def completed_walks(device_id: str) -> list[CompletedWalk]:
    """This device's finished sessions as progress needs them."""
    return store.completed_walks(get_db(), device_id)


def progress_targets(device_id: str, settings: Settings) -> stats.Targets:
    """What this device's weeks are measured against: the followed programme's current week, else the guideline."""
    programme = PROGRAMMES.get(settings.programme) if settings.programme else None
    if programme is None:
        return stats.GENERAL_TARGETS
    state = progress(programme, completed_walks(device_id), settings.programme_starts.get(programme.id))
    week = state.next_workout.week if state.next_workout is not None else programme.weeks
    return stats.Targets(programme.workouts_per_week, week_backward_minutes(programme, week), programme.name)


def _programme_view(programme: Programme, settings: Settings, walks: list[CompletedWalk]) -> dict:
    """A programme with its workouts and this device's progress in it."""
    started = settings.programme_starts.get(programme.id)
    lang = display_lang(settings)
    view = localize_programme(programme.to_dict("mph"), display_units(settings), lang)
    return {
        **view,
        "following": settings.programme == programme.id,
        "started_at": started,
        "progress": localize_progress(progress(programme, walks, started).to_dict(), view, lang),
    }


def _get_programme(programme_id: str) -> Programme:
    """A built-in programme, else NotFound."""
    if programme_id not in PROGRAMMES:
        raise NotFound(f"There is no programme {programme_id!r}; there are {', '.join(PROGRAMMES)}.")
    return PROGRAMMES[programme_id]


@bp.get("/api/programmes")
def list_programmes():
    """Every programme with its workouts and this device's progress; `next` is the followed one's next workout."""
    device_id = current_device()
    settings = device_settings(device_id)
    walks = completed_walks(device_id)
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
    """One programme with its workouts and this device's progress."""
    device_id = current_device()
    programme = _get_programme(programme_id)
    return _programme_view(programme, device_settings(device_id), completed_walks(device_id))


@bp.post("/api/programmes/<programme_id>/start")
def follow_programme(programme_id: str):
    """Follow a programme from week 1, workout 1 (a restart, if it was followed before)."""
    device_id = current_device()
    programme = _get_programme(programme_id)
    at = now_ms()
    settings = save_settings(device_id, lambda current: start_programme(current, programme.id, at))
    return _programme_view(programme, settings, completed_walks(device_id))
