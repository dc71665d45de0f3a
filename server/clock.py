"""The server's wall clock in epoch milliseconds, the one unit walks, events and devices are stamped in."""

from __future__ import annotations

import time

MS_PER_S = 1000


def now_ms() -> int:
    """The server clock in epoch milliseconds."""
    return int(time.time() * MS_PER_S)
