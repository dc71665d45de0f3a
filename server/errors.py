"""One error shape for the whole API: `{"error": code, "message": sentence}` with a 4xx/5xx status.

Every refusal is a `Refusal` (server/refusals.py) and is answered from one table of HTTP
handlers (`HTTP_HANDLERS`) and, on the live socket, by `error_on_socket`: a refusal as itself,
a storage fault as such (503 / `storage_unavailable`), anything else logged in full as a bug.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .db import is_storage_fault
from .refusals import BAD_REQUEST, Refusal
from .voice import VoiceUnavailable

log = logging.getLogger(__name__)


# How long a client should wait before trying a write again after a storage fault.
STORAGE_RETRY_AFTER_S = 30
STORAGE_UNAVAILABLE = "storage_unavailable"
METHOD_NOT_ALLOWED = 405
PAYLOAD_TOO_LARGE = 413
INTERNAL_ERROR = 500
SERVICE_UNAVAILABLE = 503
VOICE_UNAVAILABLE_MESSAGE = "The coach's voice is not available right now; please try again."
STORAGE_MESSAGE = "The server cannot save right now (its storage is unavailable); please try again later."
INTERNAL_MESSAGE = "Something went wrong on the server; please try again."
# A socket control that failed for no fault of the phone's: what it asked was not kept.
SOCKET_INTERNAL_MESSAGE = "The server could not save that; please try again."


def error_response(status: int, error: str, message: str, **extra):
    """A JSON error the phone can show as it is (extra fields, such as a list of problems, may follow)."""
    response = jsonify(error=error, message=message, **extra)
    response.status_code = status
    return response


def _code_of(exc: HTTPException) -> str:
    """A short snake-case code from an HTTP exception's name ("Not Found" -> "not_found")."""
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def socket_error(code: str, message: str, **extra) -> dict:
    """The one error shape as a message on the live socket."""
    return {"type": "error", "error": code, "message": message, **extra}


def refused_on_socket(exc: Refusal) -> dict:
    """A refusal as the socket's `error` message."""
    return socket_error(exc.code, exc.message, **exc.extra)


def error_on_socket(exc: Exception, doing: str) -> dict:
    """Any error a socket control met (`doing` names it for the log) as the socket's `error`; the socket stays open."""
    if isinstance(exc, Refusal):
        return refused_on_socket(exc)
    if is_storage_fault(exc):
        log.warning("%s not stored: %s", doing, exc)
        return socket_error(STORAGE_UNAVAILABLE, STORAGE_MESSAGE)
    log.exception("%s failed", doing)
    return socket_error("internal", SOCKET_INTERNAL_MESSAGE)


def http_error(exc: HTTPException):
    """Werkzeug's HTTP errors (bad JSON, too large, not found, ...) as JSON."""
    message = exc.description or exc.name
    if exc.code == BAD_REQUEST and "JSON" in (exc.description or ""):
        message = "The request body is not valid JSON."
    if exc.code == PAYLOAD_TOO_LARGE:
        message = "The request body is too large."
    response = error_response(exc.code or INTERNAL_ERROR, _code_of(exc), message)
    if exc.code == METHOD_NOT_ALLOWED and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def refused(exc: Refusal):
    """Anything the server will not do as asked: its status, code, sentence, extra fields and headers."""
    response = error_response(exc.status, exc.code, exc.message, **exc.extra)
    response.headers.update(exc.headers)
    return response


def voice_unavailable(exc: VoiceUnavailable):
    """No engine could speak a phrase: the session cannot promise its cues."""
    return error_response(SERVICE_UNAVAILABLE, "voice_unavailable", VOICE_UNAVAILABLE_MESSAGE)


def unexpected(exc: Exception):
    """A storage fault is a 503 and one log line; anything else is a bug, logged in full and told plainly."""
    if is_storage_fault(exc):
        log.warning("Storage unavailable: %s", exc)
        response = error_response(SERVICE_UNAVAILABLE, STORAGE_UNAVAILABLE, STORAGE_MESSAGE)
        response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_S)
        return response
    log.exception("Unhandled error")
    return error_response(INTERNAL_ERROR, "internal", INTERNAL_MESSAGE)


# Every error the HTTP API answers, by type (Flask picks the most specific): a rate limit
# (server/ratelimit.py) is a Refusal too, its Retry-After among its headers.
HTTP_HANDLERS = (
    (HTTPException, http_error),
    (Refusal, refused),
    (VoiceUnavailable, voice_unavailable),
    (Exception, unexpected),
)


def register_error_handlers(app: Flask) -> None:
    """Turn every HTTP and unexpected error into the one JSON shape, never a traceback."""
    for kind, handler in HTTP_HANDLERS:
        app.register_error_handler(kind, handler)
