"""The cue compiler: a pure function from a plan's segments to the timeline of spoken cues.

What is said: the first cue tells how to start ("Start walking forward at 2.5 miles per
hour."); every later segment starts with a switch phrase that says what comes and for how
long ("Switch to reverse, one minute."); a countdown leads to each switch and to the end;
"halfway" at the walk's midpoint; minutes left in long segments, saying what ends ("One
minute left in the warm-up.", "Five minutes to the end."); "workout complete" at the end.

Speed hints follow the treadmill safety advice (slow the belt before turning to walk
backwards, speed it up only after turning forward again; never change it mid-bout):

- A speed that goes DOWN is said in the segment before, about ``SLOW_DOWN_LEAD_MS`` before
  the switch and ending before that segment's countdown, so the walker presses the buttons
  while still walking as before, then hears the countdown and turns at the new speed.
- A speed that goes UP is said right after the switch phrase, once the walker has turned.
- A speed after segments with none ("set the speed") is said before the switch when the
  new segment is walked backwards, after it otherwise.

Placement rule (one rule, applied in priority order, so the timeline is the same every
time for the same plan, options and phrase lengths):

1. Cues are placed by priority: switch phrases and "workout complete" first, then speed
   hints, then countdown numbers, then "halfway", then time remaining; within a priority,
   by ideal moment, then by the segment the cue is about.
2. Each cue wants its ideal moment. It is placed there if it does not overlap (with a
   short gap, ``GAP_MS``) any cue already placed.
3. If it would overlap, a *movable* cue (speed, halfway, time remaining) slides later to
   the first silence long enough for it inside the segment it is spoken in; an anchored
   cue (a countdown number, whose meaning is its moment) is left out.
4. Switch phrases are never left out: if one would overlap the one before (only possible
   when a phrase is longer than a segment), it starts as soon as that one has ended.
5. A slow-down that finds no room before its switch (a segment too short for it) is said
   right after the switch instead, like a speed-up: late is better than never.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from . import phrases
from .numbers import is_whole_number
from .plans import Segment
from .refusals import Refusal

COUNTDOWN_CHOICES = (0, 3, 5, 10)
DEFAULT_COUNTDOWN = 3
# Silence kept between two cues so they are heard as separate phrases.
GAP_MS = 150
# Countdown numbers are one second apart, like a clock.
COUNT_STEP_MS = 1000
# A segment this long hears "one minute to go"; ten minutes and more also hear every five.
ONE_MINUTE_MARK_MIN_SECONDS = 120
FIVE_MINUTE_MARKS_MIN_SECONDS = 600

# A slow-down is said this long before the switch it prepares, so the walker can press the
# treadmill's buttons and let the belt settle before the countdown (trainers' advice: slow
# the belt before turning to walk backwards; docs/sources.md).
SLOW_DOWN_LEAD_MS = 10_000

PRIORITY = {"switch": 0, "complete": 0, "speed": 1, "countdown": 2, "halfway": 3, "remaining": 4}
MOVABLE = frozenset({"speed", "halfway", "remaining"})


class CueOptionsInvalid(Refusal):
    """Cue options a walker cannot choose: a 400 `invalid_options` with the rule broken."""

    def __init__(self, message: str):
        """An `invalid_options` refusal with this sentence."""
        super().__init__("invalid_options", message)


@dataclass(frozen=True)
class CueOptions:
    """What the walker wants to hear, and in which language and units."""

    countdown: int = DEFAULT_COUNTDOWN
    halfway: bool = True
    time_remaining: bool = True
    lang: str = "en"
    units: str = "mph"

    def __post_init__(self):
        """Refuse options outside the closed set, so every phrase can be prerendered."""
        for name in CUE_OPTION_FIELDS:
            problem = cue_option_problem(name, getattr(self, name))
            if problem is not None:
                raise CueOptionsInvalid(problem)


# The cue options a walker chooses: CueOptions' fields, also kept in the device's settings.
CUE_OPTION_FIELDS = ("countdown", "halfway", "time_remaining", "lang", "units")


def cue_option_problem(name: str, value: Any) -> str | None:
    """Why `value` cannot be the cue option `name`, as a sentence, else None: the one rule for settings and sessions."""
    if name == "countdown" and not (is_whole_number(value) and value in COUNTDOWN_CHOICES):
        return f"Countdown must be one of {', '.join(map(str, COUNTDOWN_CHOICES))} seconds."
    if name in ("halfway", "time_remaining") and not isinstance(value, bool):
        return f"{name} must be true or false."
    if name == "lang" and not (isinstance(value, str) and value in phrases.LANGUAGES):
        return f"The voice language must be one of {', '.join(phrases.LANGUAGES)}."
    if name == "units" and not (isinstance(value, str) and value in phrases.UNITS):
        return "Units must be " + " or ".join(f'"{units}"' for units in phrases.UNITS) + "."
    return None


def parse_cue_options(raw: Any, defaults: CueOptions) -> CueOptions:
    """A request's cue options over `defaults` (the device's settings), or CueOptionsInvalid; None: the defaults."""
    if raw is None:
        return defaults
    if not isinstance(raw, dict):
        raise CueOptionsInvalid("options must be an object of cue options.")
    unknown = sorted(set(raw) - set(CUE_OPTION_FIELDS))
    if unknown:
        raise CueOptionsInvalid(f"Unknown option(s): {', '.join(map(str, unknown))}.")
    return replace(defaults, **raw)


class Cue(NamedTuple):
    """One phrase to be spoken `offset_ms` after the walk starts (a tuple: timelines hold thousands)."""

    seq: int
    offset_ms: int
    kind: str
    text: str
    segment: int

    def to_dict(self) -> dict:
        """The cue as the timeline in the websocket `hello` carries it (without audio)."""
        return {
            "seq": self.seq,
            "offset_ms": self.offset_ms,
            "kind": self.kind,
            "text": self.text,
            "segment": self.segment,
        }


@dataclass(frozen=True)
class _Wish:
    """A cue that wants to be said at `ideal_ms`, no later than `latest_end_ms`."""

    ideal_ms: int
    kind: str
    text: str
    segment: int
    latest_end_ms: int
    # The segment a speed hint is about (it may be spoken in the one before), for ties.
    about: int = 0
    # Set on a slow-down's second chance after its switch: the segment it is about.
    fallback: bool = False


class SpeedHint(NamedTuple):
    """The speed hint a segment needs: its text and whether it is said before its switch."""

    text: str
    before: bool


def segment_starts_ms(segments: Sequence[Segment]) -> list[int]:
    """The offset at which each segment starts, plus the plan's end as a last entry."""
    starts, at = [], 0
    for segment in segments:
        starts.append(at)
        at += segment.seconds * 1000
    starts.append(at)
    return starts


