"""One rounding rule: printed parts always add up to the printed total (summaries, stats, CSV)."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.rounding import round_parts

CASES = json.loads((Path(__file__).parent / "fixtures" / "rounding.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_the_shared_cases(case):
    assert round_parts(case["values"], case["step"]) == case["parts"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(0, 10_000_000), max_size=30), st.sampled_from([1, 60, 100, 1000]))
def test_parts_add_up_to_the_total_rounded_once_and_move_by_at_most_one_step(values, step):
    parts = round_parts(values, step)
    assert sum(parts) == (sum(values) + step // 2) // step
    for value, part in zip(values, parts):
        assert value // step <= part <= value // step + 1


def test_refuses_what_it_cannot_round():
    with pytest.raises(ValueError):
        round_parts([1, -1], 10)
    with pytest.raises(ValueError):
        round_parts([1], 0)


@settings(max_examples=200, deadline=None)
@given(
    pause_at=st.integers(0, 14_000),
    paused_ms=st.integers(1, 9_999),
    stop_after=st.integers(1, 20_000),
)
def test_a_walks_summary_adds_up_to_the_tenth(pause_at, paused_ms, stop_after):
    from hypothesis import assume

    from server.walkclock import replay, summarize

    assume(pause_at + 37 + stop_after < 15_000)  # stopped before the walk ends by itself

    starts, kinds, lead = [0, 5000, 10000, 15000], ["warmup", "reverse", "rest"], 1000
    events = [
        {"type": "start", "at": 0},
        {"type": "pause", "at": lead + pause_at + 37},
        {"type": "resume", "at": lead + pause_at + 37 + paused_ms},
        {"type": "stop", "at": lead + pause_at + 37 + paused_ms + stop_after},
    ]
    summary = summarize(replay(starts, events, lead), starts, kinds)
    tenths = {k: round(v * 10) for k, v in summary.items() if k.endswith("_seconds")}
    assert tenths["duration_seconds"] == tenths["walked_seconds"] + tenths["paused_seconds"]
    assert tenths["walked_seconds"] == tenths["forward_seconds"] + tenths["backward_seconds"] + tenths["rest_seconds"]
    assert tenths["walked_seconds"] == sum(round(s * 10) for s in summary["segments_walked"])
