"""The live session's clock, state machine, scheduler and persistence, without sockets or a real clock.

Longer than 450 lines: the walk's pure clock and the hub around it are checked on one hand-moved
clock with shared helpers; the property tests and the hub tests hold one model.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import db as storage
from server.cues import CueOptions, compile_timeline, needed_phrases
from server.plans import Plan, Segment
from server.sessions import scheduler
from server.sessions import store as sessions_store
from server.sessions.hub import LiveHub
from server.sessions.model import LiveSession, SessionGone
from server.walkclock import ENDED_COMPLETE, FINISHED, WalkRefused

LEAD = 1500
MARGIN = 50
START_LEAD = 500  # the server's default START_LEAD_MS: a start takes effect (a skip lands) this long after the tap
T0 = 1_800_000_000_000  # an arbitrary epoch ms, so every time below is exact

THREE_FIVES = (Segment("forward", 5), Segment("reverse", 5), Segment("forward", 5))
PLAN = Plan("my-test", "Three fives", THREE_FIVES)


def timeline_of(segments, options=CueOptions()) -> list[dict]:
    """A timeline as POST /api/sessions stores it, with made-up phrase lengths and audio names."""
    spoken = {text: 400 for text in needed_phrases(segments, options)}
    return [{**cue.to_dict(), "audio": f"/audio/{cue.seq}.mp3"} for cue in compile_timeline(segments, options, spoken)]


def new_session(segments=THREE_FIVES) -> LiveSession:
    """A ready session of `segments`."""
    return LiveSession("s1", "d1", "p", "Plan", tuple(segments), timeline_of(segments), created_at=T0)


def run_until(session: LiveSession, until: int, step: int = 10, start: int = T0) -> list[tuple[int, dict, int]]:
    """Drive take_due every `step` ms; return (sent_at, cue, due) for every cue handed out."""
    sent = []
    for now in range(start, until + 1, step):
        ready, _missed = session.take_due(now, LEAD, MARGIN)
        sent += [(now, cue, due) for cue, due in ready]
    return sent


# --- the clock ---------------------------------------------------------------------------


def test_the_clock_starts_one_lead_after_start_so_the_first_cue_can_go_out_ahead():
    session = new_session()
    session.start(T0, LEAD)
    assert session.started_at == T0 + LEAD
    sent = run_until(session, T0 + 20_000)
    assert [cue["seq"] for _, cue, _ in sent] == [c["seq"] for c in session.timeline]
    for sent_at, cue, due in sent:
        assert due == session.started_at + cue["offset_ms"]
        assert due - LEAD <= sent_at <= due - LEAD + 10, "each cue goes out one lead before it is due"


def test_with_a_short_start_lead_the_first_cues_go_out_at_once_and_none_is_missed():
    # The server's defaults: a start takes effect 500 ms after the tap, cues are pushed 1.5 s ahead.
    start_lead = 500
    session = new_session()
    session.start(T0, start_lead)
    assert session.started_at == T0 + start_lead, "the first word comes half a second after Start"
    ready, missed = session.take_due(T0, LEAD, MARGIN)
    assert missed == [] and ready, "the cues of the first 1.5 s are sent at the tap, not counted missed"
    assert ready[0][0]["offset_ms"] == 0 and ready[0][1] == T0 + start_lead
    assert all(due - T0 >= MARGIN for _, due in ready), "never sent after (or too close to) its due"
    later = run_until(session, T0 + 20_000, start=T0 + 10)
    for sent_at, _, due in later:
        assert due - LEAD <= sent_at <= due - MARGIN, "later cues keep the full push lead"


def test_a_pause_moves_every_later_cue_by_exactly_the_time_paused():
    session = new_session()
    session.start(T0, LEAD)
    before = run_until(session, T0 + 3_000)
    session.pause(T0 + 3_000)
    assert session.take_due(T0 + 10_000, LEAD, MARGIN) == ([], []), "nothing is sent while paused"
    session.resume(T0 + 5_345)
    after = run_until(session, T0 + 30_000, start=T0 + 5_345)
    assert session.shift_ms == 2_345
    for _, cue, due in after:
        assert due == session.started_at + cue["offset_ms"] + 2_345
    # Cues handed out before the pause but not yet due then are sent again, with their new due.
    position_at_pause = T0 + 3_000 - session.started_at
    resent = [cue["seq"] for _, cue, _ in before if cue["offset_ms"] > position_at_pause]
    assert resent and [cue["seq"] for _, cue, _ in after][: len(resent)] == resent
    assert [cue["seq"] for _, cue, _ in after][-1] == session.timeline[-1]["seq"]


def test_a_skip_starts_the_next_segment_one_lead_later_and_moves_later_cues_earlier():
    session = new_session()
    session.start(T0, LEAD)
    run_until(session, T0 + 2_000)
    now = T0 + 2_000  # 500 ms into the first segment
    session.skip(now, LEAD)
    sent = run_until(session, T0 + 30_000, start=now)
    first = sent[0][1]
    assert first["kind"] == "switch" and first["segment"] == 1, "the rest of the skipped segment is not said"
    assert sent[0][2] == now + LEAD
    for _, cue, due in sent:
        assert due == session.started_at + cue["offset_ms"] + session.shift_ms
    assert session.shift_ms == -(5_000 - LEAD - 500)


def test_skipping_when_the_next_segment_is_about_to_start_is_refused():
    session = new_session()
    session.start(T0, LEAD)
    with pytest.raises(WalkRefused) as refused:
        session.skip(session.started_at + 5_000 - LEAD + 1, LEAD)
    assert refused.value.code == "segment_ending"


def test_cues_whose_send_time_has_passed_are_never_sent_late():
    session = new_session()
    session.start(T0, LEAD)
    # The scheduler was held up for 3 s: the cues due in that time are missed, not sent late.
    ready, missed = session.take_due(session.started_at + 3_000, LEAD, MARGIN)
    now = session.started_at + 3_000
    assert missed and all(due - now < MARGIN for _, due in missed)
    assert all(due - now >= MARGIN for _, due in ready)


@pytest.mark.parametrize(
    "steps, control, code",
    [
        ([], "pause", "not_running"),
        ([], "resume", "not_paused"),
        ([], "skip", "not_started"),
        (["start"], "start", "already_started"),
        (["start"], "resume", "not_paused"),
        (["start", "pause"], "pause", "not_running"),
        (["start", "stop"], "pause", "finished"),
        (["start", "stop"], "resume", "finished"),
        (["start", "stop"], "stop", "finished"),
        (["stop"], "start", "finished"),
    ],
)
def test_controls_that_do_not_apply_are_refused_and_change_nothing(steps, control, code):
    session = new_session()
    for step in steps:
        session.apply(step, T0 + 100, LEAD)
    before = dict(session.__dict__)
    with pytest.raises(WalkRefused) as refused:
        session.apply(control, T0 + 200, LEAD)
    assert refused.value.code == code and refused.value.message
    assert session.__dict__ == before


# --- the summary -------------------------------------------------------------------------


def test_the_summary_of_a_completed_workout_counts_forward_and_backward_seconds():
    session = new_session()
    session.start(T0, LEAD)
    session.finish(session.end_at(), ENDED_COMPLETE)
    summary = session.summary
    assert (summary["forward_seconds"], summary["backward_seconds"], summary["rest_seconds"]) == (10.0, 5.0, 0.0)
    assert summary["duration_seconds"] == 15.0 and summary["ended_by"] == "complete"
    assert summary["segments_walked"] == [5.0, 5.0, 5.0] and summary["skipped_segments"] == []


def test_the_summary_counts_only_what_was_walked_after_pauses_skips_and_a_stop():
    session = new_session()
    session.start(T0, LEAD)
    start = session.started_at
    session.pause(start + 1_000)
    session.resume(start + 4_000)  # 3 s paused, 1 s walked in segment 0
    session.skip(start + 5_000, LEAD)  # 2 s walked in segment 0, then 1.5 s more until the switch
    session.stop(start + 5_000 + LEAD + 2_000)  # 2 s into the reverse segment
    summary = session.summary
    assert summary["segments_walked"] == [3.5, 2.0, 0.0]
    assert (summary["forward_seconds"], summary["backward_seconds"]) == (3.5, 2.0)
    assert summary["paused_seconds"] == 3.0
    assert summary["skipped_segments"] == [0]
    assert summary["duration_seconds"] == summary["walked_seconds"] + summary["paused_seconds"]
    assert summary["ended_by"] == "stopped"


def test_stopping_before_the_start_walks_nothing():
    session = new_session()
    session.stop(T0)
    assert session.summary["walked_seconds"] == 0 and session.summary["duration_seconds"] == 0


ops = st.lists(st.tuples(st.sampled_from(["pause", "resume", "skip", "wait"]), st.integers(10, 4_000)), max_size=12)


@settings(max_examples=40, deadline=None)
@given(ops)
def test_any_walk_plays_each_cue_once_in_order_never_late_and_sums_up(steps):
    """Whatever the walker presses, the phone plays cues in order, each once, and the summary adds up."""
    session = new_session((Segment("warmup", 5), Segment("reverse", 7), Segment("rest", 6), Segment("forward", 5)))
    session.start(T0, LEAD)
    now = T0
    scheduled: dict[int, int] = {}  # what the phone holds: seq -> due
    played: list[tuple[int, int]] = []

    def play_until(t):
        for seq, due in sorted(scheduled.items(), key=lambda item: item[1]):
            if due <= t:
                played.append((due, seq))
                del scheduled[seq]

    for op, wait in steps + [("resume", 10), ("wait", 40_000)]:
        for at, cue, due in run_until(session, now + wait, step=25, start=now):
            assert due - LEAD <= at <= due - MARGIN, "sent ahead of due, by at most the lead"
            play_until(at)
            scheduled[cue["seq"]] = due
        now += wait
        play_until(now)
        end = session.end_at()
        if end is not None and end <= now:
            session.finish(end, ENDED_COMPLETE)
        if session.state == FINISHED:
            break
        if op != "wait":
            try:
                session.apply(op, now, LEAD)
            except WalkRefused:
                continue
            # The phone's rule on every `state`: drop scheduled cues from next_seq on.
            next_seq = session.clock(now)["next_seq"]
            for seq in [s for s in scheduled if next_seq is None or s >= next_seq]:
                del scheduled[seq]
    seqs = [seq for _, seq in sorted(played)]
    assert seqs == sorted(set(seqs)), "each cue is played once, in order"
    assert seqs[-1] == session.timeline[-1]["seq"], "the workout always ends with its last cue"
    summary = session.summary
    assert summary["walked_seconds"] <= summary["planned_seconds"]
    assert (
        abs(
            summary["walked_seconds"]
            - summary["forward_seconds"]
            - summary["backward_seconds"]
            - summary["rest_seconds"]
        )
        < 0.25
    )
    assert abs(summary["duration_seconds"] - summary["walked_seconds"] - summary["paused_seconds"]) < 0.25


# --- the hub: persistence, broadcast and the scheduler -------------------------------------


class FakeWatcher:
    """A socket that records what it is sent, and what the database said when it was."""

    def __init__(self, store: sessions_store.SessionStore | None = None):
        self.messages: list[dict] = []
        self.stored_state: list[str | None] = []
        self.store = store
        self.open = True

    def deliver(self, text: str, not_after: int | None = None) -> bool:
        if not self.open:
            return False
        message = json.loads(text)
        self.messages.append(message)
        if self.store is not None and message["type"] in ("state", "finished"):
            row = self.store.conn.execute(
                "SELECT state FROM sessions WHERE id = ?", [message.get("session") or self.session_id]
            ).fetchone()
            self.stored_state.append(row[0])
        return True

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: int):
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def database(tmp_path):
    """A migrated database file and a stored session of three 5-second segments."""
    path = tmp_path / "retrowalk.db"
    conn = storage.connect(path)
    storage.migrate(conn)
    conn.execute("INSERT INTO devices (id, created_at) VALUES ('d1', 0)")
    session_id = sessions_store.insert_session(
        conn, device_id="d1", plan=PLAN, options={}, timeline=timeline_of(THREE_FIVES), now=T0
    )
    conn.close()
    return path, session_id


def make_hub(path, clock) -> LiveHub:
    """A hub on the database whose scheduler the test ticks by hand."""
    return LiveHub(sessions_store.SessionStore(str(path)), LEAD, MARGIN, max_pause_ms=60_000, clock=clock)


def tick_until(hub: LiveHub, clock: Clock, until: int, step: int = 10) -> None:
    """Move the clock forward, ticking the scheduler as its thread would."""
    while clock.now < until:
        clock.now += step
        hub.tick()


def test_every_socket_of_a_session_hears_hello_every_change_and_every_cue(database):
    path, session_id = database
    clock = Clock(T0)
    hub = make_hub(path, clock)
    phone, tablet = FakeWatcher(), FakeWatcher()
    hub.attach(session_id, phone)
    hub.attach(session_id, tablet)
    hub.control(session_id, "start")
    tick_until(hub, clock, T0 + 20_000)
    for watcher in (phone, tablet):
        assert watcher.messages[0]["type"] == "hello" and watcher.messages[0]["state"] == "ready"
        assert [m["seq"] for m in watcher.of_type("cue")] == list(range(len(timeline_of(THREE_FIVES))))
        assert [m["event"] for m in watcher.of_type("state")] == ["start", "complete"]
        assert watcher.of_type("finished")[0]["summary"]["backward_seconds"] == 5.0
    assert phone.messages == tablet.messages
    assert hub.metrics.cues_missed == 0


def test_changes_are_committed_before_any_socket_hears_of_them(database):
    path, session_id = database
    clock = Clock(T0)
    hub = make_hub(path, clock)
    watcher = FakeWatcher(sessions_store.SessionStore(str(path)))
    watcher.session_id = session_id
    hub.attach(session_id, watcher)
    for control in ("start", "pause", "resume"):
        hub.control(session_id, control)
        clock.now += 1000
    tick_until(hub, clock, T0 + 30_000)
    assert watcher.stored_state == ["running", "paused", "running", "finished", "finished"]
    assert [m["state"] for m in watcher.of_type("state")] == ["running", "paused", "running", "finished"]


def test_a_socket_that_joins_mid_workout_gets_the_cues_already_on_their_way(database):
    path, session_id = database
    clock = Clock(T0)
    hub = make_hub(path, clock)
    hub.attach(session_id, FakeWatcher())
    hub.control(session_id, "start")
    tick_until(hub, clock, T0 + 1_000)  # cue 0 went out, due at T0 + 1500
    late = FakeWatcher()
    hub.attach(session_id, late)
    assert late.messages[0]["type"] == "hello"
    assert late.messages[1]["type"] == "cue" and late.messages[1]["seq"] == 0
    assert late.messages[1]["due"] == T0 + LEAD


def test_after_a_restart_the_remaining_cues_keep_their_wall_clock_dues(database):
    path, session_id = database
    clock = Clock(T0)
    hub = make_hub(path, clock)
    before = FakeWatcher()
    hub.attach(session_id, before)
    hub.control(session_id, "start")
    tick_until(hub, clock, T0 + 3_000)
    planned = {m["seq"]: m["due"] for m in before.of_type("cue")}
    started_at = hub.sessions[session_id].started_at
    # The process dies; 2 s later a new one loads the same database.
    clock.now += 2_000
    reborn = make_hub(path, clock)
    assert reborn.restore() == 1
    after = FakeWatcher()
    reborn.attach(session_id, after)
    hello = after.messages[0]
    assert hello["state"] == "running" and hello["session"]["started_at"] == started_at
    tick_until(reborn, clock, T0 + 20_000)
    cues = after.of_type("cue")
    for cue in cues:
        assert cue["due"] == started_at + cue["offset_ms"]
        assert planned.get(cue["seq"], cue["due"]) == cue["due"]
    assert min(c["due"] for c in cues) > T0 + 5_000 - MARGIN, "nothing due while the server was down is sent"
    assert after.of_type("finished")[0]["summary"]["ended_by"] == "complete"
    reborn.stop()


def test_a_workout_whose_end_passed_while_the_server_was_down_is_finished_at_its_end(database):
    path, session_id = database
    clock = Clock(T0)
    hub = make_hub(path, clock)
    hub.control(session_id, "start")
    clock.now += 60_000
    reborn = make_hub(path, clock)
    assert reborn.restore() == 0
    row = reborn.store.load(session_id)
    assert row.state == "finished" and row.ended_by == "complete"
    assert row.finished_at == T0 + LEAD + 15_000
    assert row.summary["walked_seconds"] == 15.0


def test_a_paused_workout_survives_a_restart_and_is_stopped_after_the_longest_pause(database):
    path, session_id = database
    clock = Clock(T0)
    hub = make_hub(path, clock)
    hub.control(session_id, "start")
    clock.now += 3_000
    hub.control(session_id, "pause")
    reborn = make_hub(path, clock)
    assert reborn.restore() == 1
    assert reborn.sessions[session_id].state == "paused"
    tick_until(reborn, clock, T0 + 3_000 + 60_000 + 100, step=500)
    stopped = reborn.store.load(session_id)
    assert stopped.state == "finished" and stopped.ended_by == "stopped"
    assert stopped.summary["paused_seconds"] == 60.0


def test_a_change_that_cannot_be_stored_is_not_applied_nor_broadcast(database, monkeypatch):
    path, session_id = database
    clock = Clock(T0)
    hub = make_hub(path, clock)
    watcher = FakeWatcher()
    hub.attach(session_id, watcher)

    def broken(session, event):
        raise OSError("disk full")

    monkeypatch.setattr(hub.store, "record", broken)
    with pytest.raises(OSError):
        hub.control(session_id, "start")
    assert hub.sessions[session_id].state == "ready" and hub.sessions[session_id].started_at is None
    assert watcher.of_type("state") == []


def test_an_unknown_session_is_gone(database):
    path, _ = database
    hub = make_hub(path, Clock(T0))
    with pytest.raises(SessionGone):
        hub.attach("nope", FakeWatcher())
    assert hub.owner("nope") is None


@pytest.mark.parametrize("control", ["start", "skip"])
def test_a_start_or_skip_sends_the_cue_it_makes_due_with_its_state_not_at_the_schedulers_next_turn(database, control):
    # That cue is due one start lead (500 ms) after the tap: a scheduler behind by that much would make it late.
    path, session_id = database
    clock = Clock(T0)
    hub = LiveHub(sessions_store.SessionStore(str(path)), LEAD, MARGIN, clock=clock, start_lead_ms=START_LEAD)
    phone = FakeWatcher()
    hub.attach(session_id, phone)
    if control == "skip":
        hub.control(session_id, "start")
        tick_until(hub, clock, T0 + 2_000)
    hub.stop()  # no scheduler from here on: whatever the phone hears next, the control itself sent
    heard = len(phone.messages)
    tapped = clock.now
    hub.control(session_id, control)
    state, cue = phone.messages[heard : heard + 2]
    assert (state["type"], state["event"], cue["type"]) == ("state", control, "cue")
    assert cue["due"] == tapped + START_LEAD, "the cue that opens the (next) segment, due one start lead after the tap"
    assert cue["segment"] == (0 if control == "start" else 1)


def test_before_a_full_collection_every_cue_due_in_its_pause_goes_out_ahead_and_each_cue_once(database):
    path, session_id = database
    clock = Clock(T0)
    hub = LiveHub(
        sessions_store.SessionStore(str(path)), LEAD, MARGIN, max_pause_ms=60_000, clock=clock, full_gc_every_ms=60_000
    )
    phone = FakeWatcher()
    hub.attach(session_id, phone)
    hub.control(session_id, "start")
    hub.collect_garbage()
    # The walker's phone already holds every cue due before the collection could end.
    horizon = T0 + LEAD + scheduler.GC_HEADROOM_MS
    timeline = timeline_of(THREE_FIVES)
    expected_ahead = [c["seq"] for c in timeline if hub.sessions[session_id].started_at + c["offset_ms"] <= horizon]
    assert [m["seq"] for m in phone.of_type("cue")] == expected_ahead and len(expected_ahead) < len(timeline)
    assert hub.metrics.gc_scheduled_full == 1
    tick_until(hub, clock, T0 + 20_000)
    assert [m["seq"] for m in phone.of_type("cue")] == [c["seq"] for c in timeline], "every cue once, in order"
    assert hub.metrics.cues_missed == 0
    hub.stop()


def test_an_instance_makes_ids_of_its_shard_and_brings_back_only_its_own_walks_after_a_restart(tmp_path, monkeypatch):
    path = tmp_path / "retrowalk.db"
    conn = storage.connect(path)
    storage.migrate(conn)
    conn.execute("INSERT INTO devices (id, created_at) VALUES ('d1', 0)")
    walks = {}
    for shard in ("a", "b"):
        monkeypatch.setattr(sessions_store, "_shard", "")
        sessions_store.set_shard(shard)
        walks[shard] = sessions_store.insert_session(
            conn, device_id="d1", plan=PLAN, options={}, timeline=timeline_of(THREE_FIVES), now=T0
        )
    conn.close()
    assert walks["a"].startswith("a") and walks["b"].startswith("b")
    clock = Clock(T0)
    hub = make_hub(path, clock)
    for session_id in walks.values():
        hub.control(session_id, "start")
    sessions_store.set_shard("a")
    again = make_hub(path, clock)
    assert again.restore() == 1 and set(again.sessions) == {walks["a"]}, "b's walk is b's instance's to run"
    with pytest.raises(ValueError):
        sessions_store.set_shard("a/b")
    sessions_store.set_shard("")
