"""The cue compiler: every switch announced, countdowns on the second, nothing spoken over anything."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cue_rule import place_by_rule
from server import phrases
from server.cues import (
    GAP_MS,
    SLOW_DOWN_LEAD_MS,
    CueOptions,
    CueOptionsInvalid,
    compile_timeline,
    needed_phrases,
    opening_text,
    segment_starts_ms,
    speed_hints,
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


def test_the_first_cue_says_how_to_start_and_every_switch_what_comes_and_for_how_long():
    cues = compile_with(THREE_FIVES)
    switches = [(c.offset_ms, c.text) for c in cues if c.kind == "switch"]
    assert switches == [
        (0, "Start walking forward."),
        (5000, "Switch to reverse, 5 seconds."),
        (10000, "Switch to forward, 5 seconds."),
    ]
    warm = compile_with((Segment("warmup", 180, 2.5), Segment("reverse", 60, 1.5), Segment("forward", 90, 2.5)))
    assert [c.text for c in warm if c.kind == "switch"] == [
        "Warm up: start walking forward at 2.5 miles per hour.",
        "Switch to reverse, one minute.",
        "Switch to forward, one and a half minutes.",
    ]
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


def test_a_slower_speed_is_said_before_the_switch_and_a_faster_one_after_it():
    segments = (
        Segment("warmup", 60, 2.5),
        Segment("reverse", 60, 1.5),
        Segment("forward", 60, 2.5),
        Segment("forward", 60, 2.5),
    )
    cues = compile_with(segments)
    speeds = [(c.offset_ms, c.segment, c.text) for c in cues if c.kind == "speed"]
    # Ten seconds before turning round, while still walking forward: slow the belt first.
    assert speeds[0] == (60_000 - SLOW_DOWN_LEAD_MS, 0, "Slow down to 1.5 miles per hour.")
    # Faster only once the walker faces forward again, right after the switch phrase.
    switch = next(c for c in cues if c.kind == "switch" and c.segment == 2)
    assert speeds[1] == (switch.offset_ms + len(switch.text) * 60 + GAP_MS, 2, "Speed up to 2.5 miles per hour.")
    assert len(speeds) == 2
    # In the order heard: slow down, count down, turn.
    heard = [c.text for c in cues if 45_000 <= c.offset_ms <= 61_000]
    assert heard == ["Slow down to 1.5 miles per hour.", "Three.", "Two.", "One.", "Switch to reverse, one minute."]


def test_a_slow_down_ends_before_a_long_countdown():
    segments = (Segment("forward", 60, 2.5), Segment("reverse", 60, 1.5))
    cues = compile_with(segments, CueOptions(countdown=10))
    hint = next(c for c in cues if c.kind == "speed")
    first_count = next(c for c in cues if c.kind == "countdown")
    assert hint.segment == 0 and first_count.text == "Ten."
    assert hint.offset_ms + len(hint.text) * 60 + GAP_MS == first_count.offset_ms


def test_a_slow_down_with_no_room_before_is_said_right_after_the_switch():
    # Five seconds hold the start phrase but not a slow-down after it.
    segments = (Segment("forward", 5, 2.5), Segment("reverse", 60, 1.5))
    cues = compile_with(segments, ms_per_char=80)
    hint = next(c for c in cues if c.kind == "speed")
    switch = next(c for c in cues if c.kind == "switch" and c.segment == 1)
    assert hint.segment == 1 and hint.offset_ms == switch.offset_ms + len(switch.text) * 80 + GAP_MS


def test_a_first_speed_after_segments_without_one_is_set_before_turning_backward():
    cues = compile_with(
        (Segment("forward", 60), Segment("reverse", 60, 1.5), Segment("forward", 60), Segment("forward", 60, 3.0))
    )
    speeds = [(c.segment, c.text) for c in cues if c.kind == "speed"]
    assert speeds == [(0, "Set the speed to 1.5 miles per hour."), (3, "Speed up to 3 miles per hour.")]


def test_speed_hints_speak_the_walkers_units():
    cues = compile_with((Segment("reverse", 60, 1.5),), CueOptions(units="kmh"))
    assert cues[0].text == "Start walking backward at 2.4 kilometres per hour."


def test_whole_speeds_are_said_without_point_zero_and_one_is_singular():
    assert phrases.speed(2.0, change="slow") == "Slow down to 2 miles per hour."
    assert phrases.speed(1.0, change="faster") == "Speed up to 1 mile per hour."
    assert phrases.speed(1.5, "kmh", "de", "slow") == "Langsamer, auf 2,4 Kilometer pro Stunde."
    assert phrases.speed(1.0, "mph", "fr", "slow") == "Ralentis à 1 mile à l'heure."
    assert phrases.speed(0.9, "kmh", "fr", "faster") == "Accélère à 1,4 kilomètre à l'heure."
    assert phrases.speed(1.5, "mph", "es", "slow") == "Baja la velocidad a 1,5 millas por hora."


@pytest.mark.parametrize(
    "seconds, en, es, de, fr",
    [
        (30, "30 seconds", "30 segundos", "30 Sekunden", "30 secondes"),
        (60, "one minute", "un minuto", "eine Minute", "une minute"),
        (90, "one and a half minutes", "un minuto y medio", "anderthalb Minuten", "une minute et demie"),
        (150, "2 and a half minutes", "2 minutos y medio", "zweieinhalb Minuten", "2 minutes et demie"),
        (210, "3 and a half minutes", "3 minutos y medio", "dreieinhalb Minuten", "3 minutes et demie"),
        (600, "10 minutes", "10 minutos", "10 Minuten", "10 minutes"),
        (47, "45 seconds", "45 segundos", "45 Sekunden", "45 secondes"),
        (1500, "25 minutes", "25 minutos", "25 Minuten", "25 minutes"),
    ],
)
def test_a_segments_length_is_said_in_natural_words(seconds, en, es, de, fr):
    assert [phrases.length_words(seconds, lang) for lang in ("en", "es", "de", "fr")] == [en, es, de, fr]


def test_halfway_is_said_at_the_workouts_midpoint():
    cues = compile_with((Segment("forward", 60), Segment("reverse", 60)))
    assert [c.offset_ms for c in cues if c.kind == "halfway"] == [
        60000 + len("Switch to reverse, one minute.") * 60 + GAP_MS
    ]
    assert not [c for c in compile_with(THREE_FIVES, CueOptions(halfway=False)) if c.kind == "halfway"]


def test_long_segments_hear_how_long_is_left_and_what_ends():
    cues = compile_with((Segment("reverse", 12 * 60),))
    remaining = [(c.offset_ms, c.text) for c in cues if c.kind == "remaining"]
    assert remaining == [
        (2 * 60_000, "10 minutes to the end."),
        (7 * 60_000, "5 minutes to the end."),
        (11 * 60_000, "One minute to the end."),
    ]
    # A minute before the end of a 3-minute warm-up is not the end of the walk.
    walk = compile_with((Segment("warmup", 180), Segment("reverse", 60), Segment("cooldown", 120)))
    assert [(c.offset_ms, c.text) for c in walk if c.kind == "remaining"] == [
        (120_000, "One minute left in the warm-up."),
        (300_000, "One minute to the end."),
    ]
    short = compile_with((Segment("reverse", 90),))
    assert not [c for c in short if c.kind == "remaining"]


def test_a_countdown_number_that_would_talk_over_the_switch_is_left_out():
    # A 5-second segment whose switch phrase takes 4 s: "Three" (at 2 s) would overlap it.
    cues = compile_with((Segment("cooldown", 5), Segment("forward", 5)), ms_per_char=100)
    first = [c.text for c in cues if c.segment == 0]
    assert "Three." not in first
    assert first[0] == "Start walking forward."


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
    # Inside the workout; only a switch or "complete" may be pushed past its moment, and then
    # only by the phrase before it running long (it starts the moment that one has ended).
    for before, cue in zip([None, *cues], cues):
        planned = starts[cue.segment] if cue.kind == "switch" else total
        if cue.kind in ("switch", "complete") and cue.offset_ms > planned:
            assert cue.offset_ms == before.offset_ms + spoken[before.text] + GAP_MS
        else:
            assert 0 <= cue.offset_ms <= total
    # Every segment start announced by its own switch phrase; the end by "complete".
    switches = [c for c in cues if c.kind == "switch"]
    assert [c.segment for c in switches] == list(range(len(segments)))
    assert all(c.text == opening_text(segments, c.segment, options) for c in switches)
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


@settings(max_examples=300, deadline=None)
@given(segments=segments_strategy, options=options_strategy, ms_per_char=st.integers(30, 110))
def test_slow_down_before_turning_and_speed_up_after(segments, options, ms_per_char):
    spoken = lengths(needed_phrases(segments, options), ms_per_char)
    cues = compile_timeline(segments, options, spoken)
    starts = segment_starts_ms(segments)
    switch_of = {c.segment: c for c in cues if c.kind == "switch"}
    speed_cues = [c for c in cues if c.kind == "speed"]
    belt = segments[0].speed_mph
    for index, (segment, hint) in enumerate(zip(segments, speed_hints(segments, options))):
        changed = index > 0 and segment.speed_mph is not None and segment.speed_mph != belt
        if segment.speed_mph is not None:
            previous, belt = belt, segment.speed_mph
        if not changed:
            assert hint is None
            continue
        # A lower speed (or a first one for a backward bout) is meant before the switch, a higher one after.
        slower = previous is not None and segment.speed_mph < previous
        assert hint.before == (slower or (previous is None and segment.backward))
        length = spoken[hint.text]
        switch = switch_of[index]
        before = [
            c for c in speed_cues if c.segment == index - 1 and c.text == hint.text and c.offset_ms < switch.offset_ms
        ]
        after = [c for c in speed_cues if c.segment == index and c.text == hint.text]
        # What the segment before says ahead of any hint: its switch and a speed-up.
        own = [c for c in cues if c.segment == index - 1 and c.kind in ("switch", "speed") and c.text != hint.text]
        busy_end = max(c.offset_ms + spoken[c.text] for c in own)
        room_before = busy_end + GAP_MS + length <= starts[index] and busy_end + 2 * GAP_MS + length <= switch.offset_ms
        # It must also end a gap before the next switch (or "complete"), due at the segment's end.
        room_after = switch.offset_ms + spoken[switch.text] + GAP_MS + length + GAP_MS <= starts[index + 1]
        if hint.before and room_before:
            # Said in the segment before, ahead of its countdown, never after the switch.
            assert len(before) == 1 and not after
            counts = [c for c in cues if c.segment == index - 1 and c.kind == "countdown"]
            assert all(before[0].offset_ms + length + GAP_MS <= c.offset_ms for c in counts)
        elif hint.before:
            # No room before: right after the switch, if it fits there at all.
            assert not before and len(after) == (1 if room_after else 0)
        else:
            # Speeding up: only once the walker has turned, as the next thing after the switch.
            assert not before and len(after) == (1 if room_after else 0)
        for cue in after:
            following = cues[cues.index(switch) + 1]
            assert following == cue
