"""Programmes: built-in courses of workouts over weeks (each workout a Plan) and the walker's place in them.

Longer than 450 lines: the four built-in programmes are written out here, week by week, beside
the model they fill and the sources their numbers come from.

Every number here comes from a source listed in docs/sources.md (cited below by author and year):

- "First steps backward" follows trainers' treadmill advice for beginners (a practice, not a
  trial): begin with about 5 minutes of backward walking in 1-minute bouts between forward
  walking, under 2 mph, and build slowly (about +0.5 mph a week at most) towards 10-15
  minutes backward in longer bouts, three sessions a week over about six weeks, towards
  2-3 mph; 10 minutes is the dose of Alghadir et al. 2019.
- "Knee-friendly" is the dose of Alghadir et al. (BMC Musculoskeletal Disorders 2019;20:159):
  10 minutes of retro walking, 3 days a week, for 6 weeks, at a comfortable speed.
- "Steady balance" is for older walkers: ten backward-walking sessions improved dynamic
  gait, Timed Up and Go and heel-rise endurance (Activities, Adaptation & Aging 2021;45:202);
  older people shorten their stride far more walking backwards (Laufer, J Gerontol A 2005),
  so bouts are short and slow, with a rest at the rail after each.
- "Quick mix" is variety: 10, 20 and 30-minute sessions that alternate forward and backward.
- No backward speed hint reaches the walk-to-run transition of backward locomotion, about
  1.63 m/s or 3.6 mph (Hreljac et al., J Sports Sci Med 2005;4:446).

Texts with speeds are written in mph and shown in the walker's units (`in_units`).

Progress is derived, never stored: it is read from the sessions the device finished with
`ended_by == "complete"` (a session stopped early does not count). See `progress`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .phrases import KM_PER_MILE
from .plans import Plan, Segment, walk

# A workout's backward minutes may grow by at most this much over the workout before it:
# "keep it short, begin with 5 minutes backward and add slowly" (trainers' advice).
SECONDS_PER_MINUTE = 60
MAX_BACKWARD_STEP_SECONDS = 2 * SECONDS_PER_MINUTE
# Treadmill hints: under 2 mph at first, towards 2-3 mph later (trainers' advice).
BEGINNER_MAX_BACKWARD_MPH = 2.0
MAX_BACKWARD_MPH = 3.0
# Backward walking turns into running at 1.63 m/s (Hreljac et al. 2005): no backward hint
# of a programme may reach it.
WALK_RUN_TRANSITION_MPH = 3.6
# "2 mph", "2.5 mph" or a range "2-3 mph" in a programme's text (written in mph).
_MPH_TEXT = re.compile(r"(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))? mph")


def _kmh(mph_text: str) -> str:
    """A speed written in mph as km/h to a tenth, without a trailing ".0"."""
    return f"{float(mph_text) * KM_PER_MILE:.1f}".removesuffix(".0")


def in_units(text: str, units: str) -> str:
    """A programme's text with its speeds in the walker's units ("under 2 mph" -> "under 3.2 km/h")."""
    if units != "kmh":
        return text

    def convert(match: re.Match) -> str:
        """One speed or range of speeds, in km/h."""
        low, high = match.group(1), match.group(2)
        return f"{_kmh(low)}-{_kmh(high)} km/h" if high else f"{_kmh(low)} km/h"

    return _MPH_TEXT.sub(convert, text)


@dataclass(frozen=True)
class ProgrammeWorkout:
    """One workout of a programme: its place (week and number), its plan and why it is there."""

    programme_id: str
    week: int
    number: int
    plan: Plan
    why: str
    weekly: bool = True
    count: int = 0

    @property
    def label(self) -> str:
        """Where this workout sits, the way the walker says it: "Week 2, session 3"."""
        if self.weekly:
            return f"Week {self.week}, session {self.number}"
        return f"Session {self.number} of {self.count}"

    def to_dict(self, units: str = "mph") -> dict:
        """The workout as GET /api/programmes lists it: its place, its why, and the whole plan (speeds in `units`)."""
        plan = self.plan.to_dict()
        plan["description"] = in_units(plan["description"], units)
        return {
            "plan_id": self.plan.id,
            "week": self.week,
            "session": self.number,
            "label": self.label,
            "why": in_units(self.why, units),
            "plan": plan,
        }


@dataclass(frozen=True)
class Programme:
    """A built-in course of workouts, walked in order (or, when `repeats`, in rotation)."""

    id: str
    name: str
    description: str
    audience: str
    source: str
    weeks: int
    workouts_per_week: int
    workouts: tuple[ProgrammeWorkout, ...]
    repeats: bool = False

    def index_of(self, plan_id: str) -> int | None:
        """The position of a workout (by plan id or one of its aliases) in this programme, if it is one."""
        plan_id = PLAN_ALIASES.get(plan_id, plan_id)
        for index, workout in enumerate(self.workouts):
            if workout.plan.id == plan_id:
                return index
        return None

    def to_dict(self, units: str = "mph") -> dict:
        """The programme as GET /api/programmes lists it, speeds in `units` (progress is added by the caller)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": in_units(self.description, units),
            "audience": self.audience,
            "source": in_units(self.source, units),
            "weeks": self.weeks,
            "workouts_per_week": self.workouts_per_week,
            # The name before workouts were called workouts; an int, so kept for older readers.
            "sessions_per_week": self.workouts_per_week,
            "repeats": self.repeats,
            "workouts": [w.to_dict(units) for w in self.workouts],
        }


