"""Politeness towards an online voice: calls spaced apart, and a circuit breaker that stops calling a failing service.

Both take their clock (and the throttle its sleep) as arguments, so tests move time by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Throttle:
    """Spaces calls at least min_interval seconds apart, across threads."""

    def __init__(
        self,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """Start with no call made."""
        self.min_interval = min_interval
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._next_slot = float("-inf")

    def wait(self) -> None:
        """Block until this caller's turn; callers are served in arrival order."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.min_interval
        # Sleep outside the lock so the next caller can book the slot after ours.
        if slot > now:
            self._sleep(slot - now)


class CircuitBreaker:
    """Stops calling a failing service for a back-off period, then lets one trial call through."""

    def __init__(self, backoff: float, clock: Callable[[], float] = time.monotonic):
        """Start closed: calls go through."""
        self.backoff = backoff
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None
        self._trial_running = False
        self.last_error: str | None = None

    def allow(self) -> bool:
        """Whether a call may go out now (at most one trial while the back-off has passed)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._trial_running or self._clock() < self._open_until:
                return False
            self._trial_running = True
            return True

    def succeeded(self) -> None:
        """Close the breaker: the service answers."""
        with self._lock:
            self._open_until, self._trial_running, self.last_error = None, False, None

    def failed(self, reason: str) -> None:
        """Open the breaker for a full back-off period."""
        with self._lock:
            self._open_until = self._clock() + self.backoff
            self._trial_running, self.last_error = False, reason

    @property
    def is_open(self) -> bool:
        """Whether calls are being held back now."""
        with self._lock:
            return self._open_until is not None and self._clock() < self._open_until
