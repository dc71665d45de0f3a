"""Stats: walked minutes per week, calories (server/calories.py), streaks, chart series and CSV history.

Pure: plain functions over `WalkRecord`s (what a finished session actually walked); the API
reads the sessions table and turns rows into records at the edge (server/sessions/rows.py).

Walked time is what the summaries say was walked (a skipped or stopped segment counts only
the seconds walked), never the plan's totals. Minutes are shown to a tenth by the one
rounding rule (server/rounding.py): the total is rounded once and forward + backward add up
to it, in the API, the charts and the CSV alike.

Sessions that count and weeks on plan (one definition each, from the programme's targets;
`Targets`, and the sentences of `definitions` that the API shows):

- A walk is a *session that counts* when it walked backwards at least the backward minutes
  its own plan sets (10 are always enough, a longer plan stopped after 10 still counts), and
  never less than 2 minutes (the smallest backward dose of any programme session: Steady
  balance's first week, 4 bouts of 30 s). So a programme session walked as set counts, and
  a 15-second test walk does not.
- A week is *on plan* when it has as many sessions that count as the programme followed
  asks for a week (3, or 2 for Steady balance); without a programme, 3 ("10-15 minutes, a
  few times a week"). The streak is the number of weeks on plan in a row.

Weeks start on Monday in the walker's own time zone (an IANA name from the phone, through
zoneinfo), so a walk at 23:30 on a Sunday in New York belongs to that Sunday's week even
though it is already Monday in UTC. A walk belongs to the week in which it started.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .calories import CALORIES_NEED_WEIGHT, CALORIES_NOTE, calories, calories_dict
from .plans import BACKWARD_KINDS, REST_KINDS
from .rounding import round_parts

# ---- weekly targets ----------------------------------------------------------------------

# American Heart Association (2018): 150 minutes of moderate exercise a week.
WEEKLY_TARGET_MINUTES = 150
# "10-15 minutes, a few times a week, is enough to feel benefits" (the product brief): we read
# "a few" as three.
BACKWARD_SESSION_MINUTES = (10, 15)
BACKWARD_SESSIONS_A_WEEK = 3
# A walk shorter than this (a false start, stopped at once) is not listed among the week's
# walks; its seconds still count towards the minutes.
MIN_COUNTED_SESSION_S = 60
# A session that counts: at least its plan's backward minutes, capped at the guideline's 10
# (more is not needed to count), and never under the smallest dose of any programme session
# (Steady balance, week 1: 4 bouts of 30 s backward).
COUNTED_BACKWARD_CAP_S = BACKWARD_SESSION_MINUTES[0] * 60
MIN_COUNTED_BACKWARD_S = 2 * 60
ON_PLAN_MIN_BACKWARD_MINUTES = BACKWARD_SESSION_MINUTES[0] * BACKWARD_SESSIONS_A_WEEK
# Minutes are shown to a tenth; summaries give seconds to a tenth: 60 of those a tenth of a minute.
TENTHS_OF_SECOND_PER_TENTH_OF_MINUTE = 60
TENTHS_PER_UNIT = 10
MAX_WEEKS = 52
DEFAULT_WEEKS = 12
# The longest streak looked for: ten years of weeks is plenty, and bounds the loop.
MAX_STREAK_WEEKS = 520


@dataclass(frozen=True)
class WalkedPart:
    """A stretch actually walked: its kind, the seconds walked, and the speed hint it had."""

    kind: str
    seconds: float
    speed_mph: float | None = None

    @property
    def backward(self) -> bool:
        """True when walked backwards."""
        return self.kind in BACKWARD_KINDS

    @property
    def rest(self) -> bool:
        """True for a rest at the rail (standing, not walking)."""
        return self.kind in REST_KINDS


@dataclass(frozen=True)
class WalkRecord:
    """One finished session, as stats need it."""

    session_id: str
    plan_id: str
    plan_name: str
    finished_at_ms: int
    completed: bool
    parts: tuple[WalkedPart, ...]
    started_at_ms: int | None = None
    # The backward seconds the walk's plan set (its own target), when the plan is known.
    planned_backward_s: float | None = None

    @property
    def at_ms(self) -> int:
        """The moment that decides the walk's day and week: when it started (else when it ended)."""
        return self.started_at_ms if self.started_at_ms is not None else self.finished_at_ms

    @property
    def backward_s(self) -> float:
        """Seconds walked backwards."""
        return sum(p.seconds for p in self.parts if p.backward)

    @property
    def forward_s(self) -> float:
        """Seconds walked forwards (warm-up, forward, cool-down); rests are not walking."""
        return sum(p.seconds for p in self.parts if not p.backward and not p.rest)

    @property
    def active_s(self) -> float:
        """Seconds walked in either direction: what counts towards the 150 minutes."""
        return self.forward_s + self.backward_s

    @property
    def listed(self) -> bool:
        """True when the walk lasted long enough to be one of the week's walks (not a false start)."""
        return self.active_s >= MIN_COUNTED_SESSION_S

    @property
    def counted(self) -> bool:
        """True when the walk is a session that counts (see the module docstring)."""
        return counts_as_session(self.backward_s, self.planned_backward_s)


