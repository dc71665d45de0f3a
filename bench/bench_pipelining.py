"""Does one client's pipelined burst hold up another walker's cues?

Starts a real `retrowalk serve --offline`, has one walker walk a plan of 5-second segments
with a 3-second countdown (a cue about every second), and meanwhile opens `--connections`
keep-alive connections that each write `--requests` pipelined `GET /api/plans` at once and
read every answer. Prints, before and during the burst: the scheduler's worst lag
(/api/live/metrics), the walker's smallest cue lead (due minus arrival; the server sends a
cue 1.5 s ahead, so a stall shows as a smaller lead), late cues, how many requests were
answered, and how long the burst took.

    python bench/bench_pipelining.py                          # 1 connection x 3,000 requests
    python bench/bench_pipelining.py --connections 20
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_capacity import Server, plan_segments  # noqa: E402

SEGMENTS = 24  # two minutes of 5-second segments: longer than any burst
COUNTDOWN = 3
READ_CHUNK = 1 << 16
BURST_TIMEOUT_S = 300


def now_ms() -> int:
    """This machine's clock, which is also the server's."""
    return int(time.time() * 1000)


class Walker(threading.Thread):
    """One walker's socket: start the workout, note every cue's lead (due minus arrival)."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        device = requests.Session()
        plan = device.post(
            server.url + "/api/plans", json={"name": "Bench", "segments": plan_segments(SEGMENTS)}, timeout=60
        ).json()
        body = device.post(
            server.url + "/api/sessions", json={"plan_id": plan["id"], "options": {"countdown": COUNTDOWN}}, timeout=120
        ).json()
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in device.cookies)
        self.url = server.ws_url + body["ws"]
        self.leads: list[tuple[int, int]] = []  # (arrival, lead)
        self.stop = False

    def run(self) -> None:
        with connect(self.url, additional_headers={"Cookie": self.cookie}) as ws:
            ws.send(json.dumps({"type": "start"}))
            while not self.stop:
                try:
                    message = json.loads(ws.recv(timeout=1))
                except TimeoutError:
                    continue
                if message["type"] == "cue":
                    arrived = now_ms()
                    self.leads.append((arrived, message["due"] - arrived))
                if message["type"] == "finished":
                    return

    def min_lead(self, since: int, until: int) -> int | None:
        """The smallest lead of the cues that arrived in [since, until]."""
        leads = [lead for at, lead in self.leads if since <= at <= until]
        return min(leads) if leads else None

    def late(self, since: int, until: int) -> int:
        """Cues that arrived after their due in [since, until]."""
        return sum(1 for at, lead in self.leads if since <= at <= until and lead < 0)


def pipelined_burst(port: int, cookie: str, count: int, answered: list[int]) -> None:
    """Write `count` GET /api/plans at once on one connection and read until every answer came (or it closed)."""
    request = f"GET /api/plans HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.settimeout(BURST_TIMEOUT_S)
        sender = threading.Thread(target=conn.sendall, args=(request * count,), daemon=True)
        sender.start()
        seen, tail = 0, b""
        while seen < count:
            try:
                data = conn.recv(READ_CHUNK)
            except OSError:
                break
            if not data:
                break
            chunk = tail + data
            seen += chunk.count(b"HTTP/1.1 ")
            tail = chunk[-8:]
            seen -= tail.count(b"HTTP/1.1 ")  # counted again with the next chunk
        seen += tail.count(b"HTTP/1.1 ")
        answered.append(seen)


def main() -> None:
    """Measure scheduler lag and a walker's cue leads before and during pipelined bursts."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), Path(tmp) / "audio").start()
        try:
            walker = Walker(server)
            cookie = walker.cookie
            walker.start()
            time.sleep(8)  # the walk under way, cues coming
            quiet_from, quiet_lag = now_ms() - 6000, server.metrics()["scheduler_lag_max_ms"]
            quiet_lead = walker.min_lead(quiet_from, now_ms())
            answered: list[int] = []
            started, began = time.monotonic(), now_ms()
            bursts = [
                threading.Thread(target=pipelined_burst, args=(server.port, cookie, args.requests, answered))
                for _ in range(args.connections)
            ]
            for burst in bursts:
                burst.start()
            for burst in bursts:
                burst.join()
            took, ended = time.monotonic() - started, now_ms()
            time.sleep(2)  # cues sent during the burst arrive
            metrics = server.metrics()
            walker.stop = True
            print(f"{args.connections} connection(s) x {args.requests} pipelined GET /api/plans")
            print(f"  answered: {sum(answered)} of {args.connections * args.requests} in {took:.2f} s")
            print(f"  before: scheduler lag max {quiet_lag} ms, min cue lead {quiet_lead} ms")
            print(
                f"  during: scheduler lag max {metrics['scheduler_lag_max_ms']} ms, "
                f"min cue lead {walker.min_lead(began, ended + 2000)} ms, "
                f"late cues {walker.late(began, ended + 2000)}, "
                f"cues missed {metrics['cues_missed']}, dropped late {metrics['cues_dropped_late']}"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
