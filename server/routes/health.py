"""Liveness: the one route a load balancer or the test suite asks to see the server is up."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers and the test suite."""
    return {"ok": True}
