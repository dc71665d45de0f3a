"""A device's settings over HTTP, and the language and units every server text is shown in.

The settings themselves (fields, rules, defaults) are server/settings.py; this module reads
and writes the `settings` table (one JSON row per device) and answers GET/PUT /api/settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Blueprint, request

from .. import phrases
from ..clock import now_ms
from ..db import get_db
from ..devices import current_device
from ..inputs import request_json
from ..refusals import BadInput
from ..settings import Settings, apply_changes, from_stored

bp = Blueprint("settings", __name__)


def device_settings(device_id: str) -> Settings:
    """This device's settings, the defaults until it saves any."""
    row = get_db().execute("SELECT data FROM settings WHERE device_id = ?", [device_id]).fetchone()
    return from_stored(json.loads(row[0])) if row else Settings()


def save_settings(device_id: str, change: Callable[[Settings], Settings]) -> Settings:
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


@bp.get("/api/settings")
def show_settings():
    """This device's settings (defaults until it saves any)."""
    return device_settings(current_device()).to_dict()


@bp.put("/api/settings")
def change_settings():
    """Change the fields sent (others keep their value; null clears weight, time zone, programme)."""
    body = request_json()
    return save_settings(current_device(), lambda current: apply_changes(current, body)).to_dict()
