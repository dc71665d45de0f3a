"""Stats: calorie maths against hand-worked cases, weeks in the walker's time zone, streaks, CSV."""

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server import calories, stats
from server.plans import Segment
from server.programmes import BUILTIN_PLANS
from server.sessions.model import LiveSession
from server.sessions.rows import walk_record
from server.stats import WalkedPart, WalkRecord

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = 60


def ms(year, month, day, hour=12, minute=0, tz=UTC) -> int:
    """Epoch ms of a local wall-clock time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=tz).timestamp() * 1000)


def walk(
    at_ms,
    forward_min=10,
    backward_min=5,
    completed=True,
    speed=2.0,
    name="First steps",
    plan_id="p",
    sid=None,
    planned_backward_min=None,
):
    """A finished walk started at `at_ms`; its plan set `planned_backward_min` backward (as walked, if not given)."""
    parts = []
    if forward_min:
        parts.append(WalkedPart("forward", forward_min * MINUTE, 2.5))
    if backward_min:
        parts.append(WalkedPart("reverse", backward_min * MINUTE, speed))
    duration = (forward_min + backward_min) * MINUTE * 1000
    planned = (backward_min if planned_backward_min is None else planned_backward_min) * MINUTE
    return WalkRecord(sid or f"s{at_ms}", plan_id, name, at_ms + duration, completed, tuple(parts), at_ms, planned)


# Steady balance asks for two sessions a week.
TWICE_A_WEEK = stats.Targets(sessions_per_week=2, backward_minutes=(2.0, 2.0), programme="Steady balance")


# ---- calories ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mph, mets",
    [
        (2.0, 2.8),
        (2.5, 3.0),
        (3.0, 3.5),
        (3.5, 4.3),
        (2.75, 3.25),
        (3.25, 3.9),
        (1.5, 2.4),
        (1.0, 2.0),
        (0.3, 2.0),
        (4.0, 5.0),
    ],
)
def test_forward_mets_follow_the_compendium_and_interpolate(mph, mets):
    assert calories.forward_mets(mph) == pytest.approx(mets)


def test_the_slow_end_falls_gently_and_never_below_the_strolling_entry():
    speeds = [s / 10 for s in range(3, 41)]
    mets = [calories.forward_mets(s) for s in speeds]
    assert mets == sorted(mets) and min(mets) == 2.0


def test_seventy_kilos_twenty_minutes_at_six_mets_is_140_kcal():
    assert calories.kcal(6.0, 70, 20 * MINUTE) == pytest.approx(140)


def test_forward_at_3_mph_for_30_minutes_at_70_kg_is_122_5_kcal_with_the_byrne_low_end():
    energy = calories.calories([WalkedPart("forward", 30 * MINUTE, 3.0)], 70)
    assert energy.high == pytest.approx(3.5 * 70 * 0.5) == pytest.approx(122.5)
    assert energy.estimate == pytest.approx(122.5)
    assert energy.low == pytest.approx(122.5 * 0.8)  # 1 MET runs ~20% high (Byrne 2005)


def test_backward_at_3_5_mph_reaches_the_compendium_six_mets():
    energy = calories.calories([WalkedPart("reverse", 20 * MINUTE, 3.5)], 70)
    assert energy.high == pytest.approx(140)
    # Low end: 10% over forward (4.3 x 1.1 METs), less the 20% MET overestimate.
    assert energy.low == pytest.approx(4.3 * 1.1 * 70 / 3 * 0.8)
    assert energy.low < energy.estimate < energy.high


@pytest.mark.parametrize("mph", [0.5, 1.5, 2.0, 3.0, 3.5, 4.0])
def test_the_backward_range_spans_the_10_20_percent_rule_and_the_scaled_compendium(mph):
    forward = calories.forward_mets(mph)
    low, high = calories.mets_range("reverse", mph)
    assert low == pytest.approx(forward * 1.10)
    assert high >= forward * 1.20
    assert high == pytest.approx(max(forward * 1.2, 6.0 * forward / 4.3))


def test_backward_walking_is_scaled_down_at_slower_speeds():
    assert calories.backward_mets_scaled(3.5) == pytest.approx(6.0)
    assert calories.backward_mets_scaled(2.0) == pytest.approx(6.0 * 2.8 / 4.3)


def test_a_rest_at_the_rail_counts_as_standing_and_no_hint_means_the_usual_speed():
    assert calories.mets_range("rest", None) == (1.3, 1.3)
    assert calories.mets_range("forward", None) == (3.0, 3.0)
    assert calories.mets_range("reverse", None) == calories.mets_range("reverse", 1.5)


def test_no_weight_means_no_calories_and_a_note_saying_why():
    assert calories.calories_dict([WalkedPart("forward", 600, 3.0)], None) is None
    week = stats.week_summary([walk(ms(2025, 1, 8))], UTC, ms(2025, 1, 9), None)
    assert week["calories"] is None and "weight" in week["calories_note"]


# ---- weeks and time zones ------------------------------------------------------------------


def test_a_sunday_night_walk_in_new_york_is_that_sundays_week_though_utc_says_monday():
    sunday_night = ms(2025, 1, 12, 23, 30, tz=NEW_YORK)  # 04:30 on Monday 13 January in UTC
    records = [walk(sunday_night)]
    monday_noon = ms(2025, 1, 13, 12, tz=NEW_YORK)
    assert stats.week_summary(records, NEW_YORK, monday_noon, None)["minutes"] == 0
    previous = stats.week_summary(records, NEW_YORK, ms(2025, 1, 12, 23, 59, tz=NEW_YORK), None)
    assert (previous["week_start"], previous["minutes"]) == ("2025-01-06", 15.0)
    in_utc = stats.week_summary(records, UTC, ms(2025, 1, 13, 12), None)
    assert (in_utc["week_start"], in_utc["minutes"]) == ("2025-01-13", 15.0)


def test_weeks_start_on_monday_at_local_midnight():
    before = walk(ms(2025, 3, 9, 23, 55, tz=BERLIN), sid="sunday")
    after = walk(ms(2025, 3, 10, 0, 5, tz=BERLIN), sid="monday")
    series = stats.weekly_series([before, after], BERLIN, ms(2025, 3, 12, tz=BERLIN), weeks=2)
    assert [w.start.isoformat() for w in series] == ["2025-03-03", "2025-03-10"]
    assert [w.sessions for w in series] == [1, 1]


def test_this_weeks_minutes_come_from_what_was_walked_not_the_plan():
    records = [
        walk(ms(2025, 1, 6, 9), forward_min=20, backward_min=10),
        walk(
            ms(2025, 1, 8, 9), forward_min=4, backward_min=1.5, completed=False, planned_backward_min=5
        ),  # stopped early
        walk(ms(2025, 1, 9, 9), forward_min=0.5, backward_min=0, completed=False),  # a false start
    ]
    week = stats.week_summary(records, UTC, ms(2025, 1, 10), 70)
    assert week["minutes"] == 36.0 and week["forward_minutes"] == 24.5 and week["backward_minutes"] == 11.5
    # Two walks of a minute or more; one session that counts (the stopped one walked 1.5 of its 5 backward minutes).
    assert (week["walks"], week["sessions"], week["completed_sessions"], week["backward_goal_sessions"]) == (2, 1, 1, 1)
    assert week["target_minutes"] == 150 and week["target_met"] is False
    assert week["backward_suggestion"] == {
        "minutes_per_session": [10, 15],
        "sessions": 3,
        "weekly_minutes": 30,
        "programme": None,
    }
    assert (
        "at least 2" in week["definitions"]["counted_session"] and "3 sessions" in week["definitions"]["on_plan_week"]
    )
    assert 0 < week["calories"]["low"] < week["calories"]["estimate"] < week["calories"]["high"]


def test_150_minutes_meets_the_target():
    records = [walk(ms(2025, 1, 6 + day, 9), forward_min=40, backward_min=10) for day in range(3)]
    assert stats.week_summary(records, UTC, ms(2025, 1, 10), None)["target_met"] is True


def test_twelve_weeks_of_bars_oldest_first_with_empty_weeks_and_session_points():
    now = ms(2025, 4, 2)  # a Wednesday
    records = [
        walk(ms(2025, 4, 1), backward_min=12),
        walk(ms(2025, 3, 10), backward_min=6),
        walk(ms(2024, 12, 2), backward_min=9),
    ]
    chart = stats.weeks_summary(records, UTC, now, 12, None)
    weeks = chart["weeks"]
    assert len(weeks) == 12 and weeks[-1]["week_start"] == "2025-03-31" and weeks[0]["week_start"] == "2025-01-13"
    assert [w["backward_minutes"] for w in weeks if w["backward_minutes"]] == [6.0, 12.0]
    assert sum(1 for w in weeks if w["minutes"] == 0) == 10
    # The walk of December is older than the 12 weeks: in neither chart.
    assert [p["backward_minutes"] for p in chart["sessions"]] == [6.0, 12.0]
    assert chart["sessions"][0]["date"] == "2025-03-10"


def test_a_session_counts_when_it_walks_its_plans_backward_minutes_and_at_least_two():
    assert walk(ms(2025, 1, 6), backward_min=5).counted  # a programme session walked as set
    assert not walk(ms(2025, 1, 6), backward_min=4.5, planned_backward_min=5).counted  # stopped short
    assert walk(ms(2025, 1, 6), backward_min=10, planned_backward_min=30).counted  # 10 are always enough
    assert not walk(ms(2025, 1, 6), forward_min=0.15, backward_min=0.1).counted  # a 15-second test walk
    assert not walk(ms(2025, 1, 6), backward_min=1.5).counted  # less than 2 minutes backward


def test_week_1_session_1_walked_as_set_counts_towards_the_backward_card():
    plan = BUILTIN_PLANS["first-steps-w1s1"]
    row = {
        "id": "w1s1",
        "plan_id": plan.id,
        "plan_name": plan.name,
        "started_at": ms(2025, 1, 6),
        "ended_by": "complete",
        "finished_at": ms(2025, 1, 6) + plan.total_seconds * 1000,
        "plan": json.dumps([s.to_dict() for s in plan.segments]),
        "summary": json.dumps({"segments_walked": [float(s.seconds) for s in plan.segments]}),
    }
    record = walk_record(row)
    assert record.counted and stats.walk_stats(record, UTC, None)["counts"] is True
    targets = stats.Targets(3, (5.0, 5.0), "First steps backward")
    week = stats.week_summary([record], UTC, ms(2025, 1, 7), None, targets)
    assert (week["sessions"], week["backward_goal_sessions"], week["backward_suggestion"]["sessions"]) == (1, 1, 3)
    assert (
        week["backward_suggestion"]["minutes_per_session"] == [5, 5]
        and week["backward_suggestion"]["weekly_minutes"] == 15
    )
    assert "First steps backward" in week["definitions"]["on_plan_week"]


def test_a_week_on_plan_has_the_programmes_sessions_that_count():
    monday = ms(2025, 1, 6)

    def on_plan(records, targets=stats.GENERAL_TARGETS):
        return stats.totals(stats.week_start(datetime(2025, 1, 6).date()), records, targets).on_plan

    # Once, two 15-second walks made "1 week in a row on plan".
    tiny = [walk(monday + n * 3_600_000, forward_min=10 / 60, backward_min=5 / 60) for n in range(2)]
    assert not on_plan(tiny) and not on_plan(tiny, TWICE_A_WEEK)
    assert stats.streak(tiny, UTC, monday + 86_400_000) == 0
    three = [walk(monday + n * 86_400_000) for n in range(3)]
    assert not on_plan(three[:2]) and on_plan(three)
    # A twice-a-week programme is on plan with two.
    assert on_plan(three[:2], TWICE_A_WEEK)


def test_the_streak_counts_weeks_on_plan_up_to_this_one():
    def two_in_week(monday):
        return [walk(monday), walk(monday + 2 * 86_400_000)]

    mondays = [ms(2025, 1, 6) + n * 7 * 86_400_000 for n in range(5)]  # 6 Jan .. 3 Feb
    records = two_in_week(mondays[0]) + two_in_week(mondays[2]) + two_in_week(mondays[3])
    # Mid-week in the week of 3 Feb with nothing yet: the streak runs from last week and is 2.
    assert stats.streak(records, UTC, mondays[4] + 86_400_000, TWICE_A_WEEK) == 2
    # One session this week does not count yet; the second does.
    assert stats.streak(records + [walk(mondays[4])], UTC, mondays[4] + 86_400_000, TWICE_A_WEEK) == 2
    assert stats.streak(records + two_in_week(mondays[4]), UTC, mondays[4] + 3 * 86_400_000, TWICE_A_WEEK) == 3
    # A whole week missed ends it.
    assert stats.streak(records, UTC, mondays[4] + 8 * 86_400_000, TWICE_A_WEEK) == 0
    assert stats.streak([], UTC, mondays[0], TWICE_A_WEEK) == 0
    # Three a week without a programme: two are not enough.
    assert stats.streak(records, UTC, mondays[4] + 86_400_000) == 0


def test_the_streak_crosses_a_daylight_saving_change():
    # Europe/Berlin moves its clocks on Sunday 30 March 2025.
    records = [walk(ms(2025, 3, day, 8, tz=BERLIN)) for day in (24, 26, 31)] + [walk(ms(2025, 4, 2, 8, tz=BERLIN))]
    assert stats.streak(records, BERLIN, ms(2025, 4, 3, tz=BERLIN), TWICE_A_WEEK) == 2


# ---- CSV -----------------------------------------------------------------------------------


def test_history_csv_quotes_names_and_keeps_formulas_as_text():
    records = [
        walk(ms(2025, 1, 7, 18), name='Morning, "easy" one\nline two', sid="a"),
        walk(ms(2025, 1, 8, 18), name='=HYPERLINK("http://x")', completed=False, sid="b"),
    ]
    text = stats.history_csv(records, NEW_YORK, 70)
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["session_id"] for r in rows] == ["a", "b"]
    assert rows[0]["plan_name"] == 'Morning, "easy" one\nline two'
    assert rows[1]["plan_name"].startswith("'=")
    assert rows[0]["started"] == "2025-01-07T13:00:00-05:00"
    assert (rows[0]["ended_by"], rows[1]["ended_by"]) == ("complete", "stopped")
    assert (rows[0]["minutes"], rows[0]["backward_minutes"]) == ("15.0", "5.0")
    assert int(rows[0]["kcal_low"]) < int(rows[0]["kcal_high"])
    without_weight = list(csv.DictReader(io.StringIO(stats.history_csv(records, UTC, None), newline="")))
    # A row once printed wrong: 9 s forward and 3 s backward printed 0.2 = 0.2 + 0.1. Parts add up to the total.
    short = walk(ms(2025, 1, 9, 18), forward_min=9 / 60, backward_min=3 / 60, sid="c")
    row = list(csv.DictReader(io.StringIO(stats.history_csv([short], UTC, None), newline="")))[0]
    assert (row["minutes"], row["forward_minutes"], row["backward_minutes"]) == ("0.2", "0.2", "0.0")
    assert [without_weight[0][k] for k in ("kcal_low", "kcal_estimate", "kcal_high")] == ["", "", ""]


# ---- from stored sessions ------------------------------------------------------------------


def test_a_stored_session_keeps_each_segments_walked_seconds_and_speed():
    row = {
        "id": "abc",
        "plan_id": "first-steps-w1s1",
        "plan_name": "First steps",
        "started_at": 1_000,
        "finished_at": 900_000,
        "ended_by": "stopped",
        "plan": json.dumps(
            [
                {"kind": "warmup", "seconds": 180, "speed_mph": 2.5},
                {"kind": "reverse", "seconds": 60, "speed_mph": 1.5},
                {"kind": "cooldown", "seconds": 120},
            ]
        ),
        "summary": json.dumps(
            {"segments_walked": [180.0, 42.5, 0.0], "forward_seconds": 180.0, "backward_seconds": 42.5}
        ),
    }
    record = walk_record(row)
    assert record.parts == (WalkedPart("warmup", 180.0, 2.5), WalkedPart("reverse", 42.5, 1.5))
    assert (record.backward_s, record.forward_s, record.completed, record.at_ms) == (42.5, 180.0, False, 1_000)
    assert walk_record({**row, "finished_at": None}) is None


def test_every_finish_stores_each_segments_walked_seconds_so_stats_keep_every_parts_speed():
    # Every summary the server stores comes from the session model's finish (a live walk, a stop,
    # an offline upload alike), so stats always find each segment's walked seconds: no fallback.
    segments = (Segment("warmup", 60, 2.5), Segment("reverse", 60, 1.5), Segment("cooldown", 60))
    session = LiveSession("s", "d", "p", "Plan", segments, [], created_at=0)
    session.start(0, 0)
    session.skip(30_000, 0)  # half the warm-up, then straight to the backward segment
    session.stop(60_000)  # 30 s into it (the skip moved the clock on 30 s)
    row = {
        "id": session.id,
        "plan_id": session.plan_id,
        "plan_name": session.plan_name,
        "started_at": session.started_at,
        "finished_at": session.finished_at,
        "ended_by": session.ended_by,
        "plan": json.dumps([s.to_dict() for s in segments]),
        "summary": json.dumps(session.summary),
    }
    record = walk_record(row)
    assert record.parts == (WalkedPart("warmup", 30.0, 2.5), WalkedPart("reverse", 30.0, 1.5))
    assert (record.completed, record.planned_backward_s) == (False, 60.0)


@pytest.mark.parametrize("forward_s, backward_s", [(9, 3), (10, 5), (20.2, 5.1), (87.4, 33.3), (0, 0.1), (599.9, 0.05)])
def test_minutes_shown_add_up_to_their_total(forward_s, backward_s):
    shown = stats.minutes_shown(forward_s, backward_s)
    assert round((shown["forward_minutes"] + shown["backward_minutes"]) * 10) == round(shown["minutes"] * 10)
    assert abs(shown["minutes"] - (forward_s + backward_s) / 60) <= 0.05 + 1e-9
