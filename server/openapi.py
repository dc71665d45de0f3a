"""The HTTP API described as OpenAPI 3.1, served at GET /openapi.json.

Longer than 450 lines: the whole API is one document, every route and schema written out as data.

Written by hand as plain data (no apispec/spectree: those want a schema library's models or
YAML in every docstring, which this small, concurrently edited API does not need). It is kept
honest by tests/test_openapi.py: every route here is in the app and every app route is here
(the static files of web/ and the websocket are the two exceptions, see UNDESCRIBED_RULES),
and schemathesis fuzzes every operation against these schemas.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .cues import COUNTDOWN_CHOICES
from .plans import (
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SEGMENT_SECONDS,
    MAX_SEGMENTS,
    MAX_SPEED_MPH,
    MIN_SEGMENT_SECONDS,
    MIN_SPEED_MPH,
    SEGMENT_KINDS,
)
from .settings import AUDIO_MODES, MAX_WEIGHT_KG, MIN_WEIGHT_KG
from .stats import MAX_WEEKS

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.1.0"
# Flask rules the description leaves out on purpose: the app's own files (served from web/)
# and the live websocket, which OpenAPI cannot describe (README "The live workout" does).
UNDESCRIBED_RULES = frozenset({"/<path:filename>", "/ws/sessions/<session_id>"})

JSON = "application/json"
# Ids that exist in every install (a built-in plan and programme), as examples.
EXAMPLE_PLAN = "first-steps"
EXAMPLE_PROGRAMME = "first-steps"


def ref(name: str) -> dict:
    """A reference to one of the shared schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    """A JSON body of this schema."""
    return {JSON: {"schema": schema}}


def ok(description: str, schema: dict | None = None, media: str = JSON) -> dict:
    """A success response (with a body of `schema` in `media`, when given)."""
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {media: {"schema": schema}}
    return response


# Every operation may answer any 4xx (bad input, not found, rate limited, foreign origin, ...)
# and 503 (storage or voice unavailable), always in the one error shape.
ERRORS = {
    "4XX": {
        "description": "Refused: bad input, not found, not allowed or too many requests.",
        "content": json_content(ref("Error")),
    },
    "503": {
        "description": "Temporarily unavailable (storage or the coach's voice).",
        "content": json_content(ref("Error")),
    },
}


def operation(
    summary: str,
    responses: dict,
    *,
    parameters: list | None = None,
    body: dict | None = None,
    body_example: dict | None = None,
) -> dict:
    """One operation with the shared error responses added (a body example is also where a fuzzer starts)."""
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, **ERRORS}}
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": True, "content": json_content(body)}
        if body_example is not None:
            op["requestBody"]["content"][JSON]["example"] = body_example
    return op


def path_param(name: str, description: str, example: str | None = None) -> dict:
    """A string path parameter (with an example that exists, so a fuzzer reaches the success path too)."""
    param = {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}
    if example is not None:
        param["example"] = example
    return param


def query_param(name: str, description: str, schema: dict) -> dict:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


TZ_PARAM = query_param("tz", "IANA time zone (default: the saved one, else UTC).", {"type": "string"})
LANG_PARAM = query_param(
    "lang", "Language of the texts (default: the device's setting).", {"enum": ["en", "es", "de", "fr"]}
)

SEGMENT = {
    "type": "object",
    "required": ["kind", "seconds"],
    "properties": {
        "kind": {"enum": list(SEGMENT_KINDS)},
        "seconds": {"type": "integer", "minimum": MIN_SEGMENT_SECONDS, "maximum": MAX_SEGMENT_SECONDS},
        "speed_mph": {"type": "number", "minimum": MIN_SPEED_MPH, "maximum": MAX_SPEED_MPH},
    },
    "additionalProperties": False,
}

PLAN_INPUT = {
    "type": "object",
    "required": ["name", "segments"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION_LENGTH},
        "segments": {"type": "array", "minItems": 1, "maxItems": MAX_SEGMENTS, "items": ref("Segment")},
    },
    "additionalProperties": False,
}

