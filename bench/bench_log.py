"""Write-ahead log benchmark: how often an ordinary commit starts the log afresh, with and without the hold.

A commit that starts SQLite's write-ahead log afresh flushes the new log's header to disk with
the gevent worker stopped, at whatever moment it comes (a walk's start, its first cue 500 ms
away). With the Checkpointer thread copying every 5 s, the next commit after any copy that no
commit interrupted did that. This drives the live hub's store as the scheduler does, without a
server: commits at a steady rate from this thread, the Checkpointer's own thread, and every 2 s
a look (the catch-up past 4 MB, and the hold on the log moved on). It prints how many times the
log started afresh in an ordinary commit (its header's checkpoint sequence number moved) and
in the catch-ups, and the slowest of each.

    python bench/bench_log.py                  # 60 s, held (as the server does)
    python bench/bench_log.py --no-hold        # the same without the hold, to compare
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import db  # noqa: E402
from server.clock import MS_PER_S  # noqa: E402
from server.sessions.scheduler import LOG_CHECK_EVERY_MS  # noqa: E402
from server.sessions.store import SessionStore  # noqa: E402

DEFAULT_SECONDS = 60.0
DEFAULT_COMMITS_PER_S = 40
ROW_BYTES = 3_000  # a commit of about a page, as a walk's event and state are


def log_starts(path: Path) -> int:
    """How many times the log has started afresh: its header's checkpoint sequence number (SQLite's file format)."""
    with open(f"{path}-wal", "rb") as wal:
        return struct.unpack(">I", wal.read(16)[12:16])[0]


def run(seconds: float, commits_per_s: int, hold: bool, workdir: Path) -> dict:
    """One run; returns its figures."""
    path = workdir / db.DATABASE_FILE
    setup = db.connect(path)
    db.migrate(setup)
    setup.execute("CREATE TABLE ballast (b BLOB)")
    setup.close()
    copier = db.Checkpointer(path).start()
    store = SessionStore(str(path))
    walker = db.connect(path).conn
    walker.execute("INSERT INTO ballast VALUES (?)", [b"\1" * ROW_BYTES])
    figures = {
        "commits": 0,
        "ordinary": 0,
        "ordinary_max_ms": 0.0,
        "catch_ups": 0,
        "deferred": 0,
        "catch_up_max_ms": 0.0,
    }
    started = time.monotonic()
    next_look = started + LOG_CHECK_EVERY_MS / MS_PER_S
    seen = log_starts(path)
    while time.monotonic() - started < seconds:
        began = time.perf_counter()
        walker.execute("INSERT INTO ballast VALUES (?)", [b"\1" * ROW_BYTES])
        took_ms = (time.perf_counter() - began) * MS_PER_S
        figures["commits"] += 1
        if log_starts(path) != seen:
            figures["ordinary"] += 1
            figures["ordinary_max_ms"] = max(figures["ordinary_max_ms"], took_ms)
        if time.monotonic() >= next_look:
            next_look += LOG_CHECK_EVERY_MS / MS_PER_S
            if store.log_needs_catch_up():
                began = time.perf_counter()
                done = store.catch_up_log()
                figures["catch_up_max_ms"] = max(figures["catch_up_max_ms"], (time.perf_counter() - began) * MS_PER_S)
                figures["catch_ups" if done else "deferred"] += 1
            if hold:
                store.hold_log()
        seen = log_starts(path)
        time.sleep(max(0.0, started + figures["commits"] / commits_per_s - time.monotonic()))
    copier.stop()
    figures.update(thread_pages=copier.pages_copied, log_mb=db.log_bytes(path) / 2**20)
    walker.close()
    store.close()
    return figures


def main() -> int:
    """Parse the options, run once, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="how long the run lasts")
    parser.add_argument("--rate", type=int, default=DEFAULT_COMMITS_PER_S, help="commits a second")
    parser.add_argument("--no-hold", action="store_true", help="without the hold on the log (as before it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="retrowalk-log-") as tmp:
        f = run(args.seconds, args.rate, not args.no_hold, Path(tmp))
    print(
        f"{f['commits']:,} commits in {args.seconds:g} s, {'not held' if args.no_hold else 'held'}: the log "
        f"started afresh in {f['ordinary']} ordinary commits (slowest {f['ordinary_max_ms']:.0f} ms) and in "
        f"{f['catch_ups']} catch-ups (slowest {f['catch_up_max_ms']:.0f} ms, {f['deferred']} put off); "
        f"the thread copied {f['thread_pages']:,} pages; log {f['log_mb']:.1f} MB at the end"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
