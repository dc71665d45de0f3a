"""The write-ahead log stays within its limit, copied off the worker, with no cue held up by its upkeep."""

from __future__ import annotations

import struct
import threading
import time

import pytest
import requests

from server import create_app, db
from server.cues import CueOptions, compile_timeline, needed_phrases
from server.plans import Plan, Segment
from server.sessions import scheduler
from server.sessions import store as sessions_store
from server.sessions.hub import LiveHub
from test_storage_bounds import Phone

LEAD = 1500
MARGIN = 50
START_LEAD = 500
T0 = 1_800_000_000_000  # an arbitrary epoch ms, so every time below is exact
PLAN = Plan("my-test", "Three fives", (Segment("forward", 5), Segment("reverse", 5), Segment("forward", 5)))

# A commit of this much fills about a page of the log; rounds of commits between two looks of the scheduler.
ROW_BYTES = 4_000
COMMITS_PER_ROUND = 100
ROUNDS = 40  # about 5 pages a commit: some 20 MB of log if nothing started it afresh
# The Checkpointer's thread copies this often, so it is mid-copy at many of the scheduler's looks.
COPY_EVERY_S = 0.01
# Looks (each a poll of 1 ms) a round may take before a catch-up gets in between the thread's copies.
MAX_LOOKS = 5_000
POLL_S = 0.001
# Generous: the limit plus a round of commits, with room to spare.
LOG_BOUND = 2 * db.LOG_LIMIT_BYTES
# Generous: the scheduler's own thread looks every 2 s, but the machine may be loaded.
WAIT_S = 30


def migrated(tmp_path):
    """A migrated database file with a ready session of three 5-second segments; (path, session id)."""
    path = tmp_path / "retrowalk.db"
    conn = db.connect(path)
    db.migrate(conn)
    conn.execute("INSERT INTO devices (id, created_at) VALUES ('d1', 0)")
    spoken = {text: 400 for text in needed_phrases(PLAN.segments, CueOptions())}
    timeline = [
        {**cue.to_dict(), "audio": f"/audio/{cue.seq}.mp3"}
        for cue in compile_timeline(PLAN.segments, CueOptions(), spoken)
    ]
    session_id = sessions_store.insert_session(conn, device_id="d1", plan=PLAN, options={}, timeline=timeline, now=T0)
    conn.close()
    return path, session_id


def log_starts(path) -> int:
    """How many times the log has started afresh: its header's checkpoint sequence number (SQLite's file format)."""
    with open(f"{path}-wal", "rb") as wal:
        return struct.unpack(">I", wal.read(16)[12:16])[0]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: int):
        self.now = now

    def __call__(self) -> int:
        return self.now


def hub_ticked_by_hand(path, clock: Clock, **options) -> LiveHub:
    """A hub on the database whose first wake-ups are in its heap, its thread already stopped: the test ticks it."""
    hub = LiveHub(
        sessions_store.SessionStore(str(path)), LEAD, MARGIN, clock=clock, start_lead_ms=START_LEAD, **options
    )
    hub.start()
    hub.stop()
    return hub


def test_when_the_log_starts_afresh_its_file_is_cut_back_to_the_limit(tmp_path):
    # SQLite alone (no Checkpointer: tests, the dev server): a big transaction's log is copied by
    # the commit, the next commit starts the log afresh, and the file shrinks with it.
    path = tmp_path / "r.db"
    writer = db.connect(path)
    db.migrate(writer)
    writer.execute("CREATE TABLE ballast (b BLOB)")
    writer.execute("BEGIN")
    writer.conn.executemany("INSERT INTO ballast VALUES (?)", [(b"\0" * ROW_BYTES,) for _ in range(2_000)])
    writer.execute("COMMIT")
    assert db.log_bytes(path) > db.LOG_LIMIT_BYTES
    writer.execute("INSERT INTO devices (id, created_at) VALUES ('d1', 0)")
    assert db.log_bytes(path) <= db.LOG_LIMIT_BYTES
    writer.close()


def test_under_continuous_commits_the_schedulers_upkeep_keeps_the_log_within_its_limit(tmp_path):
    # Under `retrowalk serve` a thread copies the log and the worker commits all the time: some
    # commit always landed during the copy, the log never started afresh, and it grew without end.
    path, _ = migrated(tmp_path)
    copier = db.Checkpointer(path, every_s=COPY_EVERY_S).start()
    try:
        clock = Clock(T0)
        hub = hub_ticked_by_hand(path, clock, full_gc_every_ms=None)  # the log's upkeep does not need the collector's
        walker = db.connect(path)  # a request's connection: it commits, never copies
        walker.execute("CREATE TABLE ballast (b BLOB)")
        largest = 0
        for _ in range(ROUNDS):
            for _ in range(COMMITS_PER_ROUND):
                walker.execute("INSERT INTO ballast VALUES (?)", [b"\1" * ROW_BYTES])
            largest = max(largest, db.log_bytes(path))
            caught_up = hub.metrics.log_catch_ups
            for _ in range(MAX_LOOKS):  # the scheduler's looks, each LOG_CHECK_EVERY_MS after the last
                clock.now += scheduler.LOG_CHECK_EVERY_MS
                hub.tick()
                if db.log_bytes(path) <= db.LOG_LIMIT_BYTES:
                    break  # within the limit: the look asks for no pause
                hub.upkeep()
                if hub.metrics.log_catch_ups > caught_up:
                    break
                time.sleep(POLL_S)  # the thread was mid-copy: it finishes, and the next look tries again
        walker.close()
        assert largest <= LOG_BOUND, f"the log reached {largest / 2**20:.1f} MB"
        assert copier.pages_copied > 0 and copier.failures == 0, "the thread still makes the bulk of the copies"
        assert hub.metrics.log_catch_ups >= 1
        assert db.log_bytes(path) <= LOG_BOUND
        assert hub.metrics.log_bytes_last <= db.LOG_LIMIT_BYTES, "each catch-up cuts the file back to the limit"
    finally:
        copier.stop()


