"""Device identity: an opaque random token in an HttpOnly cookie, set when a request first needs one.

A device row is made only by a request that needs one (a write, or opening the app's page so
the phone has its identity before its first write). A cookieless read (the plan list, stats,
a 404) is answered as a device with nothing stored, and no row is made for it: a crawler or a
flood of cookieless requests leaves nothing behind.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, current_app, g, request

from .clock import now_ms
from .db import get_db

TOKEN_BYTES = 24
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
# Files anyone may fetch: no identity needed, so no database work on the hot path.
ANONYMOUS_ENDPOINTS = frozenset({"static", "audio.audio", "health.healthz", "openapi.openapi_json"})
# Requests that store something for their device, so a new visitor gets a device for them.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The app's page: a phone gets its identity on its first visit (README: "any GET / gives a
# non-browser client its cookie"), so its later reads and writes are its own from the start.
ISSUING_ENDPOINTS = frozenset({"pages.index"})
# The device of a request that has none and needs none: matches no stored row.
NO_DEVICE = ""


def _known(token: str) -> bool:
    """True when this token is a device the server issued."""
    return get_db().execute("SELECT 1 FROM devices WHERE id = ?", [token]).fetchone() is not None


def _issue() -> str:
    """Create a new device and return its token (counted against its address's limit of new devices)."""
    from .ratelimit import count_new_device  # here: ratelimit imports this module (a write's device)

    count_new_device()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    get_db().execute("INSERT INTO devices (id, created_at) VALUES (?, ?)", [token, now_ms()])
    return token


def needs_device() -> bool:
    """True when this request stores something for its device (or is the app's first page)."""
    return request.method in WRITE_METHODS or request.endpoint in ISSUING_ENDPOINTS


def current_device() -> str:
    """The device making this request; a new one is issued only when the request needs one (else NO_DEVICE)."""
    if "device_id" not in g:
        token = request.cookies.get(current_app.config["DEVICE_COOKIE"], "")
        if TOKEN_PATTERN.match(token) and _known(token):
            g.device_id = token
        elif request.endpoint is not None and needs_device():
            g.device_id = _issue()
            g.new_device = True
        else:
            return NO_DEVICE
    return g.device_id


def init_app(app: Flask) -> None:
    """Identify the device on every request and hand a new one its cookie."""

    @app.before_request
    def identify():
        """Every request but a public file's, websocket upgrades too, is its device's (made here only if needed)."""
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
