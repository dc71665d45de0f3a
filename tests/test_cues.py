"""The cue compiler: every switch announced, countdowns on the second, nothing spoken over anything."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import phrases
from server.cues import (
    GAP_MS,
    CueOptions,
    CueOptionsInvalid,
    compile_timeline,
    place_by_rule,
    needed_phrases,
    segment_starts_ms,
)
from server.plans import SEGMENT_KINDS, Segment
from server.programmes import BUILTIN_PLANS


def lengths(texts, ms_per_char=60, minimum=300):
    """Plausible spoken lengths: longer phrases take longer, like real speech."""
    return {t: max(minimum, len(t) * ms_per_char) for t in texts}


def compile_with(segments, options=CueOptions(), ms_per_char=60):
    """Compile with made-up but realistic phrase lengths."""
    return compile_timeline(segments, options, lengths(needed_phrases(segments, options), ms_per_char))


THREE_FIVES = (Segment("forward", 5), Segment("reverse", 5), Segment("forward", 5))


def test_every_segment_start_is_announced_with_its_switch_phrase():
    cues = compile_with(THREE_FIVES)
    switches = [(c.offset_ms, c.text) for c in cues if c.kind == "switch"]
    assert switches == [(0, "Switch to forward."), (5000, "Switch to reverse."), (10000, "Switch to forward.")]
    assert cues[-1].kind == "complete" and cues[-1].offset_ms == 15000
    assert cues[-1].text == "Workout complete. Well done!"


def test_countdown_numbers_fall_on_the_seconds_before_each_switch():
    segments = (Segment("forward", 30), Segment("reverse", 30))
    cues = compile_with(segments)
    counts = [(c.offset_ms, c.text) for c in cues if c.kind == "countdown"]
    assert counts[:3] == [(27000, "Three."), (28000, "Two."), (29000, "One.")]
    assert counts[3:] == [(57000, "Three."), (58000, "Two."), (59000, "One.")]


@pytest.mark.parametrize("countdown, numbers", [(0, 0), (3, 3), (5, 5), (10, 10)])
def test_countdown_length_is_the_walkers_choice(countdown, numbers):
    cues = compile_with((Segment("forward", 60), Segment("reverse", 60)), CueOptions(countdown=countdown))
    before_switch = [c for c in cues if c.kind == "countdown" and c.offset_ms < 60000]
    assert len(before_switch) == numbers


def test_speed_hint_follows_the_switch_only_when_the_speed_changes():
    segments = (
        Segment("warmup", 60, 2.5),
        Segment("reverse", 60, 1.5),
        Segment("forward", 60, 2.5),
        Segment("forward", 60, 2.5),
    )
    cues = compile_with(segments)
    speeds = [(c.segment, c.text) for c in cues if c.kind == "speed"]
    assert speeds == [
        (0, "Speed 2.5 miles per hour."),
        (1, "Speed 1.5 miles per hour."),
        (2, "Speed 2.5 miles per hour."),
    ]
    switch = next(c for c in cues if c.kind == "switch" and c.segment == 1)
    hint = next(c for c in cues if c.kind == "speed" and c.segment == 1)
    assert hint.offset_ms == switch.offset_ms + len(switch.text) * 60 + GAP_MS


def test_speed_hints_speak_the_walkers_units():
    cues = compile_with((Segment("reverse", 60, 1.5),), CueOptions(units="kmh"))
    assert [c.text for c in cues if c.kind == "speed"] == ["Speed 2.4 kilometres per hour."]


def test_whole_speeds_are_said_without_point_zero():
    assert phrases.speed(2.0) == "Speed 2 miles per hour."
    assert phrases.speed(1.5, "kmh", "de") == "Tempo 2,4 Kilometer pro Stunde."


def test_halfway_is_said_at_the_workouts_midpoint():
    cues = compile_with((Segment("forward", 60), Segment("reverse", 60)))
    assert [c.offset_ms for c in cues if c.kind == "halfway"] == [60000 + len("Switch to reverse.") * 60 + GAP_MS]
    assert not [c for c in compile_with(THREE_FIVES, CueOptions(halfway=False)) if c.kind == "halfway"]


def test_long_segments_hear_how_long_is_left():
    cues = compile_with((Segment("reverse", 12 * 60),))
    remaining = [(c.offset_ms, c.text) for c in cues if c.kind == "remaining"]
    assert remaining == [
        (2 * 60_000, "10 minutes to go."),
        (7 * 60_000, "5 minutes to go."),
        (11 * 60_000, "One minute to go."),
    ]
    short = compile_with((Segment("reverse", 90),))
    assert not [c for c in short if c.kind == "remaining"]


def test_a_countdown_number_that_would_talk_over_the_switch_is_left_out():
    # A 5-second segment whose switch phrase takes 4 s: "Three" (at 2 s) would overlap it.
    cues = compile_with((Segment("cooldown", 5), Segment("forward", 5)), ms_per_char=100)
    first = [c.text for c in cues if c.segment == 0]
    assert "Three." not in first
    assert first[0] == "Cool down. Walk forward, nice and easy."


def test_same_plan_same_timeline():
    plan = BUILTIN_PLANS["intervals-20"]
    assert compile_with(plan.segments) == compile_with(plan.segments)


def test_options_outside_the_closed_set_are_refused():
    for bad in ({"countdown": 4}, {"lang": "it"}, {"units": "knots"}, {"halfway": "yes"}):
        with pytest.raises(CueOptionsInvalid):
            CueOptions(**bad)


@pytest.mark.parametrize("lang", phrases.LANGUAGES)
def test_every_needed_phrase_is_in_the_standard_set(lang):
    standard = set(phrases.standard_phrases(lang))
    for plan in BUILTIN_PLANS.values():
        for units in phrases.UNITS:
            options = CueOptions(lang=lang, units=units, countdown=10)
            assert set(needed_phrases(plan.segments, options)) <= standard


segments_strategy = st.lists(
    st.builds(
        Segment,
        kind=st.sampled_from(SEGMENT_KINDS),
        seconds=st.integers(5, 900),
        speed_mph=st.one_of(st.none(), st.integers(3, 40).map(lambda t: t / 10)),
    ),
    min_size=1,
    max_size=25,
)
options_strategy = st.builds(
    CueOptions,
    countdown=st.sampled_from((0, 3, 5, 10)),
    halfway=st.booleans(),
    time_remaining=st.booleans(),
    lang=st.sampled_from(phrases.LANGUAGES),
    units=st.sampled_from(phrases.UNITS),
)


@settings(max_examples=300, deadline=None)
@given(segments=segments_strategy, options=options_strategy, ms_per_char=st.integers(30, 110))
def test_timeline_invariants(segments, options, ms_per_char):
    spoken = lengths(needed_phrases(segments, options), ms_per_char)
    cues = compile_timeline(segments, options, spoken)
    starts = segment_starts_ms(segments)
    total = starts[-1]
    # Ordered, numbered in order, inside the workout.
    assert [c.seq for c in cues] == list(range(len(cues)))
    assert [c.offset_ms for c in cues] == sorted(c.offset_ms for c in cues)
    assert all(0 <= c.offset_ms <= total for c in cues)
    # Every segment start announced by its own switch phrase; the end by "complete".
    switches = [c for c in cues if c.kind == "switch"]
    assert [c.segment for c in switches] == list(range(len(segments)))
    assert all(c.text == phrases.switch(segments[c.segment].kind, options.lang) for c in switches)
    assert cues[-1].kind == "complete"
    # Nothing spoken over anything: each cue ends (plus the gap) before the next begins.
    for before, after in zip(cues, cues[1:]):
        assert before.offset_ms + spoken[before.text] + GAP_MS <= after.offset_ms
    # Movable cues stay in their own segment.
    for cue in cues:
        if cue.kind in ("speed", "halfway", "remaining", "countdown"):
            assert starts[cue.segment] <= cue.offset_ms < starts[cue.segment + 1]


@settings(max_examples=300, deadline=None)
@given(segments=segments_strategy, options=options_strategy, ms_per_char=st.integers(30, 110))
def test_the_one_sweep_compiler_follows_the_documented_rule(segments, options, ms_per_char):
    spoken = lengths(needed_phrases(segments, options), ms_per_char)
    assert compile_timeline(segments, options, spoken) == place_by_rule(segments, options, spoken)
