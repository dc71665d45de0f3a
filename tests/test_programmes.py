"""Programmes: every workout is a valid plan, progression is gentle, progress follows completions."""

import subprocess
import sys
from pathlib import Path

import pytest

from server.plans import (
    MAX_SEGMENT_SECONDS,
    MAX_SPEED_MPH,
    MIN_SEGMENT_SECONDS,
    MIN_SPEED_MPH,
    parse_plan,
)
from server.programmes import (
    BEGINNER_MAX_BACKWARD_MPH,
    BUILTIN_PLANS,
    MAX_BACKWARD_MPH,
    MAX_BACKWARD_STEP_SECONDS,
    PLAN_ALIASES,
    PROGRAMMES,
    WALK_RUN_TRANSITION_MPH,
    CompletedWalk,
    in_units,
    progress,
)

ALL_WORKOUTS = [(p.id, w) for p in PROGRAMMES.values() for w in p.workouts]
WEEKLY = [p for p in PROGRAMMES.values() if not p.repeats]
MINUTE = 60


def backward_speeds(plan):
    """The speed hints of a plan's backward segments."""
    return [s.speed_mph for s in plan.segments if s.kind == "reverse"]


def test_the_four_programmes_of_the_issue_exist():
    assert {p.name for p in PROGRAMMES.values()} == {
        "First steps backward",
        "Knee-friendly",
        "Steady balance",
        "Quick mix",
    }


@pytest.mark.parametrize("programme_id, workout", ALL_WORKOUTS, ids=[w.plan.id for _, w in ALL_WORKOUTS])
def test_every_workout_is_a_builtin_plan_within_the_plan_limits(programme_id, workout):
    plan = workout.plan
    assert BUILTIN_PLANS[plan.id] is plan and plan.builtin
    for segment in plan.segments:
        assert MIN_SEGMENT_SECONDS <= segment.seconds <= MAX_SEGMENT_SECONDS
        if segment.speed_mph is not None:
            assert MIN_SPEED_MPH <= segment.speed_mph <= MAX_SPEED_MPH
    # The same plan passes the validation a phone's plan goes through.
    raw = {"name": plan.name, "description": plan.description, "segments": [s.to_dict() for s in plan.segments]}
    assert parse_plan(raw, plan.id).segments == plan.segments
    assert workout.why and plan.description == workout.why
    assert plan.to_dict()["programme"] == programme_id
    # It starts with a warm-up and ends with a cool-down: nobody starts cold walking backwards.
    assert plan.segments[0].kind == "warmup" and plan.segments[-1].kind == "cooldown"


@pytest.mark.parametrize("programme", WEEKLY, ids=[p.id for p in WEEKLY])
def test_weekly_programmes_have_their_weeks_and_workouts(programme):
    assert len(programme.workouts) == programme.weeks * programme.workouts_per_week
    labels = [s.label for s in programme.workouts]
    assert labels[0] == "Week 1, session 1"
    assert labels[programme.workouts_per_week] == "Week 2, session 1"
    assert len(set(s.plan.id for s in programme.workouts)) == len(labels)


@pytest.mark.parametrize("programme", WEEKLY, ids=[p.id for p in WEEKLY])
def test_backward_minutes_never_drop_and_grow_by_a_small_step(programme):
    backward = [s.plan.backward_seconds for s in programme.workouts]
    for before, after in zip(backward, backward[1:]):
        assert before <= after <= before + MAX_BACKWARD_STEP_SECONDS


@pytest.mark.parametrize("programme", WEEKLY, ids=[p.id for p in WEEKLY])
def test_backward_speed_hints_never_go_down(programme):
    top_speeds = [max(backward_speeds(s.plan)) for s in programme.workouts]
    assert top_speeds == sorted(top_speeds)
    assert all(speed <= MAX_BACKWARD_MPH for speed in top_speeds)