def test_a_full_collections_pause_catches_the_log_up_too(tmp_path):
    path, _ = migrated(tmp_path)
    copier = db.Checkpointer(path).take_over()  # its thread not started: nothing copied yet
    try:
        hub = hub_ticked_by_hand(path, Clock(T0), full_gc_every_ms=60_000)
        walker = db.connect(path)
        walker.execute("CREATE TABLE ballast (b BLOB)")
        while db.log_bytes(path) <= db.LOG_LIMIT_BYTES:
            walker.execute("INSERT INTO ballast VALUES (?)", [b"\1" * ROW_BYTES])
        hub.collect_garbage()  # the log is past its limit when the collection comes: its pause catches it up
        assert hub.metrics.log_catch_ups == 1 and hub.metrics.gc_scheduled_full == 1
        assert db.log_bytes(path) <= db.LOG_LIMIT_BYTES
        walker.close()
    finally:
        copier.stop()


def test_a_start_tapped_during_the_catch_up_takes_its_time_after_it(tmp_path, monkeypatch):
    # The catch-up flushes the disk with the worker stopped; a start that came meanwhile must
    # still have its first cue due a whole start lead after the moment it is applied.
    path, session_id = migrated(tmp_path)
    copier = db.Checkpointer(path).take_over()
    try:
        clock = Clock(T0)
        hub = hub_ticked_by_hand(path, clock)
        phone = Phone()
        hub.attach(session_id, phone)
        hub.stop()
        catch_up_ms = 1_000
        tapped = threading.Event()
        walker = threading.Thread(target=lambda: (tapped.set(), hub.control(session_id, "start")))

        def slow_catch_up() -> bool:
            """A catch-up during which the walker taps Start, and which takes a second."""
            walker.start()
            tapped.wait()
            walker.join(timeout=0.2)  # the tap waits for the pause to end (or has not come yet)
            clock.now += catch_up_ms
            return True

        monkeypatch.setattr(hub.store, "catch_up_log", slow_catch_up)
        hub.catch_up_log()
        walker.join()
        cue = next(m for m in phone.messages if m["type"] == "cue")
        assert hub.metrics.log_catch_ups == 1
        assert cue["due"] == T0 + catch_up_ms + START_LEAD, "the first cue keeps its whole start lead"
    finally:
        copier.stop()


def test_under_serve_the_log_is_caught_up_before_any_walk_starts_the_scheduler(tmp_path):
    # `retrowalk serve` turns the Checkpointer on; the scheduler that catches the log up used to
    # start with the first socket, and HTTP writes alone could grow the log without end.
    app = create_app(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "AUDIO_CACHE": str(tmp_path / "audio"),
            "GTTS_ENABLED": False,
            "WAL_CHECKPOINT_EVERY_S": db.CHECKPOINT_EVERY_S,
        }
    )
    hub = app.extensions["live"]
    try:
        path = app.config["DATABASE"]
        writer = db.connect(path)
        writer.execute("CREATE TABLE ballast (b BLOB)")
        writer.execute("BEGIN")
        writer.conn.executemany("INSERT INTO ballast VALUES (?)", [(b"\1" * ROW_BYTES,) for _ in range(2_000)])
        writer.execute("COMMIT")
        assert db.log_bytes(path) > db.LOG_LIMIT_BYTES
        deadline = time.monotonic() + WAIT_S
        while hub.metrics.log_catch_ups == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert hub.metrics.log_catch_ups >= 1
        assert db.log_bytes(path) <= db.LOG_LIMIT_BYTES
        writer.close()
    finally:
        hub.stop()
        app.extensions["checkpointer"].stop()


@pytest.mark.parametrize("held", [True, False], ids=["held by the scheduler", "not held"])
def test_with_the_log_held_no_ordinary_commit_starts_it_afresh_only_the_catch_up_does(tmp_path, held):
    # The commit that starts the log afresh flushes its new header to disk with the worker
    # stopped: after any copy by the thread that no commit interrupted, the next commit (a
    # walk's start, say) did that; held, only the catch-up does, in its pause.
    path, _ = migrated(tmp_path)
    copier = db.Checkpointer(path).take_over()  # copies only when the test says
    try:
        store = sessions_store.SessionStore(str(path))
        walker, thread = db.connect(path), db.connect(path)
        walker.execute("CREATE TABLE ballast (b BLOB)")
        walker.execute("INSERT INTO ballast VALUES (?)", [b"\1" * ROW_BYTES])
        if held:
            store.hold_log()  # as the scheduler's look does
        started = log_starts(path)
        copier.run_once(thread)  # a whole copy: nothing committed during it
        walker.execute("INSERT INTO ballast VALUES (?)", [b"\1" * ROW_BYTES])
        assert (log_starts(path) == started) is held
        if held:
            assert store.catch_up_log()
            assert log_starts(path) == started + 1, "the catch-up starts it afresh"
            copier.run_once(thread)
            walker.execute("INSERT INTO ballast VALUES (?)", [b"\1" * ROW_BYTES])
            assert log_starts(path) == started + 1, "and holds the log again after"
        walker.close()
        thread.close()
        store.close()
    finally:
        copier.stop()


def test_an_operator_sees_the_logs_catch_ups_in_the_live_metrics(server):
    metrics = requests.get(server.url + "/api/live/metrics", timeout=10).json()
    for figure in ("log_catch_ups", "log_catch_ups_deferred", "log_catch_up_max_ms", "log_bytes_last"):
        assert isinstance(metrics[figure], (int, float)), figure
