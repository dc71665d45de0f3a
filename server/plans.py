"""Plans: segments of forward, backward and easy walking, their validation and the built-in plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .numbers import is_number
from .refusals import Refusal

SEGMENT_KINDS = ("warmup", "forward", "reverse", "rest", "cooldown")
# How each kind is walked, for the walk's summary and the stats: backward, forward, or a rest
# standing at the rail (the one home of these sets; walkclock.js mirrors them).
FORWARD_KINDS = frozenset({"warmup", "forward", "cooldown"})
BACKWARD_KINDS = frozenset({"reverse"})
REST_KINDS = frozenset({"rest"})

MIN_SEGMENT_SECONDS = 5
MAX_SEGMENT_SECONDS = 3600
MAX_SEGMENTS = 200
MAX_PLAN_SECONDS = 4 * 3600
MIN_SPEED_MPH = 0.3
MAX_SPEED_MPH = 4.0
MAX_NAME_LENGTH = 80
MAX_DESCRIPTION_LENGTH = 500

SEGMENT_FIELDS = frozenset({"kind", "seconds", "speed_mph"})
PLAN_FIELDS = frozenset({"name", "description", "segments"})


class PlanInvalid(Refusal):
    """A plan that breaks a rule; `problems` holds one human sentence per rule broken."""

    def __init__(self, problems: list[str]):
        """A 400 `invalid_plan` naming every problem, each also listed in `problems`."""
        super().__init__("invalid_plan", " ".join(problems), problems=problems)
        self.problems = problems


@dataclass(frozen=True)
class Segment:
    """One stretch of a plan: a way of walking for a number of seconds, maybe at a treadmill speed."""

    kind: str
    seconds: int
    speed_mph: float | None = None

    @property
    def backward(self) -> bool:
        """True when this segment is walked backwards."""
        return self.kind in BACKWARD_KINDS

    def to_dict(self) -> dict[str, Any]:
        """The segment as the API shows it."""
        out: dict[str, Any] = {"kind": self.kind, "seconds": self.seconds}
        if self.speed_mph is not None:
            out["speed_mph"] = self.speed_mph
        return out


@dataclass(frozen=True)
class Plan:
    """A named sequence of segments: what a walk walks (the app calls a plan you can pick a workout)."""

    id: str
    name: str
    segments: tuple[Segment, ...]
    description: str = ""
    builtin: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def total_seconds(self) -> int:
        """The whole plan's length."""
        return sum(s.seconds for s in self.segments)

    @property
    def backward_seconds(self) -> int:
        """Seconds walked backwards."""
        return sum(s.seconds for s in self.segments if s.backward)

    def to_dict(self) -> dict[str, Any]:
        """The plan as the API shows it, with its totals."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "builtin": self.builtin,
            "segments": [s.to_dict() for s in self.segments],
            "total_seconds": self.total_seconds,
            "backward_seconds": self.backward_seconds,
            # The name before "backward" was the word for it; kept so older readers still find it.
            "reverse_seconds": self.backward_seconds,
            **self.extra,
        }


def _segment_problems(index: int, raw: Any) -> tuple[Segment | None, list[str]]:
    """Check one raw segment and return it parsed, or the sentences saying what is wrong."""
    where = f"Segment {index + 1}"
    if not isinstance(raw, dict):
        return None, [f"{where} must be an object with kind and seconds."]
    problems = []
    unknown = sorted(set(raw) - SEGMENT_FIELDS)
    if unknown:
        problems.append(f"{where} has unknown field(s): {', '.join(unknown)}.")
    kind = raw.get("kind")
    if kind not in SEGMENT_KINDS:
        problems.append(f"{where} kind must be one of {', '.join(SEGMENT_KINDS)}.")
    seconds = raw.get("seconds")
    if not is_number(seconds) or seconds != int(seconds):
        problems.append(f"{where} seconds must be a whole number.")
    elif not MIN_SEGMENT_SECONDS <= seconds <= MAX_SEGMENT_SECONDS:
        problems.append(f"{where} must last {MIN_SEGMENT_SECONDS} to {MAX_SEGMENT_SECONDS} seconds.")
    speed = raw.get("speed_mph")
    if speed is not None:
        if not is_number(speed):
            problems.append(f"{where} speed_mph must be a number.")
        elif not MIN_SPEED_MPH <= speed <= MAX_SPEED_MPH:
            problems.append(f"{where} speed must be {MIN_SPEED_MPH} to {MAX_SPEED_MPH} mph.")
    if problems:
        return None, problems
    # Speeds are spoken to a tenth of a mile per hour, so store them that way.
    rounded = None if speed is None else round(float(speed), 1)
    return Segment(kind, int(seconds), rounded), []


def parse_segments(raw_segments: Any) -> tuple[Segment, ...]:
    """Validate a list of raw segments, raising PlanInvalid with every problem found."""
    if not isinstance(raw_segments, list) or not raw_segments:
        raise PlanInvalid(["A plan needs a list of at least one segment."])
    if len(raw_segments) > MAX_SEGMENTS:
        raise PlanInvalid([f"A plan may have at most {MAX_SEGMENTS} segments."])
    segments, problems = [], []
    for index, raw in enumerate(raw_segments):
        segment, found = _segment_problems(index, raw)
        problems.extend(found)
        if segment:
            segments.append(segment)
    if not problems and sum(s.seconds for s in segments) > MAX_PLAN_SECONDS:
        problems.append(f"A plan may last at most {MAX_PLAN_SECONDS // 3600} hours in all.")
    if problems:
        raise PlanInvalid(problems)
    return tuple(segments)


def parse_plan(raw: Any, plan_id: str) -> Plan:
    """Validate a custom plan as sent by a phone and return it, or raise PlanInvalid."""
    if not isinstance(raw, dict):
        raise PlanInvalid(["A plan must be a JSON object with name and segments."])
    problems = []
    unknown = sorted(set(raw) - PLAN_FIELDS)
    if unknown:
        problems.append(f"Unknown field(s): {', '.join(unknown)}.")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("A plan needs a name.")
    elif len(name.strip()) > MAX_NAME_LENGTH:
        problems.append(f"A plan name may be at most {MAX_NAME_LENGTH} characters.")
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append("The description must be text.")
    elif len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(f"The description may be at most {MAX_DESCRIPTION_LENGTH} characters.")
    try:
        segments = parse_segments(raw.get("segments"))
    except PlanInvalid as invalid:
        problems.extend(invalid.problems)
    if problems:
        raise PlanInvalid(problems)
    return Plan(plan_id, name.strip(), segments, description.strip())


def walk(kind: str, minutes: float, speed_mph: float | None = None) -> Segment:
    """A segment given in minutes, which is how the programmes are written."""
    return Segment(kind, round(minutes * 60), speed_mph)
