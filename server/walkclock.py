"""The walk clock: a walk's state, position and cue dues as a pure function of its event log and now.

This is the one statement of the clock rules in Python; web/js/walkclock.js says the same
in JavaScript, and tests/fixtures/walk_clock.json checks both. No Flask, sqlite, sockets
or voice here: plain data in, plain data out. Every time is epoch ms of the server clock.

Events are ``{"type", "at"}`` with type start, pause, resume, skip, stop, or the server's own
finish (``{"type": "finish", "at", "ended_by"}``). The rules (the live sessions of
server/sessions/ follow them):

- ``start`` takes effect ``lead_ms`` after the tap (``started_at = at + lead_ms``), so the
  first phrase can reach the phone before it is due.
- *position* = ``now - started_at - shift_ms`` while running (negative during the lead),
  frozen at ``paused_at - started_at - shift_ms`` while paused.
- A cue at ``offset_ms`` is due at ``started_at + offset_ms + shift_ms``.
- ``pause`` freezes the position; ``resume`` adds the time paused to ``shift_ms``, so every
  later cue moves later by exactly that.
- ``skip`` jumps to the next segment's start minus ``lead_ms`` (taking that from
  ``shift_ms``); refused when the next segment starts sooner than that. A skip during the
  start lead starts the walk at the skip. No cue before the skipped-to segment's start is said.
- ``stop`` ends the walk where it is; a running walk completes by itself at its end
  (the plan's end, or its last cue if that was pushed later).
- Events come in time order: one earlier than the last is refused (``bad_time``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .numbers import is_whole_number
from .plans import BACKWARD_KINDS, FORWARD_KINDS, REST_KINDS
from .refusals import CONFLICT, Refusal
from .rounding import round_parts

READY, RUNNING, PAUSED, FINISHED = "ready", "running", "paused", "finished"
LIVE_STATES = (RUNNING, PAUSED)
CONTROLS = ("start", "pause", "resume", "skip", "stop")
EVENT_TYPES = CONTROLS + ("finish",)
ENDED_COMPLETE, ENDED_STOPPED = "complete", "stopped"
ENDINGS = (ENDED_COMPLETE, ENDED_STOPPED)

MS_PER_TENTH = 100
TENTHS_PER_S = 10


class WalkRefused(Refusal):
    """An event that does not apply to the walk as it is (a 409); `code` names the reason."""

    status = CONFLICT


@dataclass(frozen=True)
class Skip:
    """A skip: the walker jumped from `from_ms` to `to_ms` of the plan, leaving `segment` early."""

    segment: int
    from_ms: int
    to_ms: int
    next_ms: int  # the start of the next segment; no cue before it is said any more

    def to_dict(self) -> dict:
        """As stored in the skip event's data and shown in fixtures."""
        return {"segment": self.segment, "from_ms": self.from_ms, "to_ms": self.to_ms, "next_ms": self.next_ms}


@dataclass(frozen=True)
class Walk:
    """Where a walk's event log has brought it: the clock's few numbers, nothing that depends on now."""

    state: str = READY
    started_at: int | None = None
    paused_at: int | None = None
    shift_ms: int = 0
    skips: tuple[Skip, ...] = ()
    finished_at: int | None = None
    ended_by: str | None = None
    last_at: int | None = None  # the time of the last event applied (None: not known, no order check)

    def to_dict(self) -> dict:
        """The walk as plain JSON data (the shape web/js/walkclock.js uses)."""
        return {
            "state": self.state,
            "started_at": self.started_at,
            "paused_at": self.paused_at,
            "shift_ms": self.shift_ms,
            "skips": [s.to_dict() for s in self.skips],
            "finished_at": self.finished_at,
            "ended_by": self.ended_by,
            "last_at": self.last_at,
        }


READY_WALK = Walk()


