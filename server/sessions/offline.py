"""Walks played without the server: check an uploaded event log and play it through the walk clock.

A phone that could not reach the server keeps each walk's event log (web/js/offline.js) and
uploads it with ``PUT /api/sessions/offline/<walk_id>`` when the server is back. The log is
replayed here with the same rules as a live walk (server/walkclock.py, through LiveSession,
so the stored events and summary look exactly like a live walk's), and the walk is stored
as a finished session of the device (server/routes/sessions.py). No Flask here: plain data
in, a finished LiveSession and its events out, or OfflineWalkInvalid / OfflineWalkUnfinished.

How a log ends: a stop ends it there; a log without a stop completes at the walk's end if
that end has passed by the time of the upload, or, left paused, is stopped after the
longest pause (LIVE_MAX_PAUSE_S) as a live walk would be; so is a walk whose next event
(e.g. the stop an abandoned walk gets when the app is next opened) comes after that longest
pause: it ends, stopped, when the pause ran out, not days later. A walk whose clock says it is
still under way is not stored yet (OfflineWalkUnfinished, a 409: upload it again later).
A stop sent after the walk had already completed by itself changes nothing (the phone may
log the walker's tap on Stop a moment after the last cue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import walkclock as wc
from ..clock import MS_PER_S
from ..numbers import is_whole_number
from ..plans import Plan, PlanInvalid, parse_plan
from ..refusals import CONFLICT, Refusal
from .model import Event, LiveSession

WALK_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
BODY_FIELDS = frozenset({"plan_id", "plan_name", "segments", "options", "events", "lead_ms", "end_ms"})
EVENT_FIELDS = frozenset({"type", "at"})
# Far more than a walk needs (a pause and a resume a minute for 4 hours is 480), and within
# the request size limit (MAX_CONTENT_LENGTH) with the plan beside it.
MAX_EVENTS = 1000
MAX_PLAN_ID_LENGTH = 100
# A logged time may be this far ahead of the server clock: a phone offline for a while reads
# the server's time from its own clock and an offset measured before, and its clock may have
# been set since. A refused log is lost for good, so this is looser than a live control's 2 s.
MAX_LOG_FUTURE_SKEW_MS = 60_000
# Walks older than this are not taken: a phone that kept one longer has lost track of it.
MS_PER_DAY = 24 * 3600 * MS_PER_S
MAX_WALK_AGE_MS = 30 * MS_PER_DAY
# The start lead a phone may have played with (the server's START_LEAD_MS is the default).
MAX_LEAD_MS = 10_000
# Where the phone's walk ended on its own (its last cue, when pushed past the plan's end; see
# walkclock.walk_end_ms) may be this far past the plan's end.
MAX_END_PAST_PLAN_MS = 60_000


class OfflineWalkInvalid(Refusal):
    """An upload that can never be stored as it is (a 400); `code` names the rule broken."""


class OfflineWalkUnfinished(Refusal):
    """A log whose walk is still under way by its clock: not stored yet (a 409), try again after it ends."""

    status = CONFLICT

    def __init__(self, message: str):
        """A `walk_not_finished` refusal with this sentence."""
        super().__init__("walk_not_finished", message)


@dataclass(frozen=True)
class OfflineLog:
    """An upload that passed the shape checks: its plan snapshot, events, lead and end."""

    plan: Plan
    events: tuple[dict, ...]
    lead_ms: int
    end_ms: int


def valid_walk_id(walk_id: str) -> bool:
    """True for an id a phone makes: 8 to 64 letters, digits, `_` or `-`."""
    return WALK_ID.fullmatch(walk_id) is not None


def _events(raw: Any, now: int) -> tuple[dict, ...]:
    """The log's events as {type, at}, or OfflineWalkInvalid naming the first that breaks a rule."""
    if not isinstance(raw, list) or not raw:
        raise OfflineWalkInvalid("invalid_events", "events must be a list of {type, at}, starting with start.")
    if len(raw) > MAX_EVENTS:
        raise OfflineWalkInvalid("invalid_events", f"A walk may have at most {MAX_EVENTS} events.")
    events, last = [], None
    for number, event in enumerate(raw, start=1):
        where = f"Event {number}"
        if not isinstance(event, dict) or set(event) != EVENT_FIELDS:
            raise OfflineWalkInvalid("invalid_events", f"{where} must be an object with exactly type and at.")
        if event["type"] not in wc.CONTROLS:
            raise OfflineWalkInvalid("invalid_events", f"{where}: type must be one of {', '.join(wc.CONTROLS)}.")
        at = event["at"]
        if not is_whole_number(at):
            raise OfflineWalkInvalid("invalid_events", f"{where}: at must be whole epoch milliseconds (server clock).")
        if number == 1 and event["type"] != "start":
            raise OfflineWalkInvalid("invalid_events", "The first event must be the start.")
        if last is not None and at < last:
            raise OfflineWalkInvalid(
                "invalid_events", f"{where} is earlier than the one before it: events must be in time order."
            )
        if at > now + MAX_LOG_FUTURE_SKEW_MS:
            raise OfflineWalkInvalid("invalid_events", f"{where} is in the future; check the phone's clock.")
        if at < now - MAX_WALK_AGE_MS:
            days = MAX_WALK_AGE_MS // MS_PER_DAY
            raise OfflineWalkInvalid("invalid_events", f"{where} is more than {days} days old.")
        events.append({"type": event["type"], "at": at})
        last = at
    return tuple(events)