@dataclass(frozen=True)
class Progress:
    """Where a walker is in a programme: workouts done in order and the next one offered."""

    programme: Programme
    done: int
    completed_total: int
    next_workout: ProgrammeWorkout | None
    last_completed_at_ms: int | None = None

    @property
    def finished(self) -> bool:
        """True when every workout of a (non-rotating) programme has been completed."""
        return self.next_workout is None

    @property
    def label(self) -> str:
        """What the app shows: the next workout's place, or that the programme is done."""
        if self.next_workout is None:
            return "Programme complete"
        return self.next_workout.label

    def to_dict(self) -> dict:
        """Progress as the API shows it."""
        following = self.next_workout
        return {
            "done": self.done,
            "total": len(self.programme.workouts),
            "completed_sessions": self.completed_total,
            "finished": self.finished,
            "label": self.label,
            "next_plan_id": following.plan.id if following else None,
            "next_week": following.week if following else None,
            "next_session": following.number if following else None,
            "last_completed_at": self.last_completed_at_ms,
        }


@dataclass(frozen=True)
class CompletedWalk:
    """A finished session as progress needs it: which plan, when, and whether it was completed."""

    plan_id: str
    finished_at_ms: int
    completed: bool


def progress(programme: Programme, walks: Iterable[CompletedWalk], since_ms: int | None = None) -> Progress:
    """Where the walker is in `programme`, from their finished walks (any order).

    The rule: walks are taken oldest first; only those ended by completing the plan count
    (stopped early does not), and only those at or after `since_ms` (a restart), if given.
    Completing the workout offered next advances by one. Completing a later workout skips
    ahead to the one after it (the walker chose to); repeating an earlier one changes
    nothing. A rotating programme (`repeats`) offers the workout after the last completed,
    round and round.
    """
    done = 0
    completed_total = 0
    last_index: int | None = None
    last_at: int | None = None
    for walk_ in sorted(walks, key=lambda w: w.finished_at_ms):
        if not walk_.completed or (since_ms is not None and walk_.finished_at_ms < since_ms):
            continue
        index = programme.index_of(walk_.plan_id)
        if index is None:
            continue
        completed_total += 1
        last_index, last_at = index, walk_.finished_at_ms
        if index >= done:
            done = index + 1
    workouts = programme.workouts
    if programme.repeats:
        following = workouts[0] if last_index is None else workouts[(last_index + 1) % len(workouts)]
        return Progress(programme, min(done, len(workouts)), completed_total, following, last_at)
    following = workouts[done] if done < len(workouts) else None
    return Progress(programme, done, completed_total, following, last_at)


# ---- building the workouts ------------------------------------------------------------


@dataclass(frozen=True)
class _Bouts:
    """One week's backward bouts: how many, how long, how fast, and what comes between."""

    count: int
    minutes: float
    backward_mph: float
    forward_minutes: float
    forward_mph: float
    why: str


