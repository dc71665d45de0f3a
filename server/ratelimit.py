"""Fair shares: no client may starve the cue scheduler or flood the server with writes.

Two defences. `YieldingApp` hands the gevent hub a turn before every request, so one
connection's pipelined burst (thousands of requests already in its buffer, which gunicorn
would otherwise answer back to back without ever waiting on the socket) cannot hold up the
cue scheduler for more than one request at a time. `Limiter` is a set of token buckets, per
device and per client address, for what costs the server a write: new devices, session
creation, plan and settings writes, and socket controls; over a limit the answer is 429 with
`Retry-After` (or a `rate_limited` error on the socket).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request

from .devices import current_device
from .errors import refused_on_socket
from .refusals import TOO_MANY_REQUESTS, Refusal
from .security import address_in, parse_networks

SECONDS_PER_MINUTE = 60.0
# A request that finds the cue scheduler overdue waits in steps this long (a timer, so the
# event loop turns and runs the scheduler's own timer first), at most DEFER_STEPS times.
DEFER_S = 0.001
DEFER_STEPS = 20
# Buckets kept in memory at most; past it, full (idle) buckets are dropped, then the oldest.
MAX_BUCKETS = 100_000
RATE_LIMITED = "rate_limited"
# Which limit each endpoint counts against.
ENDPOINT_RULES = {
    "sessions.create_session": "session",
    "sessions.upload_offline_walk": "session",
    "plans.create_plan": "write",
    "plans.update_plan": "write",
    "plans.delete_plan": "write",
    "settings.change_settings": "write",
    "programmes.follow_programme": "write",
}
# Rule -> scope -> [events a minute, burst]. Generous for a walker (and the test suite and
# benchmarks), tight for a script: a walker makes a session or two an hour.
DEFAULT_RATE_LIMITS: dict[str, dict[str, list[float]]] = {
    "new_device": {"address": [60, 60]},
    "session": {"device": [30, 30], "address": [300, 100]},
    "write": {"device": [120, 60], "address": [600, 200]},
    "control": {"device": [240, 120], "address": [1200, 300]},
}


class RateLimited(Refusal):
    """A client over one of its limits (a 429 `rate_limited`); `retry_after` is the seconds until it may try again."""

    status = TOO_MANY_REQUESTS

    def __init__(self, rule: str, scope: str, retry_after: float):
        """Remember which limit was hit and how long to wait, and say so (the wait also as `retry_after`)."""
        self.rule, self.scope, self.retry_after = rule, scope, retry_after
        message = f"Too many requests; please try again in {self.retry_after_s} s."
        super().__init__(RATE_LIMITED, message, retry_after=self.retry_after_s)

    @property
    def retry_after_s(self) -> int:
        """Whole seconds to wait (at least one), as Retry-After wants them."""
        return max(1, math.ceil(self.retry_after))

    @property
    def headers(self) -> dict[str, str]:
        """Retry-After, in whole seconds."""
        return {"Retry-After": str(self.retry_after_s)}


@dataclass
class Bucket:
    """Tokens left and when they were counted."""

    tokens: float
    at: float


class Limiter:
    """Token buckets by (rule, scope, key), in memory and bounded, safe across threads and greenlets."""

    def __init__(
        self,
        limits: dict[str, dict[str, list[float]]],
        exempt: str = "",
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = MAX_BUCKETS,
    ):
        """Buckets for `limits`; `exempt` addresses skip per-address limits; `enabled` off lets everything through."""
        self.limits = limits
        self.exempt = parse_networks(exempt)
        self.enabled = enabled
        self.clock = clock
        self.max_buckets = max_buckets
        self.lock = threading.Lock()
        self.buckets: dict[tuple[str, str, str], Bucket] = {}

    def exempt_address(self, address: str | None) -> bool:
        """Whether per-address limits skip this address (by default loopback: a local proxy, the benchmarks)."""
        return address_in(address, self.exempt)

    def hit(self, rule: str, device: str | None = None, address: str | None = None) -> None:
        """Count one event against the rule's device and address buckets, or raise RateLimited (taking nothing)."""
        if not self.enabled or rule not in self.limits:
            return
        keys = []
        scopes = self.limits[rule]
        if device is not None and "device" in scopes:
            keys.append(("device", device))
        if address is not None and "address" in scopes and not self.exempt_address(address):
            keys.append(("address", address))
        with self.lock:
            now = self.clock()
            buckets = [(scope, self._refilled(rule, scope, key, now)) for scope, key in keys]
            for scope, bucket in buckets:
                if bucket.tokens < 1:
                    per_minute = scopes[scope][0]
                    raise RateLimited(rule, scope, (1 - bucket.tokens) * SECONDS_PER_MINUTE / per_minute)
            for _, bucket in buckets:
                bucket.tokens -= 1

    def _refilled(self, rule: str, scope: str, key: str, now: float) -> Bucket:
        """The bucket of one key with the tokens earned since it was last counted."""
        per_minute, burst = self.limits[rule][scope]
        bucket = self.buckets.get((rule, scope, key))
        if bucket is None:
            if len(self.buckets) >= self.max_buckets:
                self._prune(now)
            bucket = self.buckets[(rule, scope, key)] = Bucket(float(burst), now)
        else:
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * per_minute / SECONDS_PER_MINUTE)
            bucket.at = now
        return bucket

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled (as good as new); if that is not enough, the oldest half."""
        for bucket_key, bucket in list(self.buckets.items()):
            rule, scope, _ = bucket_key
            per_minute, burst = self.limits[rule][scope]
            if bucket.tokens + (now - bucket.at) * per_minute / SECONDS_PER_MINUTE >= burst:
                del self.buckets[bucket_key]
        if len(self.buckets) >= self.max_buckets:
            for bucket_key in list(self.buckets)[: len(self.buckets) // 2]:
                del self.buckets[bucket_key]


class YieldingApp:
    """WSGI middleware: give every other greenlet a turn before each request, and the cue scheduler precedence.

    sleep(0) only queues this greenlet behind the others that are ready; gevent runs up to
    50 of those (whole requests, here) before its loop turns and fires timers, the
    scheduler's among them. So a request that finds the scheduler overdue also steps aside
    on a short timer, letting the loop turn at once: the scheduler then waits for about one
    request, not fifty.
    """

    def __init__(self, wsgi_app, scheduler_overdue: Callable[[], bool]):
        """Wrap the app; `scheduler_overdue` says whether the cue scheduler is waiting for a turn."""
        self.wsgi_app = wsgi_app
        self.scheduler_overdue = scheduler_overdue

    def __call__(self, environ, start_response):
        """Yield (gevent patches time.sleep), stand back while the scheduler is overdue, then serve."""
        time.sleep(0)
        for _ in range(DEFER_STEPS):
            if not self.scheduler_overdue():
                break
            time.sleep(DEFER_S)
        return self.wsgi_app(environ, start_response)


def limiter() -> Limiter:
    """This app's limiter."""
    return current_app.extensions["limiter"]


