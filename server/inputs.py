"""Reading what a client sends, once, at the boundary: one JSON reader and one query-integer reader.

Every JSON route and the session websocket read through `loads` (HTTP bodies through
`request_json`, or `request_object` for a body of known fields), and every whole-number
query parameter through `query_int`, so bad input is refused the same way everywhere with a
400 (or an `error` message on the socket) before any of it reaches a plan, the database or
Python's recursion limit: text that is not JSON we accept is `invalid_json`; a body of the
wrong shape `invalid_request` (or the domain's own code, such as `invalid_plan` with its
`problems`, where the domain checks the shape).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import request

from .refusals import BadInput

# Our deepest document is a plan: object > segments list > segment object. A client that
# nests deeper is not one of ours; Python's decoder would hit its recursion limit near 1,000.
MAX_JSON_DEPTH = 32
# SQLite stores integers in 64 bits; a number beyond this cannot be stored or compared there.
SQLITE_MAX_INT = 2**63 - 1
SQLITE_MIN_INT = -(2**63)
# A JSON string, escapes included, so brackets inside text are not counted as nesting.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
_OPENERS = frozenset("[{")
# ASCII digits only: str.isdigit() and int() also accept "²", "٣" and full-width digits.
_ASCII_WHOLE_NUMBER = re.compile(r"[0-9]+")
# More digits than this cannot fit in 64 bits; refused before int() does any work.
_MAX_INT_DIGITS = 19

INVALID_JSON = "invalid_json"
INVALID_REQUEST = "invalid_request"


class JsonInvalid(BadInput):
    """A body or message that is not JSON this server accepts (always the code `invalid_json`)."""

    def __init__(self, message: str):
        """An invalid_json error with this sentence."""
        super().__init__(INVALID_JSON, message)


def nesting_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in a JSON text, counting no further than limit + 1."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in _OPENERS else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def _finite_float(text: str) -> float:
    """A JSON fraction, refused when it overflows to infinity (1e400)."""
    value = float(text)
    if not math.isfinite(value):
        raise JsonInvalid("Numbers must be finite.")
    return value


def _storable_int(text: str) -> int:
    """A JSON whole number, refused beyond what SQLite's 64-bit integers hold."""
    value = int(text)
    if not SQLITE_MIN_INT <= value <= SQLITE_MAX_INT:
        raise JsonInvalid("Whole numbers must fit in 64 bits.")
    return value


def _no_constants(name: str) -> Any:
    """NaN, Infinity and -Infinity are not JSON (Python accepts them by default)."""
    raise JsonInvalid(f"{name} is not a number JSON allows; numbers must be finite.")


def loads(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON text, refusing deep nesting, non-finite or oversized numbers and text that is not Unicode."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise JsonInvalid("The JSON text must be UTF-8.") from None
    if nesting_depth(data, max_depth) > max_depth:
        raise JsonInvalid(f"JSON may nest at most {max_depth} levels deep.")
    try:
        value = json.loads(data, parse_float=_finite_float, parse_int=_storable_int, parse_constant=_no_constants)
    except JsonInvalid:
        raise
    except (ValueError, RecursionError):
        raise JsonInvalid("The text is not valid JSON.") from None
    try:
        # A lone surrogate ("\ud800") parses but can be neither stored as UTF-8 nor sent back.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise JsonInvalid("Text must be valid Unicode (no unpaired surrogate escapes).") from None
    return value


def request_json() -> Any:
    """This request's JSON body, read through `loads`, or a 400 `invalid_json`."""
    if not request.is_json:
        raise JsonInvalid("The request body must be JSON (Content-Type: application/json).")
    # get_data honours MAX_CONTENT_LENGTH: a body over it is a 413 before any parsing.
    return loads(request.get_data(cache=True))


def request_object(fields: frozenset[str], example: str) -> dict:
    """This request's JSON body as an object of known `fields`, else a 400 (`invalid_json` or `invalid_request`)."""
    body = request_json()
    if not isinstance(body, dict):
        raise BadInput(INVALID_REQUEST, f"The body must be a JSON object such as {example}.")
    unknown = sorted(set(body) - fields)
    if unknown:
        raise BadInput(INVALID_REQUEST, f"Unknown field(s): {', '.join(unknown)}.")
    return body


def query_int(name: str, default: int | None, low: int, high: int, code: str = INVALID_REQUEST) -> int | None:
    """A whole-number query parameter in [low, high] written in ASCII digits, its default when absent, else a 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _ASCII_WHOLE_NUMBER.fullmatch(raw) or len(raw.lstrip("0")) > _MAX_INT_DIGITS:
        raise BadInput(code, f"{name} must be a whole number from {low} to {high}, in digits 0-9.")
    value = int(raw)
    if not low <= value <= high:
        raise BadInput(code, f"{name} must be a whole number from {low} to {high}.")
    return value