def speed_hints(segments: Sequence[Segment], options: CueOptions) -> list[SpeedHint | None]:
    """For each segment, the speed hint it needs (None: no change, or the first, whose speed the start cue says)."""
    hints: list[SpeedHint | None] = []
    belt = None
    for index, segment in enumerate(segments):
        speed = segment.speed_mph
        if index == 0 or speed is None or speed == belt:
            hints.append(None)
        elif belt is None:
            hints.append(SpeedHint(phrases.speed(speed, options.units, options.lang, "set"), segment.backward))
        elif speed < belt:
            hints.append(SpeedHint(phrases.speed(speed, options.units, options.lang, "slow"), True))
        else:
            hints.append(SpeedHint(phrases.speed(speed, options.units, options.lang, "faster"), False))
        if speed is not None:
            belt = speed
    return hints


def opening_text(segments: Sequence[Segment], index: int, options: CueOptions) -> str:
    """The phrase that opens a segment: how to start (the first), else what comes and for how long."""
    segment = segments[index]
    if index == 0:
        return phrases.start(segment.kind, segment.speed_mph, options.units, options.lang)
    return phrases.switch(segment.kind, segment.seconds, options.lang)


def remaining_text(segments: Sequence[Segment], index: int, minutes: int, lang: str) -> str:
    """Minutes left, saying what ends: the walk in its last segment, else the segment."""
    ending = "end" if index == len(segments) - 1 else segments[index].kind
    return phrases.minutes_left(minutes, ending, lang)


