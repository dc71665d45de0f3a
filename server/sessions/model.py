"""A session's model: one walk's plan, timeline and walk clock as plain data and arithmetic.

The clock rules themselves (position, dues, what start, pause, resume, skip and stop do, the
walk's end, the summary) are server/walkclock.py's, a pure function of the event log; a
``LiveSession`` applies them to one session and answers what the scheduler and the phone ask
(all times are epoch ms of the server clock):

- A cue is due at ``started_at + offset_ms + shift_ms`` (walkclock.due_ms).
- A cue is *fired* once its due has passed; cues sent but not yet due when the walker pauses
  or skips are withdrawn (the phone drops scheduled cues from ``next_seq`` on every ``state``)
  and sent again with their new due, or not at all if they were skipped.
- A control may say when it happened (``at``, a pause pressed on a sleeping phone's lock
  screen): it is applied at that moment if it is not before the session's last event, not
  in the future (up to MAX_FUTURE_SKEW_MS is taken as now) and not older than MAX_EVENT_AGE_MS.

No Flask, sqlite, threads, sockets or voice here: server/sessions/store.py keeps sessions in
SQLite and server/sessions/hub.py runs the live ones.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from .. import walkclock as wc
from ..clock import MS_PER_S
from ..cues import segment_starts_ms
from ..plans import Segment
from ..refusals import NotFound
from ..track import track_fields
from ..walkclock import FINISHED, LIVE_STATES, PAUSED, RUNNING, WalkRefused

# A control's `at` a little ahead of the server clock (the phone's estimate of it is off by a
# few ms, at worst a round trip) is taken as now; further ahead it is refused.
MAX_FUTURE_SKEW_MS = 2 * MS_PER_S
# A control's `at` may be this far in the past (a phone asleep in a pocket for a long pause).
MS_PER_HOUR = 3600 * MS_PER_S
MAX_EVENT_AGE_MS = 6 * MS_PER_HOUR


def socket_path(session_id: str) -> str:
    """The websocket path of a session, as the API hands it to the phone."""
    return f"/ws/sessions/{session_id}"


def event_time(at: int | None, now: int, last_at: int | None) -> int:
    """When a control happened: its `at` if within bounds (a little ahead is now), else WalkRefused `bad_time`.

    Without `at` it is now, never before the last event (a server clock stepped back by NTP
    must not refuse a tap).
    """
    if at is None:
        return now if last_at is None else max(now, last_at)
    if at > now + MAX_FUTURE_SKEW_MS:
        raise WalkRefused("bad_time", "That control's time is in the future; check the phone's clock.")
    at = min(at, now)
    if at < now - MAX_EVENT_AGE_MS:
        hours = MAX_EVENT_AGE_MS // MS_PER_HOUR
        raise WalkRefused("bad_time", f"That control is too old (more than {hours} hours ago).")
    if last_at is not None and at < last_at:
        raise WalkRefused("bad_time", "That control happened before the session's last change; it no longer applies.")
    return at


class SessionGone(NotFound):
    """The session does not exist (or no longer does): 404 `not_found` over HTTP, an `error` on the socket."""

    def __init__(self, session_id: str):
        """Which session is gone, and the sentence the phone is told."""
        super().__init__("This session no longer exists.")
        self.session_id = session_id


@dataclass(frozen=True)
class Event:
    """One thing that happened to a session, stored in `session_events` before anyone hears of it."""

    type: str
    at: int
    data: dict = field(default_factory=dict)


def _walk_field(name: str) -> property:
    """A read-only view of one field of a session's walk."""
    return property(lambda self: getattr(self.walk, name), doc=f"The walk's {name} (server/walkclock.py).")