def walk_from_dict(data: Mapping[str, Any]) -> Walk:
    """A walk from its plain JSON data (Walk.to_dict, or a walk the phone kept)."""
    return Walk(
        state=data["state"],
        started_at=data.get("started_at"),
        paused_at=data.get("paused_at"),
        shift_ms=data.get("shift_ms") or 0,
        skips=tuple(
            Skip(**{k: s[k] for k in ("segment", "from_ms", "to_ms", "next_ms")}) for s in data.get("skips") or ()
        ),
        finished_at=data.get("finished_at"),
        ended_by=data.get("ended_by"),
        last_at=data.get("last_at"),
    )


def walk_end_ms(starts: Sequence[int], offsets: Sequence[int] = ()) -> int:
    """Where a walk ends on its own: the plan's end, or its last cue if that was pushed later."""
    return max([starts[-1], *offsets])


def position_ms(walk: Walk, now: int) -> int:
    """How far into the plan the walker is (negative during the start lead; 0 before start)."""
    if walk.started_at is None:
        return 0
    if walk.paused_at is not None:
        return walk.paused_at - walk.started_at - walk.shift_ms
    if walk.state == FINISHED and walk.finished_at is not None:
        return walk.finished_at - walk.started_at - walk.shift_ms
    return now - walk.started_at - walk.shift_ms


def segment_index(starts: Sequence[int], position: int) -> int:
    """The segment a position falls in (the first before the start, the last at the end)."""
    index = bisect_right(starts, position) - 1
    return min(max(index, 0), len(starts) - 2)


def due_ms(walk: Walk, offset_ms: int) -> int:
    """The wall-clock time a cue at `offset_ms` is due, as the clock stands (the walk must have started)."""
    return walk.started_at + offset_ms + walk.shift_ms


def end_at(walk: Walk, end_offset_ms: int) -> int | None:
    """When a running walk ends on its own (None unless running)."""
    if walk.state != RUNNING:
        return None
    return walk.started_at + end_offset_ms + walk.shift_ms


def floor_ms(walk: Walk) -> int:
    """No cue before this offset is said any more (the start of the segment last skipped to)."""
    return walk.skips[-1].next_ms if walk.skips else 0


def pending_from(walk: Walk, offsets: Sequence[int], position: int) -> int:
    """The index of the first cue still to be said from `position` on (offsets sorted)."""
    return max(bisect_right(offsets, position), bisect_left(offsets, floor_ms(walk)))


# --- the events ---------------------------------------------------------------------------


def _refuse_if_finished(walk: Walk) -> None:
    """Nothing changes a finished walk."""
    if walk.state == FINISHED:
        raise WalkRefused("finished", "This workout has finished; start a new session.")


def _start(walk: Walk, at: int, lead_ms: int) -> Walk:
    """The clock starts one lead after the tap."""
    _refuse_if_finished(walk)
    if walk.state != READY:
        raise WalkRefused("already_started", "This workout has already started.")
    return replace(walk, state=RUNNING, started_at=at + lead_ms)


def _pause(walk: Walk, at: int) -> Walk:
    """The position freezes where it is at `at`."""
    _refuse_if_finished(walk)
    if walk.state != RUNNING:
        detail = "has not started yet" if walk.state == READY else "is already paused"
        raise WalkRefused("not_running", f"Cannot pause: the workout {detail}.")
    return replace(walk, state=PAUSED, paused_at=at)


def _resume(walk: Walk, at: int) -> Walk:
    """Every cue still to come moves later by exactly the time paused."""
    _refuse_if_finished(walk)
    if walk.state != PAUSED:
        raise WalkRefused("not_paused", "Cannot resume: the workout is not paused.")
    return replace(walk, state=RUNNING, paused_at=None, shift_ms=walk.shift_ms + at - walk.paused_at)