def _interval_workout(
    week: _Bouts,
    warmup: Segment,
    cooldown: Segment,
    rest_minutes: float = 0,
    last_forward_minutes: float | None = None,
) -> tuple[Segment, ...]:
    """Warm-up, then each backward bout followed by (a rest at the rail and) forward walking, then cool-down."""
    segments = [warmup]
    for bout in range(week.count):
        last = bout == week.count - 1
        segments.append(walk("reverse", week.minutes, week.backward_mph))
        if rest_minutes:
            segments.append(walk("rest", rest_minutes))
        forward = last_forward_minutes if last and last_forward_minutes is not None else week.forward_minutes
        if forward:
            segments.append(walk("forward", forward, week.forward_mph))
    segments.append(cooldown)
    return tuple(segments)


def _weekly_programme(
    programme_id: str,
    name: str,
    weeks: Sequence[tuple[tuple[Segment, ...], str]],
    workouts_per_week: int,
) -> tuple[ProgrammeWorkout, ...]:
    """The workouts of a programme that repeats each week's plan `workouts_per_week` times."""
    workouts = []
    for week_number, (segments, why) in enumerate(weeks, start=1):
        for number in range(1, workouts_per_week + 1):
            plan = Plan(
                f"{programme_id}-w{week_number}s{number}",
                f"{name}: week {week_number}, session {number}",
                segments,
                why,
                builtin=True,
                extra={"programme": programme_id, "week": week_number, "session": number},
            )
            workouts.append(ProgrammeWorkout(programme_id, week_number, number, plan, why))
    return tuple(workouts)


FIRST_STEPS_WEEKS = (
    # Week 1 is the beginner's 5 minutes in 1-minute bouts, under 2 mph (trainers' advice).
    _Bouts(
        5,
        1,
        1.5,
        2,
        2.5,
        "Five 1-minute bouts under 2 mph: short enough to keep your form while "
        "your balance learns the new direction. Hold the rail.",
    ),
    _Bouts(6, 1, 1.6, 2, 2.5, "One more 1-minute bout, a touch faster: six minutes backward. Add slowly."),
    _Bouts(4, 2, 1.8, 2, 2.8, "Longer 2-minute bouts let your stride settle into a rhythm. Still under 2 mph."),
    _Bouts(5, 2, 2.0, 2, 2.8, "Ten minutes backward, the amount that brings benefits when done a few times a week."),
    _Bouts(
        4,
        3,
        2.2,
        2,
        3.0,
        "Three-minute bouts at 2.2 mph: backward walking starts to feel like work. "
        "Form first; slow down if you wobble.",
    ),
    _Bouts(
        4,
        3.5,
        2.4,
        2,
        3.0,
        "Fourteen minutes backward in long bouts: inside the 10-15 minutes a session "
        "that is enough to feel the benefits.",
    ),
)


def _first_steps() -> Programme:
    """Six weeks, three workouts a week, from 5 to 14 minutes backward."""
    weeks = [
        (
            _interval_workout(week, walk("warmup", 3, 2.5), walk("cooldown", 2, 2.0), last_forward_minutes=1),
            week.why,
        )
        for week in FIRST_STEPS_WEEKS
    ]
    return Programme(
        "first-steps",
        "First steps backward",
        "Start with 5 minutes of backward walking in 1-minute bouts between forward walking, "
        "and build to 14 minutes in longer bouts over six weeks, from under 2 mph towards "
        "2-3 mph. Start indoors or on a treadmill, clip the safety key and hold the rail.",
        "Anyone new to backward walking",
        "Trainers' treadmill advice for beginners (1-2 mph holding the rails, 30-60 s bouts, about "
        "+0.5 mph a week); the 10-minute dose of Alghadir et al., BMC Musculoskeletal Disorders "
        "2019;20:159; backward speeds kept under the walk-to-run transition of 3.6 mph "
        "(Hreljac et al., Journal of Sports Science and Medicine 2005;4:446).",
        len(weeks),
        3,
        _weekly_programme("first-steps", "First steps backward", weeks, 3),
    )


KNEE_WARMUP = walk("warmup", 2, 2.0)
KNEE_COOLDOWN = walk("cooldown", 2, 2.0)
# A hint only: the trials used each walker's comfortable speed, and did better at it.
KNEE_BACKWARD_MPH = 1.5
KNEE_WEEKS = 6


