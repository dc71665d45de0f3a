"""The walk clock (server/walkclock.py) against the shared table of cases, and its properties.

tests/fixtures/walk_clock.json is read by tests/js/walkclock.test.mjs too, so the phone and the
server agree on every case here.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import walkclock as wc

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "walk_clock.json").read_text())
LEAD = FIXTURES["lead_ms"]
T0 = FIXTURES["t0"]
CASES = FIXTURES["cases"]


def plan_of(case: dict) -> dict:
    """The case's plan: segment starts (the end last), cue offsets, segment kinds."""
    return FIXTURES["plans"][case["plan"]]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_shared_case_replays_to_the_state_position_segment_next_cue_and_dues_it_names(case):
    plan = plan_of(case)
    end = wc.walk_end_ms(plan["starts"], plan["offsets"])
    if "refused" in case:
        with pytest.raises(wc.WalkRefused) as refused:
            wc.replay(plan["starts"], case["events"], LEAD, end)
        assert (refused.value.index, refused.value.code) == (case["refused"]["index"], case["refused"]["code"])
        assert refused.value.message
        return
    walk = wc.replay(plan["starts"], case["events"], LEAD, end)
    expect = dict(case["expect"])
    assert walk.to_dict() == expect.pop("walk")
    summary = expect.pop("summary", None)
    assert wc.view(walk, plan["starts"], plan["offsets"], case["now"]) == expect
    settled = wc.settle(walk, end, case["now"])
    assert (wc.summarize(settled, plan["starts"], plan["kinds"]) if settled.state == wc.FINISHED else None) == summary


@pytest.mark.parametrize("case", [c for c in CASES if "refused" in c], ids=lambda c: c["name"])
def test_a_refused_event_leaves_the_walk_as_it_was(case):
    plan = plan_of(case)
    index = case["refused"]["index"]
    walk = wc.replay(plan["starts"], case["events"][:index], LEAD)
    before = walk.to_dict()
    with pytest.raises(wc.WalkRefused):
        wc.step(walk, plan["starts"], case["events"][index], LEAD)
    assert walk.to_dict() == before


def test_the_fixture_covers_every_rule_the_issue_names():
    names = " ".join(c["name"] for c in CASES)
    for rule in (
        "ready",
        "start lead",
        "resume",
        "skip while running",
        "skip while paused",
        "skip before the start lead",
        "skip refused near a segment end",
        "stop",
        "completion at the end",
        "pause after the end",
        "out of order",
    ):
        assert rule in names, rule


# --- properties --------------------------------------------------------------------------

STARTS = FIXTURES["plans"]["three_fives"]["starts"]
OFFSETS = FIXTURES["plans"]["three_fives"]["offsets"]
END = wc.walk_end_ms(STARTS, OFFSETS)

presses = st.lists(
    st.tuples(st.sampled_from(["pause", "resume", "skip", "stop", "finish"]), st.integers(0, 4_000)),
    max_size=14,
)


def accepted_log(steps: list[tuple[str, int]]) -> list[dict]:
    """A log as a phone keeps it: a start, then each press the clock accepts (refused ones are not logged)."""
    walk = wc.step(wc.READY_WALK, STARTS, {"type": "start", "at": T0}, LEAD, END)
    log, now = [{"type": "start", "at": T0}], T0
    for kind, gap in steps:
        now += gap
        event = {"type": kind, "at": now, **({"ended_by": "stopped"} if kind == "finish" else {})}
        try:
            walk = wc.step(walk, STARTS, event, LEAD, END)
        except wc.WalkRefused:
            continue
        log.append(event)
    return log


@settings(max_examples=80, deadline=None)
@given(presses, st.data())
def test_replaying_event_by_event_equals_replaying_the_whole_log_at_once(steps, data):
    log = accepted_log(steps)
    whole = wc.replay(STARTS, log, LEAD, END)
    split = data.draw(st.integers(0, len(log)))
    # Part of the log replayed, kept as JSON (as the phone keeps it), then the rest stepped on.
    walk = wc.walk_from_dict(json.loads(json.dumps(wc.replay(STARTS, log[:split], LEAD, END).to_dict())))
    for event in log[split:]:
        walk = wc.step(walk, STARTS, event, LEAD, END)
    assert walk == whole
    now = log[-1]["at"] + data.draw(st.integers(0, 30_000))
    assert wc.view(walk, STARTS, OFFSETS, now) == wc.view(whole, STARTS, OFFSETS, now)