PLAN = {
    "type": "object",
    "required": [
        "id",
        "name",
        "description",
        "builtin",
        "segments",
        "total_seconds",
        "backward_seconds",
        "reverse_seconds",
    ],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "builtin": {"type": "boolean"},
        "segments": {"type": "array", "items": ref("Segment")},
        "total_seconds": {"type": "integer", "minimum": 0},
        "backward_seconds": {"type": "integer", "minimum": 0, "description": "Seconds walked backward."},
        "reverse_seconds": {
            "type": "integer",
            "minimum": 0,
            "description": "The older name of backward_seconds, kept as an alias.",
        },
    },
}

SETTINGS = {
    "type": "object",
    "required": [
        "units",
        "weight_kg",
        "countdown",
        "halfway",
        "time_remaining",
        "lang",
        "timezone",
        "programme",
        "audio_mode",
    ],
    "properties": {
        "units": {"enum": ["mph", "kmh"]},
        "weight_kg": {"type": ["number", "null"]},
        "countdown": {"enum": list(COUNTDOWN_CHOICES)},
        "halfway": {"type": "boolean"},
        "time_remaining": {"type": "boolean"},
        "lang": {"enum": ["en", "es", "de", "fr"]},
        "timezone": {"type": ["string", "null"]},
        "programme": {"type": ["string", "null"]},
        "audio_mode": {"enum": list(AUDIO_MODES)},
    },
}

SETTINGS_CHANGE = {
    "type": "object",
    "properties": {
        "units": {"enum": ["mph", "kmh"]},
        "weight_kg": {"type": ["number", "null"], "minimum": MIN_WEIGHT_KG, "maximum": MAX_WEIGHT_KG},
        "countdown": {"enum": list(COUNTDOWN_CHOICES)},
        "halfway": {"type": "boolean"},
        "time_remaining": {"type": "boolean"},
        "lang": {"enum": ["en", "es", "de", "fr"]},
        "timezone": {"type": ["string", "null"]},
        "programme": {"type": ["string", "null"]},
        "audio_mode": {"enum": list(AUDIO_MODES)},
    },
    "additionalProperties": False,
}

CUE = {
    "type": "object",
    "required": ["seq", "offset_ms", "kind", "text", "segment", "audio"],
    "properties": {
        "seq": {"type": "integer"},
        "offset_ms": {"type": "integer"},
        "kind": {"type": "string"},
        "text": {"type": "string"},
        "segment": {"type": "integer"},
        "audio": {"type": "string"},
    },
}

SESSION_STATES = ["ready", "running", "paused", "finished"]

SESSION = {
    "type": "object",
    "required": ["id", "ws", "plan_id", "state", "created_at", "timeline"],
    "properties": {
        "id": {"type": "string"},
        "ws": {"type": ["string", "null"]},
        "plan_id": {"type": "string"},
        "plan_name": {"type": "string"},
        "state": {"enum": SESSION_STATES},
        "created_at": {"type": "integer"},
        "started_at": {"type": ["integer", "null"]},
        "finished_at": {"type": ["integer", "null"]},
        "position_ms": {"type": "integer", "minimum": 0},
        "track": {"type": "string"},
        "track_lead_in_ms": {"type": "integer"},
        # A start takes effect (a skip lands) this long after the tap: the walk clock's lead.
        "start_lead_ms": {"type": "integer"},
        "timeline": {"type": "array", "items": ref("Cue")},
        "summary": {"type": ["object", "null"]},
        # null when the audio cache cannot answer (a read must not fail on its extras).
        "confirmations": {"anyOf": [ref("Confirmations"), {"type": "null"}]},
    },
}

NEW_SESSION = {
    "type": "object",
    "required": ["id", "ws", "state", "created_at", "plan", "options", "lead_ms", "start_lead_ms", "timeline"],
    "properties": {
        "id": {"type": "string"},
        "ws": {"type": "string"},
        "state": {"const": "ready"},
        "created_at": {"type": "integer"},
        "plan": ref("Plan"),
        "options": {"type": "object"},
        # A `cue` message is pushed this long before its due.
        "lead_ms": {"type": "integer"},
        # A start takes effect (a skip lands) this long after the tap: the walk clock's lead.
        "start_lead_ms": {"type": "integer"},
        "track": {"type": "string"},
        "track_lead_in_ms": {"type": "integer"},
        "timeline": {"type": "array", "items": ref("Cue")},
        "confirmations": ref("Confirmations"),
    },
}