def counts_as_session(backward_s: float, planned_backward_s: float | None) -> bool:
    """The one definition of a session that counts: its plan's backward minutes (10 are enough), at least 2."""
    wanted = COUNTED_BACKWARD_CAP_S if planned_backward_s is None else min(planned_backward_s, COUNTED_BACKWARD_CAP_S)
    # Summaries give tenths of a second: compare in tenths, so "walked as set" is exactly equal.
    walked = round(backward_s * TENTHS_PER_UNIT)
    return walked >= round(max(wanted, MIN_COUNTED_BACKWARD_S) * TENTHS_PER_UNIT)


# The two rules' sentences, English patterns (server/programme_texts.py PATTERNS translates them).
COUNTED_SESSION = (
    "A walk counts as a session when you walk backwards at least the minutes its plan sets "
    "(10 are always enough), and at least {minimum} minutes."
)
# (one session, several sessions) a week.
ON_PLAN_WEEK_PROGRAMME = (
    "A week is on plan with {n} session that counts: what {programme} asks for a week.",
    "A week is on plan with {n} sessions that count: what {programme} asks for a week.",
)
ON_PLAN_WEEK_GUIDELINE = (
    "A week is on plan with {n} session that counts: what the guideline of a few times a week asks for.",
    "A week is on plan with {n} sessions that count: what the guideline of a few times a week asks for.",
)