@dataclass
class LiveSession:
    """One session (a walk): its plan, timeline, walk clock (server/walkclock.py) and the scheduler's cursor."""

    id: str
    device_id: str
    plan_id: str
    plan_name: str
    segments: tuple[Segment, ...]
    timeline: list[dict]
    options: dict = field(default_factory=dict)
    created_at: int = 0
    walk: wc.Walk = wc.READY_WALK
    summary: dict | None = None
    # Runtime only: the first cue not handed to the sockets yet, and the scheduler's token.
    next_index: int = 0
    generation: int = 0

    def __post_init__(self):
        """Precompute the segment boundaries and cue offsets the clock maths looks up."""
        self.starts = segment_starts_ms(self.segments)
        self.offsets = [cue["offset_ms"] for cue in self.timeline]
        self.kinds = [segment.kind for segment in self.segments]
        self.end_ms = wc.walk_end_ms(self.starts, self.offsets)

    state = _walk_field("state")
    started_at = _walk_field("started_at")
    paused_at = _walk_field("paused_at")
    shift_ms = _walk_field("shift_ms")
    skips = _walk_field("skips")
    finished_at = _walk_field("finished_at")
    ended_by = _walk_field("ended_by")
    last_at = _walk_field("last_at")

    # --- positions and due times -----------------------------------------------------

    @functools.cached_property
    def track(self) -> dict:
        """The session's `track` fields, hashed once: its timeline never changes (hello needs them twice)."""
        return track_fields(self.timeline, self.total_ms)

    @property
    def total_ms(self) -> int:
        """The plan's length."""
        return self.starts[-1]

    def position_ms(self, now: int) -> int:
        """How far into the plan the walker is (negative during the lead before the start)."""
        position = wc.position_ms(self.walk, now)
        return min(position, self.end_ms) if self.state == FINISHED else position

    def segment_index(self, position: int) -> int:
        """The segment a position falls in (the first before the start, the last at the end)."""
        return wc.segment_index(self.starts, position)

    def due_ms(self, index: int) -> int:
        """The wall-clock time the cue at `index` is due, as the clock stands now."""
        return wc.due_ms(self.walk, self.offsets[index])

    def end_at(self) -> int | None:
        """When a running walk ends on its own."""
        return wc.end_at(self.walk, self.end_ms)

    def pending_from(self, position: int) -> int:
        """The index of the first cue still to be said from `position` on."""
        return wc.pending_from(self.walk, self.offsets, position)

    def restore(self, now: int) -> None:
        """Point the cursor after a reload: cues whose due has passed are not said late."""
        self.next_index = self.pending_from(self.position_ms(now)) if self.state in LIVE_STATES else len(self.offsets)

    # --- controls ---------------------------------------------------------------------

    def _step(self, kind: str, now: int, lead_ms: int = 0, **extra: Any) -> wc.Walk:
        """The walk after one event at `now` (WalkRefused if it does not apply; nothing changes then)."""
        return wc.step(self.walk, self.starts, {"type": kind, "at": now, **extra}, lead_ms, self.end_ms)

    def start(self, now: int, lead_ms: int) -> Event:
        """Start the clock one lead from now, so the first cue can reach the phone before it is due."""
        self.walk, self.next_index = self._step("start", now, lead_ms), 0
        return Event("start", now, {"started_at": self.started_at})

    def pause(self, now: int) -> Event:
        """Freeze the clock; cues sent but not yet due are withdrawn and sent again after resume."""
        self.walk = self._step("pause", now)
        self.next_index = self.pending_from(self.position_ms(now))
        return Event("pause", now)

    def resume(self, now: int) -> Event:
        """Restart the clock: every cue still to come moves later by exactly the time paused."""
        shift_before = self.shift_ms
        self.walk = self._step("resume", now)
        return Event("resume", now, {"paused_ms": self.shift_ms - shift_before, "shift_ms": self.shift_ms})

    def skip(self, now: int, lead_ms: int) -> Event:
        """Leave the current segment: the next one starts one lead from now, every later cue moves earlier."""
        self.walk = self._step("skip", now, lead_ms)
        skip = self.skips[-1]
        self.next_index = self.pending_from(skip.to_ms)
        return Event("skip", now, {**skip.to_dict(), "shift_ms": self.shift_ms})

    def stop(self, now: int) -> Event:
        """End the walk here, at the walker's request."""
        return self._finished(self._step("stop", now), now)

    def finish(self, now: int, ended_by: str) -> Event:
        """End the walk (the server's own finish: at its end, or after the longest pause)."""
        return self._finished(self._step("finish", now, ended_by=ended_by), now)

    def _finished(self, walk: wc.Walk, now: int) -> Event:
        """Take a finished walk and its summary (a paused one ends with its pause counted)."""
        self.walk, self.next_index = walk, len(self.offsets)
        self.summary = wc.summarize(walk, self.starts, self.kinds)
        return Event("finish", now, {"ended_by": walk.ended_by, "summary": self.summary})

    def apply(self, kind: str, now: int, lead_ms: int) -> Event:
        """Apply one of the walker's controls (walkclock.CONTROLS)."""
        if kind == "start":
            return self.start(now, lead_ms)
        if kind == "pause":
            return self.pause(now)
        if kind == "resume":
            return self.resume(now)
        if kind == "skip":
            return self.skip(now, lead_ms)
        if kind == "stop":
            return self.stop(now)
        raise ValueError(f"not a control: {kind}")

    # --- what the scheduler asks ---------------------------------------------------------

    def take_due(self, now: int, lead_ms: int, margin_ms: int) -> tuple[list[tuple[dict, int]], list[tuple[dict, int]]]:
        """Cues whose send time (due minus lead) has come: those still ahead of due by the margin, and those missed."""
        send: list[tuple[dict, int]] = []
        missed: list[tuple[dict, int]] = []
        if self.state != RUNNING:
            return send, missed
        while self.next_index < len(self.offsets):
            due = self.due_ms(self.next_index)
            if due - lead_ms > now:
                break
            (send if due - now >= margin_ms else missed).append((self.timeline[self.next_index], due))
            self.next_index += 1
        return send, missed

    def in_flight(self, now: int, margin_ms: int) -> list[tuple[dict, int]]:
        """Cues already handed out but not yet due: what a socket that joins now has missed."""
        if self.state != RUNNING:
            return []
        first = self.pending_from(self.position_ms(now))
        out = []
        for index in range(first, self.next_index):
            due = self.due_ms(index)
            if due - now >= margin_ms:
                out.append((self.timeline[index], due))
        return out

    def next_wake_ms(self, lead_ms: int, max_pause_ms: int | None) -> int | None:
        """When the scheduler must next look at this session, or None if it need not."""
        if self.state == RUNNING:
            end = self.end_at()
            if self.next_index < len(self.offsets):
                return min(self.due_ms(self.next_index) - lead_ms, end)
            return end
        if self.state == PAUSED and max_pause_ms:
            return self.paused_at + max_pause_ms
        return None

    # --- what the phone is told -----------------------------------------------------------

    def clock(self, now: int) -> dict[str, Any]:
        """The clock as the phone needs it to place every cue: due = started_at + offset_ms + shift_ms."""
        position = self.position_ms(now)
        return {
            "started_at": self.started_at,
            "paused_at": self.paused_at,
            "shift_ms": self.shift_ms,
            "position_ms": max(position, 0),
            "segment": self.segment_index(position),
            "next_seq": self.timeline[self.next_index]["seq"] if self.next_index < len(self.timeline) else None,
            "end_at": self.end_at(),
            "skipped_segments": sorted({s.segment for s in self.skips}),
            # The time of the last event: a control sent with `at` must not be earlier.
            "last_at": self.last_at,
        }

    def describe(self, now: int) -> dict[str, Any]:
        """The session as `hello` and the API show it."""
        return {
            "id": self.id,
            "ws": socket_path(self.id),
            "plan_id": self.plan_id,
            "plan_name": self.plan_name,
            "segments": [s.to_dict() for s in self.segments],
            "segment_starts_ms": self.starts[:-1],
            "total_ms": self.total_ms,
            "options": self.options,
            "state": self.state,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "ended_by": self.ended_by,
            "summary": self.summary,
            **self.track,
            **self.clock(now),
        }