def _knee_friendly() -> Programme:
    """Ten minutes of retro walking, three times a week, six weeks (Alghadir et al. 2019)."""
    split = (
        KNEE_WARMUP,
        walk("reverse", 5, KNEE_BACKWARD_MPH),
        walk("rest", 0.5),
        walk("reverse", 5, KNEE_BACKWARD_MPH),
        KNEE_COOLDOWN,
    )
    whole = (KNEE_WARMUP, walk("reverse", 10, KNEE_BACKWARD_MPH), KNEE_COOLDOWN)
    weeks = [
        (
            split,
            "Ten minutes backward in two halves with a short rest: the dose that eased knee pain "
            "in trials. 1.5 mph is a hint; walk at the speed that feels comfortable.",
        )
        for _ in range(3)
    ] + [
        (whole, "The same ten minutes in one go, at your comfortable speed. Stop if your knee hurts.")
        for _ in range(KNEE_WEEKS - 3)
    ]
    return Programme(
        "knee-friendly",
        "Knee-friendly",
        "Ten minutes of backward walking at a comfortable speed, three times a week for six "
        "weeks: the dose that reduced knee pain and disability in trials. Ask a physical "
        "therapist if you are unsure.",
        "People with sore knees or knee osteoarthritis",
        "Alghadir AH, Anwer S, Sarkar B, Gabr SA, Al-Eisa ES. Effect of 6-week retro or forward "
        "walking program on pain, functional disability, quadriceps muscle strength, and performance "
        "in individuals with knee osteoarthritis. BMC Musculoskeletal Disorders 2019;20:159.",
        KNEE_WEEKS,
        3,
        _weekly_programme("knee-friendly", "Knee-friendly", weeks, 3),
    )


STEADY_WEEKS = (
    _Bouts(4, 0.5, 0.8, 1, 1.2, "Four 30-second bouts, very slow, each followed by a rest at the rail."),
    _Bouts(4, 0.75, 0.9, 1, 1.2, "Bouts of 45 seconds. Small steps are fine; keep a hand on the rail."),
    _Bouts(4, 1, 1.0, 1, 1.2, "One-minute bouts at 1 mph, with a rest after each."),
    _Bouts(5, 1, 1.1, 1, 1.3, "Five one-minute bouts: five minutes backward in all."),
    _Bouts(4, 1.5, 1.2, 1, 1.3, "Ninety-second bouts: six minutes backward, still slow and steady."),
)
STEADY_REST_MINUTES = 0.5
STEADY_WORKOUTS_PER_WEEK = 2


def _steady_balance() -> Programme:
    """Ten gentle workouts (five weeks, twice a week) of short, slow bouts with rests."""
    weeks = [
        (
            _interval_workout(
                week,
                walk("warmup", 3, 1.2),
                walk("cooldown", 3, 1.0),
                rest_minutes=STEADY_REST_MINUTES,
                last_forward_minutes=0,
            ),
            week.why,
        )
        for week in STEADY_WEEKS
    ]
    return Programme(
        "steady-balance",
        "Steady balance",
        "Ten gentle sessions for older walkers: short, slow backward bouts with a rest at the "
        "rail after each, growing from 2 to 6 minutes backward. Backward walking trains "
        "balance and body control; progress gently.",
        "Older walkers",
        "Effects of Backward Walking Training on Balance, Mobility, and Gait in Community-Dwelling "
        "Older Adults. Activities, Adaptation & Aging 2021;45(3):202-216 (ten sessions); Laufer Y. "
        "Journals of Gerontology A 2005;60(5):627-632 (older walkers shorten their stride backwards).",
        len(weeks),
        STEADY_WORKOUTS_PER_WEEK,
        _weekly_programme("steady-balance", "Steady balance", weeks, STEADY_WORKOUTS_PER_WEEK),
    )