def count_new_device() -> None:
    """Count a new device against its address (called where a device is issued)."""
    limiter().hit("new_device", address=request.remote_addr)


def limit_request():
    """Before a write that costs the server (its endpoint is in ENDPOINT_RULES): count it, or 429."""
    rule = ENDPOINT_RULES.get(request.endpoint or "")
    if rule is None or request.method == "GET":
        return None
    limiter().hit(rule, device=current_device(), address=request.remote_addr)
    return None


def control_throttle(device: str | None, address: str | None) -> Callable[[], dict | None]:
    """For a socket: a function that counts one control and returns the socket's `rate_limited` error when over."""
    limits = limiter()

    def throttle() -> dict | None:
        """Count one control; the socket's error when over a limit."""
        try:
            limits.hit("control", device=device, address=address)
        except RateLimited as limited:
            return refused_on_socket(limited)
        return None

    return throttle


def merged_limits(overrides: dict[str, Any] | None) -> dict[str, dict[str, list[float]]]:
    """The default limits with the configured ones over them, scope by scope (null removes a scope); checked."""
    limits = {rule: dict(scopes) for rule, scopes in DEFAULT_RATE_LIMITS.items()}
    for rule, scopes in (overrides or {}).items():
        for scope, value in scopes.items():
            if value is None:
                limits.setdefault(rule, {}).pop(scope, None)
                continue
            per_minute, burst = value
            if scope not in ("device", "address") or not per_minute > 0 or not burst >= 1:
                raise ValueError(
                    f"Rate limit {rule}.{scope} must be [per minute > 0, burst >= 1] for device or address."
                )
            limits.setdefault(rule, {})[scope] = [float(per_minute), float(burst)]
    return limits


def _scheduler_overdue(app: Flask) -> bool:
    """Whether this app's cue scheduler has a wake-up waiting (False before the hub exists)."""
    hub = app.extensions.get("live")
    return hub is not None and hub.overdue()


def init_app(app: Flask) -> None:
    """Install the yielding middleware, the limiter (from config) and its request hook (errors.py answers its 429)."""
    limits = merged_limits(app.config.get("RATE_LIMITS"))
    app.extensions["limiter"] = Limiter(
        limits, exempt=app.config["RATE_LIMIT_EXEMPT"], enabled=bool(app.config["RATE_LIMITS_ENABLED"])
    )
    app.wsgi_app = YieldingApp(app.wsgi_app, lambda: _scheduler_overdue(app))
    app.before_request(limit_request)