def test_first_steps_grows_from_five_minutes_in_one_minute_bouts_to_ten_to_fifteen():
    workouts = PROGRAMMES["first-steps"].workouts
    assert (PROGRAMMES["first-steps"].weeks, PROGRAMMES["first-steps"].workouts_per_week) == (6, 3)
    first, last = workouts[0].plan, workouts[-1].plan
    assert first.backward_seconds == 5 * MINUTE
    assert {s.seconds for s in first.segments if s.kind == "reverse"} == {MINUTE}
    assert all(speed < BEGINNER_MAX_BACKWARD_MPH for speed in backward_speeds(first))
    assert 10 * MINUTE <= last.backward_seconds <= 15 * MINUTE
    assert min(s.seconds for s in last.segments if s.kind == "reverse") > MINUTE
    assert all(2.0 <= speed <= 3.0 for speed in backward_speeds(last))


def test_backward_bouts_sit_between_forward_walking_never_back_to_back():
    for _, workout in ALL_WORKOUTS:
        kinds = [s.kind for s in workout.plan.segments]
        assert ("reverse", "reverse") not in set(zip(kinds, kinds[1:])), workout.plan.id


def test_knee_friendly_is_ten_minutes_three_times_a_week_for_six_weeks():
    programme = PROGRAMMES["knee-friendly"]
    assert (programme.weeks, programme.workouts_per_week) == (6, 3)
    assert {s.plan.backward_seconds for s in programme.workouts} == {10 * MINUTE}
    assert "Alghadir" in programme.source


def test_steady_balance_is_short_slow_bouts_with_a_rest_after_each():
    programme = PROGRAMMES["steady-balance"]
    assert len(programme.workouts) == 10
    for workout in programme.workouts:
        segments = workout.plan.segments
        assert all(speed <= 1.5 for speed in backward_speeds(workout.plan))
        assert all(s.seconds <= 2 * MINUTE for s in segments if s.kind == "reverse")
        for index, segment in enumerate(segments):
            if segment.kind == "reverse":
                assert segments[index + 1].kind == "rest"  # "Rest. Hold the rail and breathe."


def test_quick_mix_is_ten_twenty_and_thirty_minutes():
    programme = PROGRAMMES["quick-mix"]
    assert [s.plan.total_seconds for s in programme.workouts] == [10 * MINUTE, 20 * MINUTE, 30 * MINUTE]
    assert [s.label for s in programme.workouts] == ["Session 1 of 3", "Session 2 of 3", "Session 3 of 3"]


@pytest.mark.parametrize("alias, target", sorted(PLAN_ALIASES.items()))
def test_the_foundation_plan_ids_still_work_as_the_workouts_they_name(alias, target):
    assert BUILTIN_PLANS[alias].segments == BUILTIN_PLANS[target].segments
    assert BUILTIN_PLANS[alias].to_dict()["alias_of"] == target
    assert target in {workout.plan.id for _, workout in ALL_WORKOUTS}


def done(plan_id, at, completed=True):
    """A finished walk of a plan at a moment (ms)."""
    return CompletedWalk(plan_id, at, completed)


def test_a_new_walker_is_offered_week_1_session_1():
    state = progress(PROGRAMMES["first-steps"], [])
    assert (state.label, state.next_workout.plan.id, state.done) == ("Week 1, session 1", "first-steps-w1s1", 0)


def test_finishing_a_session_offers_the_next_and_stopping_early_does_not_count():
    programme = PROGRAMMES["first-steps"]
    state = progress(programme, [done("first-steps-w1s1", 1000)])
    assert state.label == "Week 1, session 2"
    state = progress(programme, [done("first-steps-w1s1", 1000), done("first-steps-w1s2", 2000, completed=False)])
    assert state.label == "Week 1, session 2"
    walks = [done(f"first-steps-w1s{n}", n * 1000) for n in (1, 2, 3)] + [done("first-steps-w2s1", 5000)]
    assert progress(programme, walks).label == "Week 2, session 2"


def test_the_old_first_steps_id_counts_as_week_1_session_1():
    assert progress(PROGRAMMES["first-steps"], [done("first-steps", 1)]).label == "Week 1, session 2"


