"""The one cue scheduler of a process: a heap of every live session's next wake-up, one thread to serve it.

Longer than 450 lines: every kind of wake-up in the one heap (cues, ends, housekeeping, the
upkeep pauses of the collector and of the write-ahead log) is served by one loop under one lock.

``Scheduler`` is the half of the live hub (server/sessions/hub.py) that runs on its own: it
sends each session's cues a lead before their due, finishes sessions at their end (or after
the longest pause), unloads sessions nobody has watched for a while, forgets ready ones never
started, and runs the full garbage collections and the write-ahead log's catch-ups (its upkeep
pauses) with the cues of their pause sent ahead. There is never a sleeping thread per session.
Under gunicorn's gevent worker the thread and locks are greenlet-friendly, as everything else
in the worker.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from ..clock import MS_PER_S
from ..db import is_storage_fault
from ..walkclock import ENDED_COMPLETE, ENDED_STOPPED, LIVE_STATES, PAUSED, RUNNING
from .messages import Watcher, cue_message, encode
from .metrics import Metrics
from .model import LiveSession, SessionGone
from .store import SessionStore

log = logging.getLogger(__name__)

# Heap entries that are not a session's next wake-up: housekeeping's own (under an id no session
# has), and an unloaded session's end (a generation no session in memory has).
HOUSEKEEPING = ""
UNLOADED = -1
# Full garbage collections are the scheduler's to run: an automatic one stops every walker at a
# random moment, 1.7 s with 10,000 sockets on the 2-core machine, past the cues' lead. The
# scheduler first sends every cue due within GC_HEADROOM_MS more than the lead, then collects, so
# the pause holds up no cue (a phone places a cue by its due, however early it comes).
FULL_GC = "full-gc"  # its heap entries' id, which no session id (16 URL-safe characters) can be
FULL_GC_EVERY_MS = 60 * 1000
# Measured: about 0.7 s of CPU at 10,000 sockets, up to 2.2 s of wall time on the shared machine.
GC_HEADROOM_MS = 4000
# ...and sooner once this share of the sockets (at least FULL_GC_MIN_CLOSED) has closed since the
# last one, as CPython's own rule runs one when a quarter more objects have come to stay, but
# never within FULL_GC_MIN_GAP_MS of the last (walkers finishing together close sockets in waves).
FULL_GC_CLOSED_SHARE = 0.25
FULL_GC_MIN_CLOSED = 500
FULL_GC_MIN_GAP_MS = 15 * 1000
# The automatic collector keeps to the young generations: it would need this many of their
# collections before a full one.
NO_AUTOMATIC_FULL_GC = 1_000_000
# After a scheduler failure on one session (a locked database, say), look at it again this soon.
RETRY_MS = 1000
# Stale wake-ups (a session rescheduled, by a pause or a skip) tolerated beyond twice the live ones.
HEAP_SLACK = 64
# The scheduler works at most this long before yielding, so sockets' writers run between slices.
TICK_SLICE_S = 0.005
# The write-ahead log, where a Checkpointer thread copies it (server/db.py LOG_LIMIT_BYTES): only a
# commit of this worker starts it afresh, and only with all of it copied, which continuous commits
# never let the thread finish. So every LOG_CHECK_EVERY_MS the scheduler looks at its size and,
# past the limit, catches it up itself in an upkeep pause, the cues of the pause sent ahead as for
# a full collection (whose pauses catch it up too). At 500 walkers the log grows about 4 MB a
# minute: a pause a minute. A catch-up the thread's copy got in the way of is tried at the next look.
# Each look also moves the store's hold on the log on (server/db.py LogHold), so that between pauses
# no ordinary commit starts the log afresh (and flushes its new header with every walker waiting).
LOG_CHECK = "log-check"  # its heap entries' id, which no session id can be
LOG_CHECK_EVERY_MS = 2 * 1000


class Scheduler:
    """The heap of wake-ups and the thread that serves it; LiveHub adds the sockets and the controls."""

    def __init__(
        self,
        store: SessionStore,
        lead_ms: int,
        margin_ms: int,
        max_pause_ms: int | None,
        clock: Callable[[], int],
        idle_unload_ms: int | None,
        ready_ttl_ms: int | None,
        housekeeping_ms: int,
        empty_device_ttl_ms: int | None,
        full_gc_every_ms: int | None,
    ):
        """Nothing scheduled and no thread yet: start() starts it."""
        self.store = store
        self.lead_ms = int(lead_ms)
        self.margin_ms = int(margin_ms)
        self.max_pause_ms = max_pause_ms
        self.clock = clock
        self.lock = threading.RLock()
        self.sessions: dict[str, LiveSession] = {}
        # The sockets watching each session (the hub's); a session nobody watches is unloaded.
        self.watchers: dict[str, set[Watcher]] = {}
        self.metrics = Metrics()
        # None: the garbage collector runs on its own, as in any process (tests, the dev server).
        self.full_gc_every_ms = full_gc_every_ms
        self._gc_generation = 0  # only the latest FULL_GC entry counts
        self._gc_due = False
        self._log_due = False  # the log is past its limit: an upkeep pause catches it up after this slice
        self._log_catch_up_failing = False  # the last catch-up raised (said once in the log, not every look)
        self._log_hold_failing = False  # ...and the last hold on the log (store.hold_log)
        self._closed_since_gc = 0
        # Sockets attached and not yet detached, kept as they come and go (a sum over 10,000 sessions
        # per close is not cheap).
        self._socket_count = 0
        self._gc_last_at = 0  # when the scheduler's last full collection ended
        self._gc_threshold_before: tuple[int, int, int] | None = None
        self.empty_device_ttl_ms = empty_device_ttl_ms
        self.idle_unload_ms = idle_unload_ms
        self.ready_ttl_ms = ready_ttl_ms
        self.housekeeping_ms = housekeeping_ms
        # When each session in memory was last seen with no socket (housekeeping unloads it after idle_unload_ms).
        self.unwatched_since: dict[str, int] = {}
        self._housekeeping_scheduled = False
        self.heap: list[tuple[int, int, str, int]] = []
        self._heap_floor = 0  # entries left by the last compaction: all current then
        self._counter = itertools.count()
        self._wake = threading.Event()
        # Missed cues are logged in a summary line at most once a second.
        self._missed_logged_at, self._missed_unlogged, self._missed_worst_ms = 0, 0, -self.margin_ms
        self._thread: threading.Thread | None = None
        self._stopping = False

    # --- what the hub does for the scheduler -----------------------------------------------------

    def _get(self, session_id: str) -> LiveSession:
        """A session, loaded from the store if it is not in memory (LiveHub._get)."""
        raise NotImplementedError

    def _finish(self, session: LiveSession, at: int, ended_by: str) -> None:
        """Finish a session at `at`, commit it, then tell its sockets (LiveHub._finish)."""
        raise NotImplementedError

    # --- sending to the sockets -----------------------------------------------------------------

    def broadcast(self, session_id: str, message: dict, not_after: int | None = None) -> int:
        """Queue one message for every socket of a session; returns how many took it."""
        watchers = self.watchers.get(session_id)
        if not watchers:
            return 0
        text = encode(message)
        delivered = 0
        for watcher in list(watchers):
            if watcher.deliver(text, not_after):
                delivered += 1
            elif watcher in watchers:
                watchers.discard(watcher)
                self._socket_count -= 1
        return delivered

    def _socket_closed(self) -> None:
        """Count a closed socket; once enough have closed, their cycles are garbage worth a full collection soon."""
        self._closed_since_gc += 1
        enough = max(FULL_GC_MIN_CLOSED, FULL_GC_CLOSED_SHARE * self._socket_count)
        if self.full_gc_every_ms and self._closed_since_gc >= enough:
            self._closed_since_gc = 0
            self._schedule_full_gc(max(self.clock(), self._gc_last_at + FULL_GC_MIN_GAP_MS))
            self._wake.set()

    # --- the heap of wake-ups -------------------------------------------------------------------

    def _schedule(self, session: LiveSession, wake_scheduler: bool = True) -> None:
        """(Re)enter a session's next wake-up in the heap; older entries for it go stale."""
        session.generation += 1
        wake = session.next_wake_ms(self.lead_ms, self.max_pause_ms)
        if wake is not None:
            heapq.heappush(self.heap, (wake, next(self._counter), session.id, session.generation))
            self._compact_if_stale()
            # Only a change from outside wakes the scheduler: inside a tick it would make the
            # scheduler's wait return at once, and a scheduler that never waits starves the writers.
            if wake_scheduler:
                self._wake.set()

    def _is_current(self, entry: tuple[int, int, str, int]) -> bool:
        """Whether a heap entry still matters: housekeeping, a look at the log, an unloaded end, a latest wake-up."""
        _, _, session_id, generation = entry
        if session_id in (HOUSEKEEPING, LOG_CHECK) or generation == UNLOADED:
            return True
        if session_id == FULL_GC:
            return generation == self._gc_generation
        session = self.sessions.get(session_id)
        return session is not None and session.generation == generation

    def _compact_if_stale(self) -> None:
        """Drop stale wake-ups once the heap has doubled since the last compaction (each costs the pushes it keeps)."""
        if len(self.heap) <= 2 * self._heap_floor + HEAP_SLACK:
            return
        self.heap = [entry for entry in self.heap if self._is_current(entry)]
        heapq.heapify(self.heap)
        self._heap_floor = len(self.heap)

    def _advance(self, session: LiveSession, now: int, early_ms: int = 0) -> None:
        """Send a session's cues whose time has come (`early_ms` sooner still), and finish it at its end."""
        if session.state == PAUSED:
            if self.max_pause_ms and now - session.paused_at >= self.max_pause_ms:
                self._finish(session, session.paused_at + self.max_pause_ms, ENDED_STOPPED)
            return
        send, missed = session.take_due(now, self.lead_ms + early_ms, self.margin_ms)
        for cue, due in send:
            self.metrics.cues_dispatched += 1
            self.broadcast(session.id, cue_message(cue, due), not_after=due - self.margin_ms)
        if missed:
            self._note_missed(missed, now)
        end = session.end_at()
        if end is not None and end <= now:
            self._finish(session, end, ENDED_COMPLETE)
        else:
            self._schedule(session, wake_scheduler=False)

    def _note_missed(self, missed: list[tuple[dict, int]], now: int) -> None:
        """Count cues not sent in time; log them once a second at most (a line per cue slows a scheduler behind)."""
        self.metrics.cues_missed += len(missed)
        self._missed_unlogged += len(missed)
        self._missed_worst_ms = max(self._missed_worst_ms, now - missed[0][1])
        if now - self._missed_logged_at >= MS_PER_S:
            log.warning(
                "%d cue(s) not sent since the last note: due passed or too soon (the worst %d ms ago)",
                self._missed_unlogged,
                self._missed_worst_ms,
            )
            self._missed_logged_at, self._missed_unlogged, self._missed_worst_ms = now, 0, -self.margin_ms

    def tick(self, now: int | None = None, budget_s: float | None = None) -> int | None:
        """Handle the wake-ups that have come (for at most `budget_s`); return when the next one is due."""
        with self.lock:
            now = self.clock() if now is None else now
            stop_at = time.monotonic() + budget_s if budget_s is not None else None
            while self.heap and self.heap[0][0] <= now:
                if stop_at is not None and time.monotonic() > stop_at:
                    break
                at, _, session_id, generation = heapq.heappop(self.heap)
                if session_id == HOUSEKEEPING:
                    self.housekeep(now)
                    continue
                if session_id == LOG_CHECK:
                    self._look_at_log(now)
                    continue
                if session_id == FULL_GC:
                    # Collected by the scheduler outside the lock, after this slice (see collect_garbage).
                    self._gc_due = self._gc_due or generation == self._gc_generation
                    continue
                if generation == UNLOADED:
                    self._settle_unloaded(session_id, now)
                    continue
                session = self.sessions.get(session_id)
                if session is None or session.generation != generation:
                    continue
                if now - at > self.metrics.scheduler_lag_max_ms:
                    self.metrics.scheduler_lag_max_ms = now - at
                try:
                    self._advance(session, now)
                except Exception as exc:
                    # Try again shortly (a busy database, say) rather than forget the session.
                    self.metrics.scheduler_errors += 1
                    if is_storage_fault(exc):  # a full or read-only disk: one line, not a traceback a second
                        log.warning("Session %s not stored (%s); trying again in %d ms", session_id, exc, RETRY_MS)
                    else:
                        log.exception("Scheduler failed on session %s", session_id)
                    heapq.heappush(self.heap, (now + RETRY_MS, next(self._counter), session_id, session.generation))
            return self.heap[0][0] if self.heap else None

    # --- garbage collection between slices, with every cue of the pause sent ahead -------------

    def _schedule_full_gc(self, at: int) -> None:
        """Put the (one) next full collection in the heap; any earlier entry for it goes stale."""
        self._gc_generation += 1
        heapq.heappush(self.heap, (at, next(self._counter), FULL_GC, self._gc_generation))

    def send_ahead(self, now: int, early_ms: int) -> int:
        """Send now every running session's cues due within the lead plus `early_ms`; returns how many it advanced."""
        with self.lock:
            coming = []
            while self.heap and self.heap[0][0] <= now + early_ms:
                coming.append(heapq.heappop(self.heap))
            advanced = 0
            # Each entry once: a session's next wake-up lands after now + early_ms, unless it is its end.
            for entry in coming:
                _, _, session_id, generation = entry
                session = self.sessions.get(session_id)
                if session is not None and session.generation == generation and session.state == RUNNING:
                    try:
                        self._advance(session, now, early_ms)
                        advanced += 1
                    except Exception:
                        self.metrics.scheduler_errors += 1
                        log.exception("Scheduler failed on session %s", session_id)
                        heapq.heappush(self.heap, (now + RETRY_MS, next(self._counter), session_id, session.generation))
                elif self._is_current(entry):
                    heapq.heappush(self.heap, entry)  # housekeeping, a paused session's limit, an unloaded end: on time
            return advanced

    def upkeep(self) -> bool:
        """Run the upkeep pause that is due, if any: a full collection, or the log's catch-up; whether one ran."""
        if self._gc_due:
            self._gc_due = False
            self.collect_garbage()
            return True
        if self._log_due:
            self.catch_up_log()
            return True
        return False

    def collect_garbage(self) -> None:
        """A full collection with the cues of its pause already sent; the next one comes FULL_GC_EVERY_MS later."""
        with self.lock:
            self.send_ahead(self.clock(), GC_HEADROOM_MS)
            if self._log_due or self.store.log_needs_catch_up():
                self._catch_up_log()  # in the same pause
        started = time.perf_counter()
        found = gc.collect()
        self.metrics.gc_scheduled_full += 1
        self.metrics.gc_scheduled_last_ms = round((time.perf_counter() - started) * MS_PER_S, 1)
        self.metrics.gc_scheduled_found = found
        with self.lock:
            self._closed_since_gc = 0
            self._gc_last_at = self.clock()
            self._schedule_full_gc(self._gc_last_at + self.full_gc_every_ms)

    # --- the write-ahead log's catch-up, in a pause of its own when the log is past its limit -----

    def _look_at_log(self, now: int) -> None:
        """Note the log's size; past its limit, an upkeep pause catches it up after this slice. Look again later."""
        self.metrics.log_bytes_last = self.store.log_bytes()
        self._log_due = self._log_due or self.store.log_needs_catch_up()
        try:
            self.store.hold_log()  # the Checkpointer may copy up to here; no commit of ours starts the log afresh
        except Exception as exc:  # a vanished file, say: the next look tries again, and says so once
            if not self._log_hold_failing:
                log.warning(
                    "Could not hold the write-ahead log (%s); trying again every %d ms", exc, LOG_CHECK_EVERY_MS
                )
            self._log_hold_failing = True
        else:
            self._log_hold_failing = False
        heapq.heappush(self.heap, (now + LOG_CHECK_EVERY_MS, next(self._counter), LOG_CHECK, 0))

    def catch_up_log(self) -> None:
        """An upkeep pause for the log alone: the cues due within GC_HEADROOM_MS past the lead sent, then the catch-up.

        The lock is held throughout: a control (a walk's start) coming meanwhile reads its clock
        after the pause, so the first cue it makes due keeps its whole start lead.
        """
        with self.lock:
            self.send_ahead(self.clock(), GC_HEADROOM_MS)
            self._catch_up_log()

    def _catch_up_log(self) -> None:
        """Copy the rest of the log and start it afresh from here, where every commit is made (the store's catch-up)."""
        self._log_due = False
        started = time.perf_counter()
        try:
            done = self.store.catch_up_log()
        except Exception as exc:  # a read-only or full disk: the next look tries again, and says so once
            if not self._log_catch_up_failing:
                log.warning("Write-ahead log not caught up (%s); trying again every %d ms", exc, LOG_CHECK_EVERY_MS)
            self._log_catch_up_failing, done = True, False
        else:
            self._log_catch_up_failing = False
        if done is None:
            return  # SQLite copies the log in the commits themselves: nothing to catch up
        took_ms = round((time.perf_counter() - started) * MS_PER_S, 1)
        if done:
            self.metrics.log_catch_ups += 1
        else:
            self.metrics.log_catch_ups_deferred += 1
        self.metrics.log_catch_up_last_ms = took_ms
        self.metrics.log_catch_up_max_ms = max(self.metrics.log_catch_up_max_ms, took_ms)
        self.metrics.log_bytes_last = self.store.log_bytes()

    def _run(self) -> None:
        """The scheduler: sleep until the earliest wake-up (or a change), handle it in slices, repeat."""
        while not self._stopping:
            try:
                next_at = self.tick(budget_s=TICK_SLICE_S)
                if self.upkeep():
                    continue
            except Exception:  # never let one bad session stop every walker's cues
                log.exception("Scheduler tick failed")
                next_at = self.clock() + MS_PER_S
            timeout = None if next_at is None else (next_at - self.clock()) / MS_PER_S
            if timeout is not None and timeout <= 0:
                # More is due already: yield first, so the sockets' writers send what was queued.
                time.sleep(0)
                continue
            self._wake.wait(timeout)
            # A change that comes after this is in the heap, which the next tick reads anyway.
            self._wake.clear()

    # --- housekeeping: bounded memory, abandoned sessions ended ---------------------------------

    def housekeep(self, now: int) -> None:
        """Unload sessions nobody has watched for a while and forget ready ones never started; then come back later."""
        try:
            self._unload_idle(now)
            if self.ready_ttl_ms:
                forgotten = self.store.forget_ready(now - self.ready_ttl_ms, keep=set(self.sessions))
                self.metrics.ready_sessions_forgotten += forgotten
            if self.empty_device_ttl_ms:
                self.metrics.empty_devices_forgotten += self.store.forget_empty_devices(now - self.empty_device_ttl_ms)
        except Exception:  # a busy database, say: the next round tries again
            log.exception("Housekeeping failed")
        finally:
            heapq.heappush(self.heap, (now + self.housekeeping_ms, next(self._counter), HOUSEKEEPING, 0))

    def _unload_idle(self, now: int) -> None:
        """Drop from memory the sessions with no socket for idle_unload_ms (their end stays in the heap)."""
        for session_id in list(self.unwatched_since):
            if session_id in self.watchers or session_id not in self.sessions:
                del self.unwatched_since[session_id]
        if self.idle_unload_ms is None:
            return
        for session_id, session in list(self.sessions.items()):
            if session_id in self.watchers:
                continue
            since = self.unwatched_since.setdefault(session_id, now)
            if now - since >= self.idle_unload_ms:
                self._unload(session)

    def _unload(self, session: LiveSession) -> None:
        """Forget a session's in-memory copy; a marker wakes the scheduler at its end to finish it from the store."""
        del self.sessions[session.id]
        self.unwatched_since.pop(session.id, None)
        session.generation += 1  # its wake-ups go stale
        if session.state == RUNNING:
            deadline = session.end_at()
        elif session.state == PAUSED and self.max_pause_ms:
            deadline = session.paused_at + self.max_pause_ms
        else:
            deadline = None
        if deadline is not None:
            heapq.heappush(self.heap, (deadline, next(self._counter), session.id, UNLOADED))
        self.metrics.sessions_unloaded += 1

    def _settle_unloaded(self, session_id: str, now: int) -> None:
        """An unloaded session's end has come: load it and let it finish (or stop, if paused too long)."""
        if session_id in self.sessions:
            return  # reloaded meanwhile: its own wake-ups drive it
        try:
            session = self._get(session_id)
            if session.state not in LIVE_STATES:
                # Settled already (by an earlier marker of the same session): nothing to keep in memory.
                self.sessions.pop(session_id, None)
                return
            self._advance(session, now)
        except SessionGone:
            return
        except Exception:
            self.metrics.scheduler_errors += 1
            log.exception("Could not settle unloaded session %s", session_id)
            self.sessions.pop(session_id, None)
            heapq.heappush(self.heap, (now + RETRY_MS, next(self._counter), session_id, UNLOADED))

    def start(self) -> None:
        """Start the scheduler thread (a greenlet under gevent) once."""
        with self.lock:
            if not self._housekeeping_scheduled:
                self._housekeeping_scheduled = True
                heapq.heappush(self.heap, (self.clock() + self.housekeeping_ms, next(self._counter), HOUSEKEEPING, 0))
                heapq.heappush(self.heap, (self.clock() + LOG_CHECK_EVERY_MS, next(self._counter), LOG_CHECK, 0))
                if self.full_gc_every_ms:
                    # From now on full collections are the scheduler's (young ones stay automatic).
                    self._gc_threshold_before = gc.get_threshold()
                    young, older, _ = self._gc_threshold_before
                    gc.set_threshold(young, older, NO_AUTOMATIC_FULL_GC)
                    self._schedule_full_gc(self.clock() + self.full_gc_every_ms)
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="cue-scheduler", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Stop the scheduler (tests and shutdown)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._gc_threshold_before is not None:
            gc.set_threshold(*self._gc_threshold_before)  # full collections are automatic again

    def overdue(self) -> bool:
        """Whether a wake-up's time has come and the scheduler has not taken it yet (read without the lock: a hint)."""
        heap = self.heap
        return bool(heap) and heap[0][0] <= self.clock()