def _skip(walk: Walk, starts: Sequence[int], at: int, lead_ms: int) -> Walk:
    """The next segment starts one lead after the skip; every later cue moves earlier."""
    _refuse_if_finished(walk)
    if walk.state not in LIVE_STATES:
        raise WalkRefused("not_started", "Cannot skip: the workout has not started yet.")
    position = position_ms(walk, at)
    started_at = walk.started_at
    if position < 0:
        # Skipped before the clock reached the start: the walk starts now, at the skip.
        started_at += position
        position = 0
    segment = segment_index(starts, position)
    next_ms = starts[segment + 1]
    to_ms = next_ms - lead_ms
    if to_ms <= position:
        raise WalkRefused("segment_ending", "The next segment starts in a moment already.")
    skip = Skip(segment, position, to_ms, next_ms)
    return replace(walk, started_at=started_at, shift_ms=walk.shift_ms - (to_ms - position), skips=(*walk.skips, skip))


def finish(walk: Walk, at: int, ended_by: str) -> Walk:
    """End the walk at `at` (a paused one ends with its pause counted)."""
    shift = walk.shift_ms
    if walk.paused_at is not None:
        shift += at - walk.paused_at
    return replace(walk, state=FINISHED, paused_at=None, shift_ms=shift, finished_at=at, ended_by=ended_by)


def _event_time(event: Mapping[str, Any]) -> int:
    """An event's `at` as an integer, or WalkRefused."""
    at = event.get("at")
    if not is_whole_number(at):
        raise WalkRefused("bad_time", "An event's at must be a whole number of milliseconds.")
    return at


def step(walk: Walk, starts: Sequence[int], event: Mapping[str, Any], lead_ms: int, end_ms: int | None = None) -> Walk:
    """The walk after one more event, or WalkRefused (the walk given is never changed).

    `starts` are the segment start offsets with the plan's end last; `end_ms` is where the
    walk ends on its own (walk_end_ms; the plan's end when not given). A running walk whose
    end has come by the event's time completes at its end first, so a control after the
    end is refused as `finished`.
    """
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise WalkRefused("bad_event", f"Unknown event {str(kind)[:40]!r}; expected one of {', '.join(EVENT_TYPES)}.")
    at = _event_time(event)
    if walk.last_at is not None and at < walk.last_at:
        raise WalkRefused("bad_time", "This event is earlier than the walk's last event.")
    end = end_at(walk, starts[-1] if end_ms is None else end_ms)
    if kind == "finish":
        ended_by = event.get("ended_by", ENDED_COMPLETE)
        if ended_by not in ENDINGS:
            raise WalkRefused("bad_event", f"A finish ends the walk as {' or '.join(ENDINGS)}.")
        _refuse_if_finished(walk)
        return replace(finish(walk, at, ended_by), last_at=at)
    if end is not None and end <= at:
        walk = finish(walk, end, ENDED_COMPLETE)
    if kind == "start":
        walk = _start(walk, at, lead_ms)
    elif kind == "pause":
        walk = _pause(walk, at)
    elif kind == "resume":
        walk = _resume(walk, at)
    elif kind == "skip":
        walk = _skip(walk, starts, at, lead_ms)
    else:
        _refuse_if_finished(walk)
        walk = finish(walk, at, ENDED_STOPPED)
    return replace(walk, last_at=at)


def replay(starts: Sequence[int], events: Iterable[Mapping[str, Any]], lead_ms: int, end_ms: int | None = None) -> Walk:
    """The walk an event log describes, from ready; WalkRefused at the first event that does not apply."""
    walk = READY_WALK
    for index, event in enumerate(events):
        try:
            walk = step(walk, starts, event, lead_ms, end_ms)
        except WalkRefused as refused:
            refused.index = index  # which event of the log was refused
            raise
    return walk


def settle(walk: Walk, end_offset_ms: int, now: int) -> Walk:
    """The walk as it stands at `now`: a running walk whose end has passed has completed at its end."""
    end = end_at(walk, end_offset_ms)
    if end is not None and end <= now:
        return finish(walk, end, ENDED_COMPLETE)
    return walk