def test_other_plans_and_repeats_of_earlier_workouts_do_not_move_progress():
    programme = PROGRAMMES["first-steps"]
    walks = [
        done("first-steps-w1s1", 1),
        done("first-steps-w1s2", 2),
        done("first-steps-w1s1", 3),
        done("my-abc", 4),
        done("knee-friendly-w1s1", 5),
    ]
    state = progress(programme, walks)
    assert (state.label, state.done, state.completed_total) == ("Week 1, session 3", 2, 3)


def test_completing_a_later_workout_skips_ahead_to_the_one_after_it():
    state = progress(PROGRAMMES["first-steps"], [done("first-steps-w3s1", 1)])
    assert state.label == "Week 3, session 2"


def test_completions_are_taken_in_time_order_whatever_the_input_order():
    walks = [done("first-steps-w1s2", 2000), done("first-steps-w1s1", 1000)]
    assert progress(PROGRAMMES["first-steps"], walks).label == "Week 1, session 3"


def test_a_restart_counts_only_completions_from_its_moment():
    walks = [done("first-steps-w1s1", 1000), done("first-steps-w1s2", 2000), done("first-steps-w1s1", 5000)]
    assert progress(PROGRAMMES["first-steps"], walks, since_ms=3000).label == "Week 1, session 2"


def test_the_last_workout_completes_the_programme():
    programme = PROGRAMMES["steady-balance"]
    walks = [done(s.plan.id, i) for i, s in enumerate(programme.workouts)]
    state = progress(programme, walks)
    assert state.finished and state.label == "Programme complete"
    assert state.to_dict()["next_plan_id"] is None and state.to_dict()["done"] == 10


def test_quick_mix_goes_round_and_round():
    programme = PROGRAMMES["quick-mix"]
    assert progress(programme, [done("quick-mix-30", 1)]).next_workout.plan.id == "quick-mix-10"
    assert progress(programme, [done("intervals-20", 1)]).next_workout.plan.id == "quick-mix-30"
    assert not progress(programme, [done("quick-mix-30", 1)]).finished


@pytest.mark.parametrize("first", ["server.programmes", "server.plans", "server.settings", "server.stats"])
def test_any_module_can_be_imported_first(first):
    # A fresh interpreter proves the import order does not matter.
    code = f"import {first}; from server.programmes import BUILTIN_PLANS; assert 'first-steps-w1s1' in BUILTIN_PLANS"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)


def test_no_backward_speed_hint_reaches_the_walk_to_run_transition():
    # Hreljac et al. 2005: walking backwards turns into running at about 1.63 m/s (3.6 mph).
    assert pytest.approx(1.63 * 3600 / 1609.344, abs=0.05) == WALK_RUN_TRANSITION_MPH
    for plan in BUILTIN_PLANS.values():
        assert all(speed < WALK_RUN_TRANSITION_MPH for speed in backward_speeds(plan)), plan.id


@pytest.mark.parametrize("programme", PROGRAMMES.values(), ids=list(PROGRAMMES))
def test_sources_cite_studies_and_guidelines_not_notes(programme):
    assert "DOMAIN" not in programme.source and "/work" not in programme.source and ".md" not in programme.source
    # A year of publication in every citation.
    assert any(str(year) in programme.source for year in range(1990, 2030)), programme.source


def test_texts_speak_of_speeds_in_the_walkers_units():
    programme = PROGRAMMES["first-steps"]
    assert "under 2 mph" in programme.description
    metric = programme.to_dict("kmh")
    assert "under 3.2 km/h" in metric["description"] and "3.2-4.8 km/h" in metric["description"]
    texts = (
        [metric["description"], metric["source"]]
        + [s["why"] for s in metric["workouts"]]
        + [s["plan"]["description"] for s in metric["workouts"]]
    )
    assert "walk-to-run transition of 5.8 km/h" in metric["source"]
    assert not any("mph" in text for text in texts)
    assert metric["workouts"][12]["why"].startswith("Three-minute bouts at 3.5 km/h")
    assert in_units("Hold the rail at 1 mph.", "kmh") == "Hold the rail at 1.6 km/h."
    assert in_units("under 2 mph", "mph") == "under 2 mph"