# The short phrases the phone plays when the walker pauses, resumes or skips.
CONFIRMATIONS = {
    "type": "object",
    "required": ["pause", "resume", "skip"],
    "properties": {
        **{
            control: {
                "type": "object",
                "required": ["text", "audio"],
                "properties": {"text": {"type": "string"}, "audio": {"type": "string"}},
            }
            for control in ("pause", "resume", "skip")
        },
        # By segment index: the slow-down a skip into that segment jumps over, said after the landed
        # switch phrase: `after_ms` after the segment's start (the switch's spoken length and the cue gap).
        "skip_to": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["text", "audio", "after_ms"],
                "properties": {
                    "text": {"type": "string"},
                    "audio": {"type": "string"},
                    "after_ms": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}

SESSION_INPUT = {
    "type": "object",
    "required": ["plan_id"],
    "properties": {
        "plan_id": {"type": "string"},
        "options": {
            "type": "object",
            "properties": {
                "countdown": {"enum": list(COUNTDOWN_CHOICES)},
                "halfway": {"type": "boolean"},
                "time_remaining": {"type": "boolean"},
                "lang": {"enum": ["en", "es", "de", "fr"]},
                "units": {"enum": ["mph", "kmh"]},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}

HISTORY_ENTRY = {
    "type": "object",
    "required": ["id", "plan_id", "plan_name", "planned_seconds", "state", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "ws": {"type": ["string", "null"]},
        "plan_id": {"type": "string"},
        "plan_name": {"type": "string"},
        "planned_seconds": {"type": "integer"},
        "state": {"enum": SESSION_STATES},
        "created_at": {"type": "integer"},
        "started_at": {"type": ["integer", "null"]},
        "finished_at": {"type": ["integer", "null"]},
        "ended_by": {"type": ["string", "null"]},
        "summary": {"type": ["object", "null"]},
    },
}

PROGRAMME = {
    "type": "object",
    "required": ["id", "name", "workouts", "following", "progress"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "weeks": {"type": "integer"},
        "workouts_per_week": {"type": "integer"},
        "sessions_per_week": {
            "type": "integer",
            "description": "The older name of workouts_per_week, kept as an alias.",
        },
        # A programme's workouts in order (they were `sessions` before; no alias: each carries its whole plan).
        "workouts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["plan_id", "week", "session", "label", "why", "plan"],
                "properties": {
                    "plan_id": {"type": "string"},
                    "week": {"type": "integer", "minimum": 1},
                    "session": {"type": "integer", "minimum": 1, "description": "The workout's number in its week."},
                    "label": {"type": "string"},
                    "why": {"type": "string"},
                    "plan": ref("Plan"),
                },
            },
        },
        "following": {"type": "boolean"},
        "started_at": {"type": ["integer", "null"]},
        "progress": {"type": "object", "required": ["done", "total", "label"]},
    },
}

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string", "minLength": 1}, "message": {"type": "string", "minLength": 1}},
}

OFFLINE_WALK_INPUT = {
    "type": "object",
    "description": "A walk done with the server out of reach, replayed from the phone's own record "
    "with the walk clock (server/walkclock.py).",
    "required": ["plan_id", "plan_name", "segments", "events"],
    "properties": {
        "plan_id": {"type": "string"},
        "plan_name": {"type": "string"},
        "segments": {"type": "array", "items": ref("Segment")},
        "options": {"type": "object"},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "at"],
                "properties": {
                    "type": {"enum": ["start", "pause", "resume", "skip", "stop"]},
                    "at": {"type": "integer"},
                },
            },
        },
        # The start lead the walk was played with (default: the server's START_LEAD_MS).
        "lead_ms": {"type": "integer"},
        "end_ms": {"type": "integer"},
    },
}