def _quick_mix() -> Programme:
    """Three stand-alone workouts of 10, 20 and 30 minutes, offered in rotation."""
    ten = (
        walk("warmup", 2, 2.5),
        *[seg for _ in range(3) for seg in (walk("reverse", 1, 1.8), walk("forward", 1, 2.5))],
        walk("cooldown", 2, 2.0),
    )
    # Twenty minutes: the foundation's "intervals-20", kept identical.
    twenty = (
        walk("warmup", 2, 2.5),
        *[seg for _ in range(4) for seg in (walk("forward", 2, 3.0), walk("reverse", 1.5, 2.0))],
        walk("cooldown", 4, 2.5),
    )
    thirty = (
        walk("warmup", 3, 2.5),
        *[seg for _ in range(6) for seg in (walk("forward", 2, 3.0), walk("reverse", 2, 2.2))],
        walk("cooldown", 3, 2.5),
    )
    table = (
        (10, ten, "Ten minutes, three 1-minute bouts backward: for a busy day."),
        (20, twenty, "Twenty minutes: four rounds of 2 minutes forward and 90 seconds backward."),
        (30, thirty, "Thirty minutes: six rounds of 2 minutes forward and 2 minutes backward."),
    )
    workouts = tuple(
        ProgrammeWorkout(
            "quick-mix",
            1,
            number,
            Plan(
                f"quick-mix-{minutes}",
                f"Quick mix: {minutes} minutes",
                segments,
                why,
                builtin=True,
                extra={"programme": "quick-mix", "week": 1, "session": number},
            ),
            why,
            weekly=False,
            count=len(table),
        )
        for number, (minutes, segments, why) in enumerate(table, start=1)
    )
    return Programme(
        "quick-mix",
        "Quick mix",
        "Ten, twenty and thirty-minute sessions that alternate forward and backward walking, "
        "for variety. Offered in turn, round and round.",
        "Walkers who want variety",
        "Trainers' advice to alternate forward and backward intervals; energy from the Compendium of "
        "Physical Activities (Ainsworth et al., Medicine & Science in Sports & Exercise 2011;43:1575), "
        "code 17320, walking backwards at 3.5 mph, 6.0 METs.",
        1,
        len(workouts),
        workouts,
        repeats=True,
    )


PROGRAMMES: dict[str, Programme] = {
    p.id: p for p in (_first_steps(), _knee_friendly(), _steady_balance(), _quick_mix())
}

# The foundation's plan ids, kept working: each names the programme workout it always was.
PLAN_ALIASES: dict[str, str] = {
    "first-steps": "first-steps-w1s1",
    "knee-friendly-10": "knee-friendly-w1s1",
    "intervals-20": "quick-mix-20",
}


def programme_workouts() -> list[ProgrammeWorkout]:
    """Every workout of every programme, programme by programme, in order."""
    return [workout for programme in PROGRAMMES.values() for workout in programme.workouts]


_ALIAS_TEXT = {
    "first-steps": (
        "First steps backward",
        "Your first session: five 1-minute bouts of backward walking at under 2 mph, "
        "with forward walking in between. Hold the rail.",
    ),
    "knee-friendly-10": (
        "Knee-friendly 10",
        "Ten minutes of backward walking at a comfortable speed, the dose that eased "
        "knee pain in trials (3 times a week for 6 weeks).",
    ),
    "intervals-20": (
        "20-minute intervals",
        "Four rounds of 2 minutes forward and 90 seconds backward: six minutes of "
        "backward walking in a 20-minute walk.",
    ),
}


def _builtin_plans() -> dict[str, Plan]:
    """The aliases first (quick starts the phone already knows), then every programme workout."""
    workouts = {w.plan.id: w.plan for w in programme_workouts()}
    aliases = {
        alias: Plan(
            alias,
            _ALIAS_TEXT[alias][0],
            workouts[target].segments,
            _ALIAS_TEXT[alias][1],
            builtin=True,
            extra={"alias_of": target},
        )
        for alias, target in PLAN_ALIASES.items()
    }
    return {**aliases, **workouts}


# Every built-in plan by id: the programmes' workouts, plus the foundation's three plan ids
# kept as aliases of the workouts they always were.
BUILTIN_PLANS: dict[str, Plan] = _builtin_plans()


def week_backward_minutes(programme: Programme, week: int) -> tuple[float, float]:
    """The backward minutes of one week's workouts of a programme, (fewest, most): its own targets."""
    minutes = [w.plan.backward_seconds / SECONDS_PER_MINUTE for w in programme.workouts if w.week == week]
    if not minutes:
        minutes = [w.plan.backward_seconds / SECONDS_PER_MINUTE for w in programme.workouts]
    return min(minutes), max(minutes)