def view(walk: Walk, starts: Sequence[int], offsets: Sequence[int], now: int) -> dict[str, Any]:
    """What a phone shows and plays at `now`: state, position, segment, the next cue and each pending cue's due.

    `position_ms` is negative during the start lead; `next_seq` is the index (the timeline's
    seq) of the first cue still to be said, None when none is; `dues` lists every pending
    cue with its due. While paused, dues are where the cues would fall if resumed now.
    """
    end_offset = walk_end_ms(starts, offsets)
    walk = settle(walk, end_offset, now)
    position = position_ms(walk, now)
    if walk.state == FINISHED:
        position = min(position, end_offset)
    dues: list[dict[str, int]] = []
    next_seq: int | None = None
    if walk.state == READY:
        next_seq = 0 if offsets else None
    elif walk.state in LIVE_STATES:
        first = pending_from(walk, offsets, position)
        next_seq = first if first < len(offsets) else None
        paused_for = now - walk.paused_at if walk.paused_at is not None else 0
        dues = [{"seq": i, "due": due_ms(walk, offsets[i]) + paused_for} for i in range(first, len(offsets))]
    return {
        "state": walk.state,
        "position_ms": position,
        "segment": segment_index(starts, position),
        "next_seq": next_seq,
        "dues": dues,
        "end_at": end_at(walk, end_offset),
        "ended_by": walk.ended_by,
    }


# --- the summary ----------------------------------------------------------------------------


def seconds(ms: float) -> float:
    """Milliseconds as seconds to a tenth, halves rounded up (the same in JS: no banker's rounding)."""
    return (int(ms) + MS_PER_TENTH // 2) // MS_PER_TENTH / TENTHS_PER_S


def final_ms(walk: Walk, total_ms: int) -> int:
    """How far into the plan a finished walk got: all of it when completed, else where it stopped."""
    if walk.started_at is None:
        return 0
    if walk.ended_by == ENDED_COMPLETE:
        return total_ms
    return min(max(walk.finished_at - walk.started_at - walk.shift_ms, 0), total_ms)


def walked_ms(walk: Walk, starts: Sequence[int], final: int) -> list[int]:
    """Milliseconds actually spent in each segment: [0, final) less every skipped stretch."""
    gaps = sorted((max(s.from_ms, 0), max(s.to_ms, 0)) for s in walk.skips)
    walked = []
    for index in range(len(starts) - 1):
        lo, hi = starts[index], min(starts[index + 1], final)
        span = max(hi - lo, 0)
        for gap_lo, gap_hi in gaps:
            span -= max(min(hi, gap_hi) - max(lo, gap_lo), 0)
        walked.append(max(span, 0))
    return walked


def summarize(walk: Walk, starts: Sequence[int], kinds: Sequence[str]) -> dict[str, Any]:
    """What the walker did in a finished walk: forward, backward and rest seconds, pauses, skips and duration."""
    total_ms = starts[-1]
    walked = walked_ms(walk, starts, final_ms(walk, total_ms))
    # shift_ms is the time paused less the time skipped, so the time paused is recovered from it.
    paused = max(walk.shift_ms + sum(s.to_ms - s.from_ms for s in walk.skips), 0)
    # One rounding (server/rounding.py): each segment and the pause to a tenth of a second,
    # sharing the rounded whole; every other figure is a sum of those, so all of them add up
    # (duration = walked + paused, walked = forward + backward + rest).
    *tenths, paused_tenths = round_parts([int(ms) for ms in (*walked, paused)], MS_PER_TENTH)

    def total(of_kinds: frozenset[str]) -> float:
        """Seconds walked in segments of these kinds, from the rounded tenths."""
        return sum(t for t, kind in zip(tenths, kinds) if kind in of_kinds) / TENTHS_PER_S

    return {
        "ended_by": walk.ended_by,
        "planned_seconds": seconds(total_ms),
        "duration_seconds": (sum(tenths) + paused_tenths) / TENTHS_PER_S,
        "walked_seconds": sum(tenths) / TENTHS_PER_S,
        "forward_seconds": total(FORWARD_KINDS),
        "backward_seconds": total(BACKWARD_KINDS),
        "rest_seconds": total(REST_KINDS),
        "paused_seconds": paused_tenths / TENTHS_PER_S,
        "skipped_segments": sorted({s.segment for s in walk.skips}),
        "segments_walked": [t / TENTHS_PER_S for t in tenths],
    }
