"""The live hub's counters, read by the capacity benchmark and an operator (GET /api/live/metrics).

Among them the garbage collector's pauses, timed here: a long one holds up every cue of every walker.
"""

from __future__ import annotations

import gc
import time
import weakref
from dataclasses import dataclass, field

from ..clock import MS_PER_S, now_ms


@dataclass
class Metrics:
    """Counters a capacity benchmark and an operator read."""

    cues_dispatched: int = 0  # cues handed to the sockets of their session
    cues_missed: int = 0  # cues whose send time came too late to send before due (not sent)
    cues_dropped_late: int = 0  # cue messages a socket's writer dropped because due had passed
    sessions_finished: int = 0
    scheduler_errors: int = 0
    scheduler_lag_max_ms: int = 0  # the longest a wake-up waited past its time
    gc_pause_max_ms: float = 0.0  # the longest cyclic garbage collection (it stops every greenlet)
    gc_full_collections: int = 0
    gc_pause_total_ms: float = 0.0
    gc_cpu_total_ms: float = 0.0
    gc_scheduled_full: int = 0  # full collections the scheduler ran, cues of their pause sent ahead
    gc_scheduled_last_ms: float = 0.0
    gc_scheduled_found: int = 0  # unreachable objects the last one found
    # The latest long pauses as [epoch ms, pause ms, generation], so a benchmark can tell which fell mid-walk.
    gc_long_pauses: list = field(default_factory=list)
    sessions_unloaded: int = 0  # live sessions nobody watched, dropped from memory (reloaded on demand)
    ready_sessions_forgotten: int = 0  # sessions made but never started, deleted after READY_SESSION_TTL_S
    empty_devices_forgotten: int = 0  # devices that never stored anything, deleted after EMPTY_DEVICE_TTL_S
    # The write-ahead log's catch-ups in an upkeep pause (server/sessions/scheduler.py, server/db.py catch_up):
    log_catch_ups: int = 0  # ...that started the log afresh (and cut its file back to its limit)
    log_catch_ups_deferred: int = 0  # ...that could not (the Checkpointer mid-copy): tried again at the next look
    log_catch_up_last_ms: float = 0.0
    log_catch_up_max_ms: float = 0.0
    log_bytes_last: int = 0  # the log file's size at the last look or catch-up


# GC pauses at least this long (ms) are logged with their time, the latest GC_LONG_PAUSES_KEPT of them.
GC_LONG_PAUSE_MS = 50
GC_LONG_PAUSES_KEPT = 100


# Every hub's metrics that hear of collections; one callback times each pause once for all of them,
# and a hub that is gone (an app made and dropped, as tests do) stops being counted.
_watched: weakref.WeakValueDictionary[int, Metrics] = weakref.WeakValueDictionary()
_gc_started: list[float] = []


def _on_gc(phase: str, info: dict) -> None:
    """Note when a collection starts; at its end, count its pause (wall and CPU time) for every hub."""
    if phase == "start":
        _gc_started[:] = [time.perf_counter(), time.process_time()]
        return
    if not _gc_started:
        return
    pause = (time.perf_counter() - _gc_started[0]) * MS_PER_S
    # CPU time apart from wall time: on a busy machine a pause also counts time the OS gave others.
    cpu = (time.process_time() - _gc_started[1]) * MS_PER_S
    long_pause = [now_ms(), round(pause, 1), info.get("generation")] if pause >= GC_LONG_PAUSE_MS else None
    for metrics in list(_watched.values()):
        metrics.gc_pause_max_ms = max(metrics.gc_pause_max_ms, round(pause, 1))
        metrics.gc_pause_total_ms += pause
        metrics.gc_cpu_total_ms += cpu
        if long_pause:
            metrics.gc_long_pauses = [*metrics.gc_long_pauses[-GC_LONG_PAUSES_KEPT + 1 :], long_pause]
        if info.get("generation") == 2:
            metrics.gc_full_collections += 1


def watch_gc(metrics: Metrics) -> None:
    """Time the garbage collector's pauses for a hub: a long one holds up every cue of every walker."""
    _watched[id(metrics)] = metrics
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)