def parse_log(body: Any, now: int, default_lead_ms: int) -> OfflineLog:
    """An upload's plan, events, lead and end after the shape checks (the clock's own checks are play's)."""
    if not isinstance(body, dict):
        raise OfflineWalkInvalid(
            "invalid_request", "The body must be a JSON object with plan_id, plan_name, segments, options and events."
        )
    unknown = sorted(set(body) - BODY_FIELDS)
    if unknown:
        raise OfflineWalkInvalid("invalid_request", f"Unknown field(s): {', '.join(map(str, unknown))}.")
    plan_id = body.get("plan_id")
    if not isinstance(plan_id, str) or not 0 < len(plan_id) <= MAX_PLAN_ID_LENGTH:
        raise OfflineWalkInvalid(
            "invalid_request",
            f"plan_id must be the id of the plan walked, a string of at most {MAX_PLAN_ID_LENGTH} characters.",
        )
    try:
        plan = parse_plan({"name": body.get("plan_name"), "segments": body.get("segments")}, plan_id)
    except PlanInvalid as invalid:
        raise OfflineWalkInvalid("invalid_plan", " ".join(invalid.problems)) from None
    lead_ms = body.get("lead_ms", default_lead_ms)
    if not is_whole_number(lead_ms) or not 0 <= lead_ms <= MAX_LEAD_MS:
        raise OfflineWalkInvalid("invalid_request", f"lead_ms must be whole milliseconds from 0 to {MAX_LEAD_MS}.")
    total_ms = plan.total_seconds * 1000
    end_ms = body.get("end_ms", total_ms)
    if not is_whole_number(end_ms) or not total_ms <= end_ms <= total_ms + MAX_END_PAST_PLAN_MS:
        raise OfflineWalkInvalid(
            "invalid_request",
            f"end_ms must be where the walk ended on its own: the plan's end ({total_ms}) or its last cue,"
            f" at most {MAX_END_PAST_PLAN_MS} ms later.",
        )
    return OfflineLog(plan, _events(body.get("events"), now), lead_ms, end_ms)


def play(session: LiveSession, log: OfflineLog, now: int, max_pause_ms: int | None) -> list[Event]:
    """Play the log on a ready session (of the log's plan) to its end: the events to store, the finish last."""
    session.end_ms = log.end_ms  # where the phone's walk ended on its own (its last cue, if later than the plan)
    stored: list[Event] = []
    for number, event in enumerate(log.events, start=1):
        if session.state == wc.PAUSED and max_pause_ms and event["at"] > session.paused_at + max_pause_ms:
            # A live walk paused this long was stopped at the cap (LIVE_MAX_PAUSE_S); so is this one,
            # e.g. an abandoned walk whose stop was only logged when the app was next opened.
            stored.append(session.finish(session.paused_at + max_pause_ms, wc.ENDED_STOPPED))
            return stored
        end = session.end_at()
        if event["type"] == "stop" and number == len(log.events) and end is not None and end <= event["at"]:
            break  # the walk had completed by itself before this last tap on Stop: it changes nothing
        try:
            stored.append(session.apply(event["type"], event["at"], log.lead_ms))
        except wc.WalkRefused as refused:
            problem = f"Event {number} ({event['type']}) does not apply: {refused.message}"
            raise OfflineWalkInvalid("invalid_events", problem) from None
    if session.state == wc.RUNNING:
        end = session.end_at()
        if end > now:
            seconds_left = (end - now + MS_PER_S - 1) // MS_PER_S
            raise OfflineWalkUnfinished(f"By its clock this walk ends in {seconds_left} s; upload it after that.")
        stored.append(session.finish(end, wc.ENDED_COMPLETE))
    elif session.state == wc.PAUSED:
        if not max_pause_ms or session.paused_at + max_pause_ms > now:
            raise OfflineWalkUnfinished("This walk is paused, not stopped; upload it once it is stopped.")
        stored.append(session.finish(session.paused_at + max_pause_ms, wc.ENDED_STOPPED))
    return stored
