"""Plans over HTTP: the built-in ones and each device's own, listed, shown, created, replaced and deleted."""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Blueprint, jsonify

from ..clock import now_ms
from ..db import get_db
from ..devices import current_device
from ..inputs import request_json
from ..plans import Plan, parse_plan, parse_segments
from ..programme_texts import localize_plan
from ..programmes import BUILTIN_PLANS
from ..refusals import CONFLICT, FORBIDDEN, NotFound, Refusal
from .settings import device_settings, display_lang, display_units

bp = Blueprint("plans", __name__)

CUSTOM_PLAN_PREFIX = "my-"
MAX_PLANS_PER_DEVICE = 500
PLAN_ID_HEX_BYTES = 6


def _plan_from_row(row: dict) -> Plan:
    """A stored custom plan as a Plan."""
    segments = parse_segments(json.loads(row["segments"]))
    return Plan(row["id"], row["name"], segments, row["description"])


def device_plans(device_id: str) -> list[Plan]:
    """This device's own plans, oldest first."""
    rows = get_db().query("SELECT * FROM plans WHERE device_id = ? ORDER BY created_at, id", [device_id])
    return [_plan_from_row(row) for row in rows]


def get_plan(plan_id: Any, device_id: str) -> Plan:
    """A built-in plan or one of this device's own, else NotFound (another device's plan is not found either)."""
    if not isinstance(plan_id, str):
        raise NotFound("plan_id must be the id of a plan, as a string.")
    if plan_id in BUILTIN_PLANS:
        return BUILTIN_PLANS[plan_id]
    row = (
        get_db()
        .execute(
            "SELECT id, name, description, segments FROM plans WHERE id = ? AND device_id = ?",
            [plan_id, device_id],
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"There is no plan {plan_id!r}.")
    return _plan_from_row(dict(zip(("id", "name", "description", "segments"), row)))


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


def _own_plan(plan_id: str, device_id: str, refusal: str) -> Plan:
    """One of this device's own plans, else NotFound, or a 403 `builtin_plan` with `refusal` for a built-in one."""
    plan = get_plan(plan_id, device_id)
    if plan.builtin:
        raise Refusal("builtin_plan", refusal, status=FORBIDDEN)
    return plan


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


@bp.post("/api/plans")
def create_plan():
    """Validate and save a custom plan for this device."""
    device_id = current_device()
    plan = parse_plan(request_json(), CUSTOM_PLAN_PREFIX + secrets.token_hex(PLAN_ID_HEX_BYTES))
    count = get_db().execute("SELECT count(*) FROM plans WHERE device_id = ?", [device_id]).fetchone()[0]
    if count >= MAX_PLANS_PER_DEVICE:
        message = f"A device may keep at most {MAX_PLANS_PER_DEVICE} plans; delete one first."
        raise Refusal("too_many_plans", message, status=CONFLICT)
    _store_plan(plan, device_id, now_ms())
    return plan.to_dict(), 201


@bp.put("/api/plans/<plan_id>")
def update_plan(plan_id: str):
    """Replace one of this device's own plans; built-in plans cannot be changed."""
    device_id = current_device()
    _own_plan(plan_id, device_id, "Built-in plans cannot be changed; duplicate it first.")
    plan = parse_plan(request_json(), plan_id)
    created = get_db().execute("SELECT created_at FROM plans WHERE id = ?", [plan_id]).fetchone()[0]
    _store_plan(plan, device_id, created)
    return plan.to_dict()


@bp.delete("/api/plans/<plan_id>")
def delete_plan(plan_id: str):
    """Delete one of this device's own plans."""
    device_id = current_device()
    _own_plan(plan_id, device_id, "Built-in plans cannot be deleted.")
    get_db().execute("DELETE FROM plans WHERE id = ? AND device_id = ?", [plan_id, device_id])
    return "", 204