def _countdown_numbers(segment: Segment, options: CueOptions) -> int:
    """How many countdown numbers lead out of a segment (never one at its very start)."""
    return max(min(options.countdown, segment.seconds - 1), 0)


def slow_down_ideal_ms(start: int, end: int, numbers: int, length: int) -> int:
    """Where a slow-down wants to start in the segment before its switch: about SLOW_DOWN_LEAD_MS
    before the switch, early enough to end before the countdown, never before the segment."""
    return max(start, min(end - SLOW_DOWN_LEAD_MS, end - numbers * COUNT_STEP_MS - GAP_MS - length))


def _remaining_marks(seconds: int) -> list[int]:
    """Minutes-left marks for a segment of this length, longest first."""
    if seconds < ONE_MINUTE_MARK_MIN_SECONDS:
        return []
    marks = [1]
    if seconds >= FIVE_MINUTE_MARKS_MIN_SECONDS:
        step = phrases.REMAINING_STEP_MINUTES
        marks += list(range(step, (seconds - 1) // 60 + 1, step))
        marks = [m for m in marks if m * 60 < seconds]
    return sorted(set(marks), reverse=True)


def _wishes(
    segments: Sequence[Segment], options: CueOptions, spoken_ms: Mapping[str, int] | None = None
) -> list[_Wish]:
    """Every cue the plan could have, each at its ideal moment (slow-downs need `spoken_ms` for theirs)."""
    lang = options.lang
    starts = segment_starts_ms(segments)
    total_ms = starts[-1]
    wishes: list[_Wish] = []
    hints = speed_hints(segments, options)
    for index, segment in enumerate(segments):
        start, end = starts[index], starts[index + 1]
        wishes.append(_Wish(start, "switch", opening_text(segments, index, options), index, end, index))
        hint = hints[index]
        if hint is not None and hint.before:
            before_start, before_end = starts[index - 1], start
            length = spoken_ms[hint.text] if spoken_ms is not None else 0
            numbers = _countdown_numbers(segments[index - 1], options)
            ideal = slow_down_ideal_ms(before_start, before_end, numbers, length)
            wishes.append(_Wish(ideal, "speed", hint.text, index - 1, before_end, index))
            wishes.append(_Wish(start, "speed", hint.text, index, end, index, fallback=True))
        elif hint is not None:
            wishes.append(_Wish(start, "speed", hint.text, index, end, index))
        # Count down to whatever comes next: the next switch, or the end of the walk.
        for number in range(_countdown_numbers(segment, options), 0, -1):
            at = end - number * COUNT_STEP_MS
            wishes.append(_Wish(at, "countdown", phrases.count(number, lang), index, end, index))
        if options.time_remaining:
            for minutes in _remaining_marks(segment.seconds):
                text = remaining_text(segments, index, minutes, lang)
                wishes.append(_Wish(end - minutes * 60_000, "remaining", text, index, end, index))
    if options.halfway and segments:
        middle = total_ms // 2
        index = next(i for i in range(len(segments)) if starts[i] <= middle < starts[i + 1])
        wishes.append(_Wish(middle, "halfway", phrases.halfway(lang), index, starts[index + 1], index))
    last = len(segments) - 1
    wishes.append(_Wish(total_ms, "complete", phrases.complete(lang), last, total_ms, last))
    return wishes


def needed_phrases(segments: Sequence[Segment], options: CueOptions) -> list[str]:
    """Every phrase the timeline may use, so their audio can be rendered before compiling."""
    texts = [w.text for w in _wishes(segments, options)]
    # Every number of the chosen countdown, even those no segment is long enough for.
    texts += [phrases.count(n, options.lang) for n in range(options.countdown, 0, -1)]
    return list(dict.fromkeys(texts))


def _first_free_start(busy: list[tuple[int, int]], start: int, length: int) -> int:
    """The earliest start at or after `start` where `length` ms fit between busy spans."""
    for busy_start, busy_end in sorted(busy):
        if start + length + GAP_MS <= busy_start:
            break
        if start < busy_end + GAP_MS:
            start = max(start, busy_end + GAP_MS)
    return start


def compile_timeline(segments: Sequence[Segment], options: CueOptions, spoken_ms: Mapping[str, int]) -> list[Cue]:
    """Compile segments into cues ordered by offset that never overlap when spoken.

    `spoken_ms` gives each phrase's spoken length (from its rendered audio); every text of
    `needed_phrases` must be in it. This is the placement rule of the module docstring done
    in one sweep: a cue can only meet cues of the segment it is spoken in and the next
    switch, so each segment is placed on its own (tests/cue_rule.py states the rule the plain way to check it).
    """
    lang = options.lang
    counts = [
        (number, number * COUNT_STEP_MS, text, spoken_ms[text])
        for number, text in ((n, phrases.count(n, lang)) for n in range(options.countdown, 0, -1))
    ]
    hints = speed_hints(segments, options)
    total_ms = sum(segment.seconds for segment in segments) * 1000
    halfway_at = total_ms // 2 if options.halfway and segments else -1
    # Timelines hold thousands of cues: build the tuples directly, numbered as they go.
    make = tuple.__new__
    timeline: list[Cue] = []
    append = timeline.append
    start = switch_at = 0
    # A slow-down that found no room before its switch is said right after it.
    late_hint: str | None = None
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        end = start + segment.seconds * 1000
        first = len(timeline)
        text = opening_text(segments, index, options)
        busy_end = switch_at + spoken_ms[text]
        # The next switch (or "complete") starts on time unless this phrase runs past it.
        next_switch_at = max(end, busy_end + GAP_MS)
        append(make(Cue, (first, switch_at, "switch", text, index)))
        hint = hints[index]
        after = late_hint if late_hint is not None else (hint.text if hint is not None and not hint.before else None)
        late_hint = None
        if after is not None:
            at = busy_end + GAP_MS
            length = spoken_ms[after]
            if at + length <= end and at + length + GAP_MS <= next_switch_at:
                append(make(Cue, (len(timeline), at, "speed", after, index)))
                busy_end = at + length
        coming = hints[index + 1] if index < last else None
        if coming is not None and coming.before:
            length = spoken_ms[coming.text]
            ideal = slow_down_ideal_ms(start, end, _countdown_numbers(segment, options), length)
            at = max(ideal, busy_end + GAP_MS)
            if at + length <= end and at + length + GAP_MS <= next_switch_at:
                append(make(Cue, (len(timeline), at, "speed", coming.text, index)))
                busy_end = at + length
            else:
                late_hint = coming.text
        for number, before_ms, text, length in counts:
            at = end - before_ms
            if number < segment.seconds and at >= busy_end + GAP_MS and at + length + GAP_MS <= next_switch_at:
                append(make(Cue, (len(timeline), at, "countdown", text, index)))
                busy_end = at + length
        if start <= halfway_at < end or (options.time_remaining and segment.seconds >= ONE_MINUTE_MARK_MIN_SECONDS):
            _place_movable(timeline, first, segments, index, start, end, next_switch_at, halfway_at, options, spoken_ms)
        start, switch_at = end, next_switch_at
    append(make(Cue, (len(timeline), switch_at, "complete", phrases.complete(lang), last)))
    return timeline


def _place_movable(timeline, first, segments, index, start, end, next_switch_at, halfway_at, options, spoken_ms):
    """Fit one segment's halfway and minutes-left cues into its silences, then renumber its cues."""
    lang = options.lang
    wanted = []
    if start <= halfway_at < end:
        wanted.append((halfway_at, "halfway", phrases.halfway(lang)))
    if options.time_remaining:
        wanted += [
            (end - minutes * 60_000, "remaining", remaining_text(segments, index, minutes, lang))
            for minutes in reversed(_remaining_marks(segments[index].seconds))
        ]
    ours = [(c.offset_ms, c.kind, c.text) for c in timeline[first:]]
    busy = [(at, at + spoken_ms[text]) for at, _, text in ours]
    busy.append((next_switch_at, next_switch_at + 1))
    for ideal, kind, text in wanted:
        length = spoken_ms[text]
        at = _first_free_start(busy, ideal, length)
        if at + length <= end:
            busy.append((at, at + length))
            ours.append((at, kind, text))
    ours.sort(key=lambda cue: (cue[0], PRIORITY[cue[1]]))
    timeline[first:] = [Cue(first + n, at, kind, text, index) for n, (at, kind, text) in enumerate(ours)]
