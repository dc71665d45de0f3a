"""The one exception family: every refusal carries a short code, an HTTP status and a sentence for the walker.

Pure (no Flask, no sockets), so the core modules raise these too. A bad body, a plan or a
setting that breaks a rule, a control that does not apply to the walk, a socket message the
server cannot act on: each is a `Refusal` subclass. server/errors.py answers every one the
same way: `{"error": code, "message": message}` with `status` over HTTP, an `error` message
on the socket.
"""

from __future__ import annotations

from typing import Any

BAD_REQUEST = 400
FORBIDDEN = 403
NOT_FOUND = 404
CONFLICT = 409
TOO_MANY_REQUESTS = 429


class Refusal(Exception):
    """Something the server will not do as asked: `code` (snake case), `status` (4xx) and `message` (a sentence).

    `extra` holds fields shown beside the two (a plan's list of `problems`, say).
    """

    status = BAD_REQUEST

    def __init__(self, code: str, message: str, *, status: int | None = None, **extra: Any):
        """A refusal with this code and sentence; `status` overrides the class's own."""
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.extra = extra

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers that go with the answer (a rate limit's Retry-After); none by default."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The one error shape: code, sentence and any extra fields."""
        return {"error": self.code, "message": self.message, **self.extra}


class BadInput(Refusal):
    """A request the server understood but cannot accept (a body or parameter that breaks a rule)."""


class NotFound(Refusal):
    """Something a device asked for that does not exist, or is not theirs to see."""

    status = NOT_FOUND

    def __init__(self, message: str):
        """A 404 `not_found` with this sentence."""
        super().__init__("not_found", message)