@settings(max_examples=80, deadline=None)
@given(presses)
def test_dues_never_go_backwards_across_a_pause(steps):
    """Between two moments with no skip between them, no cue's due comes earlier (a pause only delays)."""
    log = accepted_log([(kind, gap) for kind, gap in steps if kind != "skip"])
    moments = sorted({t for e in log for t in (e["at"] - 1, e["at"], e["at"] + 700)} | {log[-1]["at"] + 20_000})
    seen: dict[int, int] = {}
    for now in moments:
        walk = wc.replay(STARTS, [e for e in log if e["at"] <= now], LEAD, END)
        for due in wc.view(walk, STARTS, OFFSETS, now)["dues"]:
            assert due["due"] >= seen.get(due["seq"], due["due"]), "a pause moved a cue earlier"
            assert due["due"] > now, "a cue still to be said is still to come"
            seen[due["seq"]] = due["due"]


@settings(max_examples=80, deadline=None)
@given(presses)
def test_a_finished_walk_sums_up_and_never_walks_more_than_the_plan(steps):
    log = accepted_log(steps)
    walk = wc.settle(wc.replay(STARTS, log, LEAD, END), END, log[-1]["at"] + 60_000)
    if walk.state != wc.FINISHED:
        walk = wc.finish(walk, log[-1]["at"] + 60_000, wc.ENDED_STOPPED)
    summary = wc.summarize(walk, STARTS, FIXTURES["plans"]["three_fives"]["kinds"])
    assert summary["walked_seconds"] <= summary["planned_seconds"]
    parts = summary["forward_seconds"] + summary["backward_seconds"] + summary["rest_seconds"]
    assert abs(summary["walked_seconds"] - parts) < 0.25
    assert abs(summary["duration_seconds"] - summary["walked_seconds"] - summary["paused_seconds"]) < 0.25


# --- both languages on random walks ----------------------------------------------------------

NODE = shutil.which("node")
CLI = Path(__file__).parent / "js" / "walkclock_cli.mjs"
RANDOM_WALKS = 300


def random_log(rng: random.Random, end: int) -> list[dict]:
    """A walker pressing anything at any time; most refused presses left out, some kept (both refuse them alike)."""
    now, events = T0, [{"type": "start", "at": T0}]
    walk = wc.replay(STARTS, events, LEAD, end)
    for _ in range(rng.randint(0, 12)):
        now += rng.choice([0, 1, 250, 999, 1_500, 2_000, 3_499, 3_500, 3_501, 7_000])
        event = {
            "type": rng.choice(["pause", "resume", "skip", "skip", "stop"] + ["finish"] * (rng.random() < 0.05)),
            "at": now,
        }
        try:
            walk = wc.step(walk, STARTS, event, LEAD, end)
        except wc.WalkRefused:
            if rng.random() < 0.9:
                continue
        events.append(event)
    if rng.random() < 0.05:
        events.insert(rng.randrange(1, len(events) + 1), {"type": "pause", "at": T0 - 1})  # out of order
    return events


@pytest.mark.skipif(NODE is None, reason="node is not installed (./tests/run installs it)")
def test_python_and_javascript_agree_on_hundreds_of_random_walks():
    rng = random.Random(8)  # fixed: the same walks every run
    plan = FIXTURES["plans"]["late_complete"]
    end = wc.walk_end_ms(plan["starts"], plan["offsets"])
    cases = [{"events": random_log(rng, end), "now": T0 + rng.randint(0, 40_000)} for _ in range(RANDOM_WALKS)]
    payload = {**plan, "lead_ms": LEAD, "end_ms": end, "cases": cases}
    done = subprocess.run(
        [NODE, str(CLI)], input=json.dumps(payload), capture_output=True, text=True, timeout=60, check=True
    )
    for case, js in zip(cases, json.loads(done.stdout), strict=True):
        try:
            walk = wc.replay(plan["starts"], case["events"], LEAD, end)
        except wc.WalkRefused as refused:
            assert js == {"refused": {"index": refused.index, "code": refused.code}}, case
            continue
        settled = wc.settle(walk, end, case["now"])
        summary = wc.summarize(settled, plan["starts"], plan["kinds"]) if settled.state == wc.FINISHED else None
        assert js == {
            "walk": walk.to_dict(),
            "view": wc.view(walk, plan["starts"], plan["offsets"], case["now"]),
            "summary": summary,
        }, case