def _paths() -> dict:
    """Every described route and its operations."""
    plan_id = path_param("plan_id", "A built-in plan's id or one of this device's own.", EXAMPLE_PLAN)
    session_id = path_param("session_id", "One of this device's sessions.")
    programme_id = path_param("programme_id", "A built-in programme's id.", EXAMPLE_PROGRAMME)
    return {
        "/": {"get": operation("The phone app (HTML).", {"200": ok("The page.", {"type": "string"}, "text/html")})},
        "/manifest.webmanifest": {
            "get": operation(
                "The web app manifest.", {"200": ok("The manifest.", {"type": "object"}, "application/manifest+json")}
            )
        },
        "/sw.js": {
            "get": operation(
                "The service worker, version-stamped.",
                {"200": ok("The worker.", {"type": "string"}, "text/javascript")},
            )
        },
        "/phone.json": {
            "get": operation(
                "The address a phone should open.",
                {
                    "200": ok(
                        "The address.",
                        {
                            "type": "object",
                            "required": ["url", "secure", "reachable"],
                            "properties": {
                                "url": {"type": "string"},
                                "secure": {"type": "boolean"},
                                "reachable": {"type": "boolean"},
                            },
                        },
                    )
                },
            )
        },
        "/phone-qr.svg": {
            "get": operation(
                "The phone address as a QR code.", {"200": ok("An SVG image.", {"type": "string"}, "image/svg+xml")}
            )
        },
        "/openapi.json": {
            "get": operation(
                "This description.", {"200": ok("OpenAPI 3.1.", {"type": "object", "required": ["openapi", "paths"]})}
            )
        },
        "/healthz": {
            "get": operation(
                "Liveness.",
                {"200": ok("Up.", {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}})},
            )
        },
        "/api/live/metrics": {
            "get": operation(
                "The scheduler's counters (127.0.0.1 only; 404 elsewhere).",
                {"200": ok("Counters.", {"type": "object", "required": ["sessions_live", "sockets"]})},
                parameters=[query_param("greenlets", "Also count greenlets (slow).", {"type": "string"})],
            )
        },
        "/api/plans": {
            "get": operation(
                "Built-in plans, then this device's own.",
                {"200": ok("Plans.", {"type": "array", "items": ref("Plan")})},
                parameters=[LANG_PARAM],
            ),
            "post": operation(
                "Create a plan for this device.", {"201": ok("The new plan.", ref("Plan"))}, body=ref("PlanInput")
            ),
        },
        "/api/plans/{plan_id}": {
            "get": operation("One plan.", {"200": ok("The plan.", ref("Plan"))}, parameters=[plan_id]),
            "put": operation(
                "Replace one of this device's plans.",
                {"200": ok("The plan.", ref("Plan"))},
                parameters=[plan_id],
                body=ref("PlanInput"),
            ),
            "delete": operation("Delete one of this device's plans.", {"204": ok("Deleted.")}, parameters=[plan_id]),
        },
        "/audio/{name}": {
            "get": operation(
                "A cached cue file (immutable).",
                {
                    "200": ok("MP3 audio.", {"type": "string", "format": "binary"}, "audio/mpeg"),
                    "304": ok("Not modified."),
                },
                parameters=[path_param("name", "<sha256>.mp3, as a timeline names it.")],
            )
        },
        "/audio/tracks/{name}": {
            "get": operation(
                "A session's whole walk as one MP3 (pocket mode, immutable): Range gives 206 with Content-Range, "
                "an unsatisfiable Range 416; ETag and If-None-Match give 304.",
                {
                    "200": ok("The whole track.", {"type": "string", "format": "binary"}, "audio/mpeg"),
                    "206": ok("One byte range of it.", {"type": "string", "format": "binary"}, "audio/mpeg"),
                    "304": ok("Not modified."),
                },
                parameters=[path_param("name", "<sha256>.mp3, as a session's `track` names it.")],
            )
        },
        "/api/settings": {
            "get": operation("This device's settings.", {"200": ok("Settings.", ref("Settings"))}),
            "put": operation(
                "Change some settings.", {"200": ok("Settings.", ref("Settings"))}, body=ref("SettingsChange")
            ),
        },
        "/api/programmes": {
            "get": operation(
                "Every programme and this device's progress.",
                {
                    "200": ok(
                        "Programmes.",
                        {
                            "type": "object",
                            "required": ["following", "next", "programmes"],
                            "properties": {
                                "following": {"type": ["string", "null"]},
                                "next": {"type": ["object", "null"]},
                                "programmes": {"type": "array", "items": ref("Programme")},
                            },
                        },
                    )
                },
                parameters=[LANG_PARAM],
            )
        },
        "/api/programmes/{programme_id}": {
            "get": operation(
                "One programme.", {"200": ok("The programme.", ref("Programme"))}, parameters=[programme_id]
            )
        },
        "/api/programmes/{programme_id}/start": {
            "post": operation(
                "Follow a programme from week 1.",
                {"200": ok("The programme.", ref("Programme"))},
                parameters=[programme_id],
            )
        },
        "/api/stats/week": {
            "get": operation(
                "This week's minutes, sessions, calories and streak.",
                {
                    "200": ok(
                        "Stats.",
                        {
                            "type": "object",
                            "required": ["timezone", "target_minutes", "streak_weeks"],
                        },
                    )
                },
                parameters=[TZ_PARAM],
            )
        },
        "/api/stats/weeks": {
            "get": operation(
                "The weekly series for the charts.",
                {
                    "200": ok(
                        "Series.",
                        {
                            "type": "object",
                            "required": ["timezone", "weeks", "sessions"],
                            "properties": {"weeks": {"type": "array"}, "sessions": {"type": "array"}},
                        },
                    )
                },
                parameters=[
                    query_param("weeks", "How many weeks.", {"type": "integer", "minimum": 1, "maximum": MAX_WEEKS}),
                    TZ_PARAM,
                ],
            )
        },
        "/api/stats/sessions/{session_id}": {
            "get": operation(
                "One finished walk's minutes and calories.",
                {"200": ok("Stats.", {"type": "object"})},
                parameters=[session_id],
            )
        },
        "/api/history.csv": {
            "get": operation(
                "Every finished walk as CSV.",
                {"200": ok("CSV.", {"type": "string"}, "text/csv")},
                parameters=[TZ_PARAM],
            )
        },
        "/api/sessions": {
            "post": operation(
                "A new workout of one of this device's plans.",
                {"201": ok("The session.", ref("NewSession"))},
                body=ref("SessionInput"),
                body_example={"plan_id": EXAMPLE_PLAN},
            )
        },
        "/api/sessions/{session_id}": {
            "get": operation(
                "One of this device's sessions.", {"200": ok("The session.", ref("Session"))}, parameters=[session_id]
            ),
            "delete": operation(
                "Forget one of this device's finished walks (409 session_not_finished while it runs).",
                {"204": ok("Deleted.")},
                parameters=[session_id],
            ),
        },
        "/api/sessions/offline/{walk_id}": {
            "put": operation(
                "Store a walk played without the server, once per device (a retry gets the same session).",
                {
                    "200": ok("Stored before: the same session.", ref("Session")),
                    "201": ok("Stored: the session.", ref("Session")),
                },
                parameters=[path_param("walk_id", "The phone's id of the walk: 8-64 of A-Za-z0-9_-.")],
                body=ref("OfflineWalkInput"),
            )
        },
        "/api/history": {
            "get": operation(
                "This device's sessions, newest first.",
                {"200": ok("Sessions.", {"type": "array", "items": ref("HistoryEntry")})},
                parameters=[
                    query_param("limit", "Page size (1-500).", {"type": "integer"}),
                    query_param("before", "created_at of the last entry of the previous page.", {"type": "integer"}),
                ],
            )
        },
    }


def build_spec() -> dict:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "RetroWalk",
            "version": "1",
            "description": "A voice coach for retro walking. A device is the HttpOnly cookie rw_device; "
            'every error is {"error", "message"}. The live workout is a websocket at /ws/sessions/{id} '
            "(see the README), not described here.",
        },
        "paths": _paths(),
        "components": {
            "schemas": {
                "Error": ERROR,
                "Segment": SEGMENT,
                "PlanInput": PLAN_INPUT,
                "Plan": PLAN,
                "Settings": SETTINGS,
                "SettingsChange": SETTINGS_CHANGE,
                "Cue": CUE,
                "Session": SESSION,
                "NewSession": NEW_SESSION,
                "Confirmations": CONFIRMATIONS,
                "SessionInput": SESSION_INPUT,
                "HistoryEntry": HISTORY_ENTRY,
                "Programme": PROGRAMME,
                "OfflineWalkInput": OFFLINE_WALK_INPUT,
            }
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    """The API's OpenAPI 3.1 description."""
    return build_spec()