@dataclass(frozen=True)
class Targets:
    """What a week asks for: from the programme followed (its week), else the general guideline."""

    sessions_per_week: int = BACKWARD_SESSIONS_A_WEEK
    # A session's backward minutes, (low, high): the programme week's sessions, or 10-15.
    backward_minutes: tuple[float, float] = (float(BACKWARD_SESSION_MINUTES[0]), float(BACKWARD_SESSION_MINUTES[1]))
    programme: str | None = None

    @property
    def weekly_backward_minutes(self) -> float:
        """Backward minutes a week on plan adds up to, at the low end."""
        return round(self.backward_minutes[0] * self.sessions_per_week, 1)

    def definitions(
        self, pattern: Callable[[str], str] = lambda english: english, programme_name: str | None = None
    ) -> dict[str, str]:
        """The two rules in words, as the progress screen shows them.

        `pattern` gives each English sentence pattern in the walker's language
        (programme_texts.pattern), `programme_name` the followed programme's name in it.
        """
        one = self.sessions_per_week == 1
        if self.programme:
            on_plan = ON_PLAN_WEEK_PROGRAMME[0 if one else 1]
        else:
            on_plan = ON_PLAN_WEEK_GUIDELINE[0 if one else 1]
        return {
            "counted_session": pattern(COUNTED_SESSION).format(minimum=MIN_COUNTED_BACKWARD_S // 60),
            "on_plan_week": pattern(on_plan).format(
                n=self.sessions_per_week, programme=programme_name or self.programme
            ),
        }


GENERAL_TARGETS = Targets()


# ---- weeks -------------------------------------------------------------------------------


def local_date(at_ms: int, tz: ZoneInfo) -> date:
    """The walker's calendar date at an epoch-ms moment."""
    return datetime.fromtimestamp(at_ms / 1000, tz).date()


def week_start(day: date) -> date:
    """The Monday of the week a date is in."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class WeekTotals:
    """What was walked in one week (Monday to Sunday, local time)."""

    start: date
    forward_s: float
    backward_s: float
    walks: int
    sessions: int
    completed_sessions: int
    parts: tuple[WalkedPart, ...]
    targets: Targets = GENERAL_TARGETS

    @property
    def minutes(self) -> float:
        """Minutes walked, either way, towards the 150 (as shown: to a tenth)."""
        return minutes_shown(self.forward_s, self.backward_s)["minutes"]

    @property
    def on_plan(self) -> bool:
        """True when the week counts towards the streak: enough sessions that count (see Targets)."""
        return self.sessions >= self.targets.sessions_per_week

    def to_dict(self, weight_kg: float | None) -> dict[str, Any]:
        """One bar of the weekly chart, and the figures of the week."""
        return {
            "week_start": self.start.isoformat(),
            "week_end": (self.start + timedelta(days=6)).isoformat(),
            **minutes_shown(self.forward_s, self.backward_s),
            "walks": self.walks,
            "sessions": self.sessions,
            "completed_sessions": self.completed_sessions,
            # The phone's backward card reads this name: the sessions that count.
            "backward_goal_sessions": self.sessions,
            "on_plan": self.on_plan,
            "calories": calories_dict(self.parts, weight_kg),
        }


def minutes_shown(forward_s: float, backward_s: float) -> dict[str, float]:
    """Minutes walked, forward and backward, to a tenth by the one rounding rule: the parts add up to the total."""
    tenths = [round(forward_s * TENTHS_PER_UNIT), round(backward_s * TENTHS_PER_UNIT)]
    forward, backward = round_parts(tenths, TENTHS_OF_SECOND_PER_TENTH_OF_MINUTE)
    return {
        "minutes": (forward + backward) / TENTHS_PER_UNIT,
        "forward_minutes": forward / TENTHS_PER_UNIT,
        "backward_minutes": backward / TENTHS_PER_UNIT,
    }


def _by_week(records: Iterable[WalkRecord], tz: ZoneInfo) -> dict[date, list[WalkRecord]]:
    """Walks grouped by the Monday of their local week."""
    weeks: dict[date, list[WalkRecord]] = {}
    for record in records:
        weeks.setdefault(week_start(local_date(record.at_ms, tz)), []).append(record)
    return weeks


def totals(start: date, records: Sequence[WalkRecord], targets: Targets = GENERAL_TARGETS) -> WeekTotals:
    """Add up one week's walks."""
    return WeekTotals(
        start,
        sum(r.forward_s for r in records),
        sum(r.backward_s for r in records),
        sum(1 for r in records if r.listed),
        sum(1 for r in records if r.counted),
        sum(1 for r in records if r.completed),
        tuple(p for r in records for p in r.parts),
        targets,
    )


def weekly_series(
    records: Iterable[WalkRecord],
    tz: ZoneInfo,
    now_ms: int,
    weeks: int = DEFAULT_WEEKS,
    targets: Targets = GENERAL_TARGETS,
) -> list[WeekTotals]:
    """The last `weeks` weeks, oldest first and ending with this one; empty weeks included."""
    grouped = _by_week(records, tz)
    this_week = week_start(local_date(now_ms, tz))
    starts = [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    return [totals(start, grouped.get(start, []), targets) for start in starts]


def streak(records: Iterable[WalkRecord], tz: ZoneInfo, now_ms: int, targets: Targets = GENERAL_TARGETS) -> int:
    """Consecutive weeks on plan, up to this one.

    This week counts once it is on plan; until then it does not break the streak (the week
    is not over), and the count runs from last week.
    """
    grouped = _by_week(records, tz)
    week = week_start(local_date(now_ms, tz))
    if not totals(week, grouped.get(week, []), targets).on_plan:
        week -= timedelta(weeks=1)
    count = 0
    while count < MAX_STREAK_WEEKS and totals(week, grouped.get(week, []), targets).on_plan:
        count += 1
        week -= timedelta(weeks=1)
    return count


def week_summary(
    records: Sequence[WalkRecord],
    tz: ZoneInfo,
    now_ms: int,
    weight_kg: float | None,
    targets: Targets = GENERAL_TARGETS,
) -> dict[str, Any]:
    """This week's figures for GET /api/stats/week, against the programme's targets."""
    this = weekly_series(records, tz, now_ms, 1, targets)[0]
    out = this.to_dict(weight_kg)
    low, high = targets.backward_minutes
    out.update(
        {
            "timezone": tz.key,
            "target_minutes": WEEKLY_TARGET_MINUTES,
            "target_met": this.minutes >= WEEKLY_TARGET_MINUTES,
            "backward_suggestion": {
                "minutes_per_session": [_whole_if_whole(low), _whole_if_whole(high)],
                "sessions": targets.sessions_per_week,
                "weekly_minutes": _whole_if_whole(targets.weekly_backward_minutes),
                "programme": targets.programme,
            },
            "definitions": targets.definitions(),
            "streak_weeks": streak(records, tz, now_ms, targets),
            "calories_note": CALORIES_NOTE if weight_kg is not None else CALORIES_NEED_WEIGHT,
        }
    )
    return out


def _whole_if_whole(minutes: float) -> float | int:
    """10.0 as 10, 2.5 as 2.5: the JSON the phone prints."""
    return int(minutes) if minutes == int(minutes) else minutes


def walk_stats(record: WalkRecord, tz: ZoneInfo, weight_kg: float | None) -> dict[str, Any]:
    """One finished walk's figures: the summary screen's minutes and calorie range, a chart point."""
    return {
        "session_id": record.session_id,
        "date": local_date(record.at_ms, tz).isoformat(),
        "at": record.at_ms,
        "plan_id": record.plan_id,
        "plan_name": record.plan_name,
        **minutes_shown(record.forward_s, record.backward_s),
        "counts": record.counted,
        "completed": record.completed,
        "calories": calories_dict(record.parts, weight_kg),
    }


def session_points(
    records: Iterable[WalkRecord], tz: ZoneInfo, since: date, weight_kg: float | None = None
) -> list[dict[str, Any]]:
    """Backward minutes (and the rest of `walk_stats`) per session from the week starting `since`, oldest first."""
    ordered = sorted(records, key=lambda r: r.at_ms)
    return [walk_stats(r, tz, weight_kg) for r in ordered if local_date(r.at_ms, tz) >= since]


def weeks_summary(
    records: Sequence[WalkRecord],
    tz: ZoneInfo,
    now_ms: int,
    weeks: int,
    weight_kg: float | None,
    targets: Targets = GENERAL_TARGETS,
) -> dict[str, Any]:
    """The chart data for GET /api/stats/weeks: a bar per week and a point per session."""
    series = weekly_series(records, tz, now_ms, weeks, targets)
    return {
        "timezone": tz.key,
        "target_minutes": WEEKLY_TARGET_MINUTES,
        "weeks": [week.to_dict(weight_kg) for week in series],
        "sessions": session_points(records, tz, series[0].start, weight_kg),
    }


# ---- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "session_id",
    "plan_id",
    "plan_name",
    "started",
    "finished",
    "ended_by",
    "minutes",
    "forward_minutes",
    "backward_minutes",
    "kcal_low",
    "kcal_estimate",
    "kcal_high",
)
# A cell starting with one of these is a formula to a spreadsheet: a plan named
# "=HYPERLINK(...)" must stay text (OWASP, CSV injection), so it gets a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _local_iso(at_ms: int | None, tz: ZoneInfo) -> str:
    """An epoch-ms moment as local ISO 8601 with its offset, to the second."""
    if at_ms is None:
        return ""
    return datetime.fromtimestamp(at_ms / 1000, tz).isoformat(timespec="seconds")


def history_csv(records: Iterable[WalkRecord], tz: ZoneInfo, weight_kg: float | None) -> str:
    """Every finished walk as CSV (RFC 4180 quoting, CRLF line ends), oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in sorted(records, key=lambda r: r.at_ms):
        energy = calories(record.parts, weight_kg).to_dict() if weight_kg is not None else None
        shown = minutes_shown(record.forward_s, record.backward_s)
        writer.writerow(
            [
                record.session_id,
                _cell(record.plan_id),
                _cell(record.plan_name),
                _local_iso(record.started_at_ms, tz),
                _local_iso(record.finished_at_ms, tz),
                "complete" if record.completed else "stopped",
                shown["minutes"],
                shown["forward_minutes"],
                shown["backward_minutes"],
                *((energy["low"], energy["estimate"], energy["high"]) if energy else ("", "", "")),
            ]
        )
    return out.getvalue()
