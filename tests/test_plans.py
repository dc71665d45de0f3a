"""Plans: validation says every problem once, clearly; built-in plans follow docs/sources.md."""

import pytest

from server.plans import (
    MAX_SEGMENTS,
    Plan,
    PlanInvalid,
    Segment,
    parse_plan,
)
from server.programmes import BUILTIN_PLANS


def plan_body(*segments, name="Mine"):
    """A custom plan as the phone sends it."""
    return {"name": name, "segments": list(segments)}


def test_a_valid_plan_keeps_its_segments_and_totals():
    plan = parse_plan(
        plan_body(
            {"kind": "warmup", "seconds": 60, "speed_mph": 2.5},
            {"kind": "reverse", "seconds": 90, "speed_mph": 1.5},
            {"kind": "cooldown", "seconds": 30},
        ),
        "my-1",
    )
    assert plan.segments[1] == Segment("reverse", 90, 1.5)
    assert plan.total_seconds == 180
    assert plan.backward_seconds == 90
    assert plan.to_dict()["segments"][2] == {"kind": "cooldown", "seconds": 30}


@pytest.mark.parametrize(
    "segment, message",
    [
        ({"kind": "moonwalk", "seconds": 60}, "kind must be one of"),
        ({"kind": "reverse", "seconds": 4}, "5 to 3600 seconds"),
        ({"kind": "reverse", "seconds": 3601}, "5 to 3600 seconds"),
        ({"kind": "reverse", "seconds": 60.5}, "whole number"),
        ({"kind": "reverse", "seconds": "60"}, "whole number"),
        ({"kind": "reverse", "seconds": True}, "whole number"),
        ({"kind": "reverse", "seconds": 60, "speed_mph": 0.2}, "0.3 to 4.0 mph"),
        ({"kind": "reverse", "seconds": 60, "speed_mph": 4.1}, "0.3 to 4.0 mph"),
        ({"kind": "reverse", "seconds": 60, "speed_mph": "fast"}, "must be a number"),
        ({"kind": "reverse", "seconds": 60, "incline": 5}, "unknown field(s): incline"),
        ("reverse", "must be an object"),
    ],
)
def test_each_bad_segment_gets_its_own_message(segment, message):
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(plan_body(segment), "my-1")
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("Segment 1")
    assert message in caught.value.problems[0]


def test_every_problem_is_reported_at_once():
    with pytest.raises(PlanInvalid) as caught:
        parse_plan({"name": "", "segments": [{"kind": "x", "seconds": 1}], "colour": "red"}, "my-1")
    problems = " ".join(caught.value.problems)
    assert "Unknown field(s): colour" in problems
    assert "needs a name" in problems
    assert "kind must be one of" in problems and "5 to 3600 seconds" in problems


@pytest.mark.parametrize(
    "body, message",
    [
        ([], "must be a JSON object"),
        ({"name": "x"}, "at least one segment"),
        ({"name": "x", "segments": []}, "at least one segment"),
        ({"name": "x", "segments": [{"kind": "forward", "seconds": 5}] * (MAX_SEGMENTS + 1)}, "at most 200 segments"),
        ({"name": "x", "segments": [{"kind": "forward", "seconds": 3600}] * 5}, "at most 4 hours"),
        ({"name": "x" * 81, "segments": [{"kind": "forward", "seconds": 5}]}, "at most 80 characters"),
    ],
)
def test_plan_level_limits(body, message):
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(body, "my-1")
    assert message in str(caught.value)


def test_exactly_at_the_limits_is_allowed():
    plan = parse_plan(
        {"name": "Long", "segments": [{"kind": "forward", "seconds": 3600, "speed_mph": 4.0}] * 4}, "my-1"
    )
    assert plan.total_seconds == 4 * 3600


def test_speeds_are_kept_to_the_tenth_the_coach_says():
    plan = parse_plan(plan_body({"kind": "reverse", "seconds": 60, "speed_mph": 1.46}), "my-1")
    assert plan.segments[0].speed_mph == 1.5


def test_there_are_at_least_three_builtin_plans_with_totals():
    assert len(BUILTIN_PLANS) >= 3
    for plan in BUILTIN_PLANS.values():
        assert isinstance(plan, Plan) and plan.builtin
        assert plan.total_seconds > 0 and 0 < plan.backward_seconds < plan.total_seconds


def test_the_first_session_is_five_one_minute_backward_bouts_under_2_mph():
    first = BUILTIN_PLANS["first-steps"]
    bouts = [s for s in first.segments if s.kind == "reverse"]
    assert [s.seconds for s in bouts] == [60] * 5
    assert all(s.speed_mph < 2.0 for s in bouts)
    # Bouts sit between forward walking, never back to back.
    kinds = [s.kind for s in first.segments]
    assert "reverse" not in {b for a, b in zip(kinds, kinds[1:]) if a == "reverse"}


def test_knee_friendly_is_ten_minutes_backward():
    assert BUILTIN_PLANS["knee-friendly-10"].backward_seconds == 600


def test_intervals_20_lasts_twenty_minutes():
    assert BUILTIN_PLANS["intervals-20"].total_seconds == 20 * 60
