"""The JSON API: health, plans, and the cached cue audio."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from flask import Blueprint, current_app, jsonify, request, send_file

from .db import get_db
from .devices import current_device
from .errors import NotFound, error_response
from .plans import BUILTIN_PLANS, Plan, PlanInvalid, parse_plan, parse_segments

bp = Blueprint("api", __name__)

CUSTOM_PLAN_PREFIX = "my-"
MAX_PLANS_PER_DEVICE = 500


def now_ms() -> int:
    """The server clock in epoch milliseconds, the unit of every stored time."""
    return int(time.time() * 1000)


def json_body() -> Any:
    """The request's JSON body, or a 400 that says the body must be JSON."""
    body = request.get_json(silent=True)
    if body is None:
        raise PlanInvalid(["The request body must be JSON (Content-Type: application/json)."])
    return body


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
    plans = list(BUILTIN_PLANS.values()) + device_plans(current_device())
    return jsonify([plan.to_dict() for plan in plans])


@bp.get("/api/plans/<plan_id>")
def show_plan(plan_id: str):
    """One plan this device may see."""
    return get_plan(plan_id, current_device()).to_dict()


def _store_plan(plan: Plan, device_id: str, created_at: int) -> None:
    """Insert or replace a custom plan row."""
    get_db()["plans"].upsert(
        {
            "id": plan.id,
            "device_id": device_id,
            "name": plan.name,
            "description": plan.description,
            "segments": json.dumps([s.to_dict() for s in plan.segments]),
            "created_at": created_at,
            "updated_at": now_ms(),
        },
        pk="id",
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
