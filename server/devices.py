"""Device identity: an opaque random token in an HttpOnly cookie, set on the first request."""

from __future__ import annotations

import re
import secrets
import time

from flask import Flask, current_app, g, request

from .db import get_db

TOKEN_BYTES = 24
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
# Files anyone may fetch: no identity needed, so no database work on the hot path.
ANONYMOUS_ENDPOINTS = frozenset({"static", "api.audio", "api.healthz", "openapi.openapi_json"})


def _known(token: str) -> bool:
    """True when this token is a device the server issued."""
    return get_db().execute("SELECT 1 FROM devices WHERE id = ?", [token]).fetchone() is not None


def _issue() -> str:
    """Create a new device and return its token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    get_db().execute(
        "INSERT INTO devices (id, created_at) VALUES (?, ?)", [token, int(time.time() * 1000)]
    )
    return token


def current_device() -> str:
    """The device making this request, issuing one on its first visit."""
    if "device_id" not in g:
        token = request.cookies.get(current_app.config["DEVICE_COOKIE"], "")
        if TOKEN_PATTERN.match(token) and _known(token):
            g.device_id = token
        else:
            g.device_id = _issue()
            g.new_device = True
    return g.device_id


def init_app(app: Flask) -> None:
    """Identify the device on every request and hand a new one its cookie."""

    @app.before_request
    def identify():
        """Every request but a public file's, websocket upgrades included, belongs to a device."""
        if request.endpoint not in ANONYMOUS_ENDPOINTS:
            current_device()

    @app.after_request
    def hand_out_cookie(response):
        """Set the cookie once, on the response to a new device's first request."""
        if g.get("new_device"):
            response.set_cookie(
                app.config["DEVICE_COOKIE"],
                g.device_id,
                max_age=app.config["DEVICE_COOKIE_MAX_AGE_S"],
                httponly=True,
                samesite="Lax",
                secure=request.is_secure,
            )
        return response
