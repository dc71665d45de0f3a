"""Soak benchmark: honest walkers keep walking for minutes while hostile clients attack the same server.

Longer than 450 lines: the honest walkers and each kind of attacker share one server and one tally,
and the verdict reads them together; split, no part would run on its own.

Starts a real `retrowalk serve --offline` (one gevent worker), then:

- honest walkers (default 500, in processes of up to 250): each has its own device and plan and
  walks one-minute workouts back to back for the whole run: create a session, open its
  websocket, start, note how early every cue arrives (its due minus when it came), until
  `finished`, then the next one. They come from addresses 127.0.1.x (WALKERS_PER_ADDRESS each),
  as walkers in a gym come from their own phones, so per-address limits meant for a flood do
  not fall on them.
- hostile clients, from 127.0.2.x: keep-alive HTTP floods, pipelined bursts of requests on one
  connection, malformed HTTP, websockets sending junk frames (binary, broken and deeply nested
  JSON, over-long text), pause/resume floods on a started session, and websocket
  connect/disconnect churn.

It prints late cues (target 0), the minimum lead (target >= 250 ms), the worker's RSS after the
warm-up and at the end (target: within 10 %), and every 5xx anyone saw (target 0), and exits 0
when all four hold.

    python bench/bench_soak.py                        # 500 walkers for 10 minutes (the target)
    python bench/bench_soak.py --walkers 200 --minutes 2
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import multiprocessing as mp
import os
import random
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_capacity import Server, plan_segments  # noqa: E402

DEFAULT_WALKERS = 500
DEFAULT_MINUTES = 10.0
TARGET_LATE = 0
TARGET_MIN_LEAD_MS = 250
TARGET_RSS_GROWTH = 0.10
WORKOUT_SEGMENTS = 12  # 5-second segments: one-minute workouts, so sessions come and go all run long
WALKERS_PER_PROCESS = 250
WALKERS_PER_ADDRESS = 20
SETUP_THREADS = 8
CONNECTS_IN_FLIGHT = 32
# Walkers press Start for the first time spread over this long (then back to back).
START_SPREAD_S = 20.0
# RSS "at start" is read once every walker is walking and the attack is on.
WARMUP_S = 30.0
SAMPLE_EVERY_S = 5.0
# How often each walker process checks its own event loop's lag (a late wake-up delays every cue it reads).
LAG_PROBE_S = 0.02
# A wake-up this late is kept with its time, to tell a short lead the walker's own delay explains.
LAG_KEEP_MS = 20
SETUP_TIMEOUT_S = 600
WAIT_S = 30
# A walker whose session could not be made (a 429, a hiccup) tries again after this long.
RETRY_PAUSE_S = 2.0
HOSTILE_ADDRESS_BASE = "127.0.2."
HONEST_ADDRESS_BASE = "127.0.1."
# The attack's shape: how many of each hostile client run at once.
FLOODERS = 4
PIPELINERS = 2
PIPELINE_DEPTH = 300
JUNK_SOCKETS = 4
CONTROL_FLOODERS = 2
CHURNERS = 4
MALFORMED_HTTP = 1
OVERSIZE_TEXT = "x" * 6000
DEEP_JSON = "[" * 5000 + "]" * 5000
JUNK_FRAMES = [
    b"\x00\xff binary",
    "not json",
    DEEP_JSON,
    OVERSIZE_TEXT,
    '{"type":"fly"}',
    "[]",
    '{"type":"ping","t":NaN}',
    '{"type":"pause","at":1e400}',
    '{"type":"start\\ud800"}',
]
MALFORMED_REQUESTS = [
    b"GARBAGE / HTTP/9.9\r\n\r\n",
    b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /api/plans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999\r\n\r\n{",
    b"GET /api/plans HTTP/1.1\r\nHost: x\r\n" + b"X-Junk: " + b"y" * 10000 + b"\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello to a plain-http port
]
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


class SourceAddressAdapter(HTTPAdapter):
    """Requests from one local address, so the server sees a walker's own phone address."""

    def __init__(self, address: str):
        """An adapter whose connections start at `address`."""
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        """Bind every connection of the pool to the address."""
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def http_from(address: str) -> requests.Session:
    """A requests session (a device, once it has its cookie) whose connections come from `address`."""
    session = requests.Session()
    adapter = SourceAddressAdapter(address)
    session.mount("http://", adapter)
    return session


def cookie_of(session: requests.Session) -> str:
    """A session's cookies as a Cookie header."""
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


@dataclass
class Tally:
    """What one process saw; added up at the end."""

    workouts: int = 0
    workouts_finished: int = 0
    cues: int = 0
    late: int = 0
    unsent: int = 0  # cues due during the run that never came (the server missed or dropped them)
    min_lead_ms: int | None = None
    # The first cue after a Start is due only START_LEAD_MS (500 ms) after it, the others a push lead (1.5 s): apart.
    first_min_lead_ms: int | None = None
    loop_lag_max_ms: float = 0.0  # the walkers' own event loop, late by this much at worst: it counts in their leads
    # Each stretch the loop was blocked (woke at epoch s, blocked ms); each cue read with a short lead (at, lead ms).
    loop_lags: list[tuple[float, float]] = field(default_factory=list)
    short_cues: list[tuple[float, int]] = field(default_factory=list)
    short: int = 0  # cues read with under TARGET_MIN_LEAD_MS of lead...
    short_explained: int = 0  # ...of which the walker's own blocked loop took the rest
    http_statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0  # 5xx statuses and `internal` socket errors
    socket_drops: int = 0  # an honest socket closed by the server before `finished`
    errors: list[str] = field(default_factory=list)
    hostile: Counter = field(default_factory=Counter)

    def status(self, code: int) -> None:
        """Count an HTTP status."""
        self.http_statuses[code // 100 * 100] += 1
        if code >= 500:
            self.server_errors += 1

    def lead(self, lead_ms: int, first: bool = False) -> None:
        """Count one cue and how early it came (`first`: the first after a Start)."""
        self.cues += 1
        if lead_ms < 0:
            self.late += 1
        self.min_lead_ms = _least(self.min_lead_ms, lead_ms)
        if lead_ms < TARGET_MIN_LEAD_MS:
            self.short_cues.append((time.time(), lead_ms))
        if first:
            self.first_min_lead_ms = _least(self.first_min_lead_ms, lead_ms)

    def client_delay_ms(self, read_at: float) -> float:
        """How long a message read at `read_at` may have waited on this process's blocked loop (0: not blocked)."""
        # Stretches are kept in order and never overlap: the first to end after the read is the one.
        index = bisect.bisect_left(self.loop_lags, (read_at, 0.0))
        if index == len(self.loop_lags):
            return 0.0
        woke, lag_ms = self.loop_lags[index]
        began = woke - lag_ms / 1000
        return (read_at - began) * 1000 if began <= read_at else 0.0

    def count_short(self) -> None:
        """Count the short leads, and those this process's own delay explains (as bench_capacity does)."""
        self.short = len(self.short_cues)
        self.short_explained = sum(
            1 for read_at, lead in self.short_cues if lead + self.client_delay_ms(read_at) >= TARGET_MIN_LEAD_MS
        )

    def add(self, other: Tally) -> None:
        """Add another process's figures to these."""
        for name in (
            "workouts",
            "workouts_finished",
            "cues",
            "late",
            "unsent",
            "server_errors",
            "socket_drops",
            "short",
            "short_explained",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.min_lead_ms = _least(self.min_lead_ms, other.min_lead_ms)
        self.first_min_lead_ms = _least(self.first_min_lead_ms, other.first_min_lead_ms)
        self.loop_lag_max_ms = max(self.loop_lag_max_ms, other.loop_lag_max_ms)
        self.http_statuses.update(other.http_statuses)
        self.hostile.update(other.hostile)
        self.errors.extend(other.errors[:20])


def _least(a: int | None, b: int | None) -> int | None:
    """The smaller of two figures, either of which may be missing."""
    return b if a is None else a if b is None else min(a, b)


def retry_after(response: requests.Response) -> float:
    """How long a 429 asks to wait (a short pause when it does not say)."""
    try:
        return max(float(response.headers.get("Retry-After", RETRY_PAUSE_S)), 0.1)
    except ValueError:
        return RETRY_PAUSE_S


# --- honest walkers ---------------------------------------------------------------------------


def make_walker(base_url: str, address: str, segments: list[dict], tally: Tally) -> tuple[requests.Session, str] | None:
    """A device from `address` with a plan of its own: (its HTTP session, the plan's id)."""
    device = http_from(address)
    for _ in range(20):
        response = device.post(base_url + "/api/plans", json={"name": "Soak", "segments": segments}, timeout=120)
        tally.status(response.status_code)
        if response.status_code == 201:
            return device, response.json()["id"]
        if response.status_code != 429:
            tally.errors.append(f"plan {response.status_code}: {response.text[:100]}")
            return None
        time.sleep(retry_after(response))
    return None


def new_session(device: requests.Session, base_url: str, plan_id: str, tally: Tally) -> dict | None:
    """Create a session for the next workout (None: refused, counted)."""
    try:
        response = device.post(base_url + "/api/sessions", json={"plan_id": plan_id}, timeout=120)
    except requests.RequestException as exc:
        tally.errors.append(f"session {type(exc).__name__}")
        return None
    tally.status(response.status_code)
    if response.status_code == 201:
        return response.json()
    if response.status_code != 429:
        tally.errors.append(f"session {response.status_code}: {response.text[:100]}")
    time.sleep(retry_after(response) if response.status_code == 429 else RETRY_PAUSE_S)
    return None


async def walk_until(
    ws_base: str, walker, address: str, deadline: float, tally: Tally, gate: asyncio.Semaphore, base_url: str
) -> None:
    """One walker: one-minute workouts back to back until the deadline."""
    device, plan_id = walker
    await asyncio.sleep(random.uniform(0, START_SPREAD_S))
    while time.time() < deadline:
        session = await asyncio.to_thread(new_session, device, base_url, plan_id, tally)
        if session is None:
            continue
        tally.workouts += 1
        finished = False
        started_at, seen = None, set()
        try:
            async with gate:
                ws = await connect(
                    ws_base + session["ws"],
                    additional_headers={"Cookie": cookie_of(device)},
                    open_timeout=WAIT_S,
                    ping_interval=None,
                    close_timeout=5,
                    max_size=None,
                    local_addr=(address, 0),
                )
            async with ws:
                hello = json.loads(await ws.recv())
                if hello["type"] != "hello":
                    raise RuntimeError(f"first message was {hello['type']}")
                await ws.send('{"type":"start"}')
                while time.time() < deadline:
                    raw = await asyncio.wait_for(ws.recv(), timeout=max(deadline - time.time(), 0.1))
                    received = time.time() * 1000
                    message = json.loads(raw)
                    if message["type"] == "cue":
                        tally.lead(int(message["due"] - received), first=not seen)
                        seen.add(message["seq"])
                    elif message["type"] == "state" and message.get("started_at") is not None:
                        started_at = message["started_at"]
                    elif message["type"] == "finished":
                        finished = True
                        break
                    elif message["type"] == "error":
                        if message.get("error") == "internal":
                            tally.server_errors += 1
                        tally.errors.append(f"socket error {message.get('error')}")
        except TimeoutError:
            pass  # the run's deadline came mid-workout
        except Exception as exc:  # a dropped socket is counted, and the walker carries on
            tally.socket_drops += 1
            tally.errors.append(f"{type(exc).__name__}: {exc}"[:160])
        if finished:
            tally.workouts_finished += 1
        if started_at is not None:
            # Honest walkers never pause or skip, so a cue's due is started_at + offset_ms.
            cutoff = min(time.time(), deadline) * 1000
            tally.unsent += sum(
                1 for cue in session["timeline"] if started_at + cue["offset_ms"] <= cutoff and cue["seq"] not in seen
            )


async def watch_loop_lag(deadline: float, tally: Tally) -> None:
    """Note how late this process's event loop wakes (a cue read late looks as if it came late)."""
    while time.time() < deadline:
        asked = time.monotonic()
        await asyncio.sleep(LAG_PROBE_S)
        lag_ms = (time.monotonic() - asked - LAG_PROBE_S) * 1000
        tally.loop_lag_max_ms = max(tally.loop_lag_max_ms, lag_ms)
        if lag_ms >= LAG_KEEP_MS:
            tally.loop_lags.append((time.time(), lag_ms))


def run_walkers(
    index: int,
    count: int,
    base_url: str,
    ws_base: str,
    segments: list[dict],
    ready,
    go,
    start_value,
    duration_s: float,
    results,
) -> None:
    """A walker process: make `count` walkers, report ready, walk on the signal, report the tally."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    random.seed(index)
    tally = Tally()
    first = index * WALKERS_PER_PROCESS
    addresses = [f"{HONEST_ADDRESS_BASE}{(first + i) // WALKERS_PER_ADDRESS + 1}" for i in range(count)]
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        made = list(pool.map(lambda a: make_walker(base_url, a, segments, tally), addresses))
    walkers = [(w, a) for w, a in zip(made, addresses) if w is not None]
    ready.put((index, len(walkers)))
    go.wait()
    deadline = start_value.value + duration_s

    async def main() -> None:
        """Every walker of this process at once, on one event loop."""
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(SETUP_THREADS))
        gate = asyncio.Semaphore(CONNECTS_IN_FLIGHT)
        probe = asyncio.create_task(watch_loop_lag(deadline, tally))
        await asyncio.gather(*(walk_until(ws_base, w, a, deadline, tally, gate, base_url) for w, a in walkers))
        await probe

    asyncio.run(main())
    tally.count_short()
    tally.loop_lags, tally.short_cues = [], []  # counted: not sent back through the queue
    results.put((index, tally))


# --- hostile clients --------------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP response (status line, headers, a Content-Length body); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    match = STATUS_LINE.match(head)
    if not match:
        raise ConnectionError("not an HTTP response")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if length:
        await reader.readexactly(int(length.group(1)))
    elif re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
        raise ConnectionError("chunked body: reconnect")
    return int(match.group(1))


def get_request(path: str, host: str, cookie: str) -> bytes:
    """A keep-alive GET as raw bytes."""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n".encode()


async def open_from(host: str, port: int, address: str):
    """A TCP connection to the server from a hostile address."""
    return await asyncio.open_connection(host, port, local_addr=(address, 0))


async def flood(host, port, address, cookie, deadline, tally: Tally) -> None:
    """One keep-alive connection asking for the plan list as fast as the server answers."""
    while time.time() < deadline:
        try:
            reader, writer = await open_from(host, port, address)
            request = get_request("/api/plans", f"{host}:{port}", cookie)
            while time.time() < deadline:
                writer.write(request)
                tally.status(await asyncio.wait_for(read_response(reader), WAIT_S))
                tally.hostile["flood requests"] += 1
            writer.close()
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            tally.hostile["flood reconnects"] += 1
            await asyncio.sleep(0.05)


async def pipeline(host, port, address, cookie, deadline, tally: Tally) -> None:
    """Bursts of PIPELINE_DEPTH requests written at once on one connection, then every answer read."""
    while time.time() < deadline:
        try:
            reader, writer = await open_from(host, port, address)
            writer.write(get_request("/api/plans", f"{host}:{port}", cookie) * PIPELINE_DEPTH)
            for _ in range(PIPELINE_DEPTH):
                tally.status(await asyncio.wait_for(read_response(reader), WAIT_S))
                tally.hostile["pipelined requests answered"] += 1
            writer.close()
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            tally.hostile["pipelines cut by the server"] += 1
            await asyncio.sleep(0.05)


async def malformed(host, port, address, deadline, tally: Tally) -> None:
    """Broken HTTP: bad request lines, huge URLs and headers, a lying Content-Length, TLS to plain http."""
    while time.time() < deadline:
        for raw in MALFORMED_REQUESTS:
            try:
                reader, writer = await open_from(host, port, address)
                writer.write(raw)
                if raw.endswith(b"{"):
                    writer.write_eof()  # the body it promised never comes
                data = await asyncio.wait_for(reader.read(65536), 5)
                for code in STATUS_LINE.findall(data):
                    tally.status(int(code))
                writer.close()
                tally.hostile["malformed requests"] += 1
            except (TimeoutError, OSError, ConnectionError):
                tally.hostile["malformed requests"] += 1
            await asyncio.sleep(0.01)


async def junk_socket(ws_url, address, cookie, deadline, tally: Tally) -> None:
    """A websocket sending junk frames and reading each answer; reconnects if cut."""
    while time.time() < deadline:
        try:
            async with connect(
                ws_url,
                additional_headers={"Cookie": cookie},
                open_timeout=WAIT_S,
                ping_interval=None,
                max_size=None,
                local_addr=(address, 0),
            ) as ws:
                while time.time() < deadline:
                    await ws.send(random.choice(JUNK_FRAMES))
                    reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
                    while reply.get("type") != "error":  # hello, state, cues: skip to the answer
                        reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
                    if reply.get("error") == "internal":
                        tally.server_errors += 1
                    tally.hostile["junk frames answered"] += 1
        except Exception as exc:
            tally.hostile[f"junk sockets cut ({type(exc).__name__})"] += 1
            await asyncio.sleep(0.2)


async def control_flood(ws_url, address, cookie, deadline, tally: Tally) -> None:
    """Start a session, then pause and resume it as fast as the server answers."""
    while time.time() < deadline:
        try:
            async with connect(
                ws_url,
                additional_headers={"Cookie": cookie},
                open_timeout=WAIT_S,
                ping_interval=None,
                max_size=None,
                local_addr=(address, 0),
            ) as ws:
                await ws.send('{"type":"start"}')
                while time.time() < deadline:
                    for kind in ("pause", "resume"):
                        await ws.send(json.dumps({"type": kind}))
                        reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
                        if reply.get("type") == "error" and reply.get("error") == "internal":
                            tally.server_errors += 1
                        tally.hostile["pause/resume controls"] += 1
        except Exception as exc:
            tally.hostile[f"control sockets cut ({type(exc).__name__})"] += 1
            await asyncio.sleep(0.2)


async def churn(ws_url, address, cookie, deadline, tally: Tally) -> None:
    """Open a websocket, read hello, close it; again and again."""
    while time.time() < deadline:
        try:
            async with connect(
                ws_url,
                additional_headers={"Cookie": cookie},
                open_timeout=WAIT_S,
                ping_interval=None,
                max_size=None,
                local_addr=(address, 0),
            ) as ws:
                await asyncio.wait_for(ws.recv(), WAIT_S)
            tally.hostile["churn connections"] += 1
        except Exception as exc:
            tally.hostile[f"churn refused ({type(exc).__name__})"] += 1
            await asyncio.sleep(0.05)


def hostile_device(
    base_url: str, address: str, segments: list[dict], sessions: int, tally: Tally
) -> tuple[str, list[str]]:
    """A hostile device with `sessions` sessions of its own: (cookie, their websocket paths)."""
    made = make_walker(base_url, address, segments, tally)
    if made is None:
        raise RuntimeError("the hostile device could not make its plan")
    device, plan_id = made
    paths = []
    while len(paths) < sessions:
        session = new_session(device, base_url, plan_id, tally)
        if session is not None:
            paths.append(session["ws"])
    return cookie_of(device), paths


ATTACKS = ("flood", "pipeline", "malformed", "junk", "controls", "churn")


def run_hostile(
    base_url: str,
    ws_base: str,
    segments: list[dict],
    ready,
    go,
    start_value,
    duration_s: float,
    results,
    attacks: tuple[str, ...] = ATTACKS,
) -> None:
    """The attacker's process: set up, then attack on the signal until the deadline; report the tally."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    random.seed(666)
    tally = Tally()
    host, port = base_url.split("//")[1].split(":")
    port = int(port)
    addresses = [f"{HOSTILE_ADDRESS_BASE}{n}" for n in range(1, 5)]
    cookie, paths = hostile_device(base_url, addresses[0], segments, JUNK_SOCKETS + CONTROL_FLOODERS + CHURNERS, tally)
    ready.put(("hostile", 1))
    go.wait()
    deadline = start_value.value + duration_s

    async def main() -> None:
        """Every chosen attacker at once, on one event loop."""
        pick = iter(paths)
        at = [
            addresses[i % len(addresses)]
            for i in range(max(FLOODERS, PIPELINERS, JUNK_SOCKETS, CONTROL_FLOODERS, CHURNERS))
        ]
        chosen = {
            "flood": [flood(host, port, at[i], cookie, deadline, tally) for i in range(FLOODERS)],
            "pipeline": [pipeline(host, port, at[i], cookie, deadline, tally) for i in range(PIPELINERS)],
            "malformed": [malformed(host, port, at[i], deadline, tally) for i in range(MALFORMED_HTTP)],
            "junk": [junk_socket(ws_base + next(pick), at[i], cookie, deadline, tally) for i in range(JUNK_SOCKETS)],
            "controls": [
                control_flood(ws_base + next(pick), at[i], cookie, deadline, tally) for i in range(CONTROL_FLOODERS)
            ],
            "churn": [churn(ws_base + next(pick), at[i], cookie, deadline, tally) for i in range(CHURNERS)],
        }
        tasks = [task for kind, kinds_tasks in chosen.items() for task in kinds_tasks if kind in attacks]
        for kind, kinds_tasks in chosen.items():
            if kind not in attacks:
                for task in kinds_tasks:
                    task.close()  # never awaited: close the coroutine quietly
        await asyncio.gather(*tasks)

    asyncio.run(main())
    results.put(("hostile", tally))


# --- the run ----------------------------------------------------------------------------------


def soak(walkers: int, minutes: float, workdir: Path, attacks: tuple[str, ...]) -> dict:
    """One soak run; returns its figures."""
    duration_s = minutes * 60
    server = Server(workdir, workdir / "audio_cache").start()
    try:
        segments = plan_segments(WORKOUT_SEGMENTS)
        warm = make_walker(server.url, "127.0.0.1", segments, Tally())  # renders the plan's phrases once
        if warm is not None:
            new_session(warm[0], server.url, warm[1], Tally())
        ctx = mp.get_context("fork")
        ready, results = ctx.Queue(), ctx.Queue()
        go, start_value = ctx.Event(), ctx.Value("d", 0.0)
        shares = [min(WALKERS_PER_PROCESS, walkers - i) for i in range(0, walkers, WALKERS_PER_PROCESS)]
        processes = [
            ctx.Process(
                target=run_walkers,
                args=(i, share, server.url, server.ws_url, segments, ready, go, start_value, duration_s, results),
                daemon=True,
            )
            for i, share in enumerate(shares)
        ]
        hostile = bool(attacks)
        if hostile:
            processes.append(
                ctx.Process(
                    target=run_hostile,
                    args=(server.url, server.ws_url, segments, ready, go, start_value, duration_s, results, attacks),
                    daemon=True,
                )
            )
        setup_started = time.monotonic()
        for process in processes:
            process.start()
        made = sum(ready.get(timeout=SETUP_TIMEOUT_S)[1] for _ in processes) - (1 if hostile else 0)
        setup_s = time.monotonic() - setup_started
        start_value.value = time.time()
        go.set()
        samples: list[tuple[float, dict, dict]] = []
        end = start_value.value + duration_s
        while time.time() < end:
            time.sleep(min(SAMPLE_EVERY_S, max(end - time.time(), 0)))
            try:
                samples.append((time.time() - start_value.value, server.proc(), server.metrics()))
            except (OSError, requests.RequestException, ValueError) as exc:
                print(f"  (sample failed: {type(exc).__name__})", flush=True)
        honest, attack = Tally(), Tally()
        for _ in processes:
            who, tally = results.get(timeout=duration_s + SETUP_TIMEOUT_S)
            (attack if who == "hostile" else honest).add(tally)
        for process in processes:
            process.join(timeout=30)
        after_warmup = [s for s in samples if s[0] >= min(WARMUP_S, duration_s / 2)] or samples
        rss_start, rss_end = after_warmup[0][1]["rss_mb"], samples[-1][1]["rss_mb"]
        last_metrics = samples[-1][2] if samples else {}
        # When the scheduler's worst lag grew, and to what: a lag at the start differs from one under a flood.
        lag_steps, worst = [], 0
        for at, _, metrics in samples:
            if metrics.get("scheduler_lag_max_ms", 0) > worst:
                worst = metrics["scheduler_lag_max_ms"]
                lag_steps.append(f"{worst} ms by {at:.0f} s")
        log_text = server.log_path.read_text(errors="replace")
        database = server.data_dir / "retrowalk.db"
        wal = database.with_name(database.name + "-wal")
        return {
            "walkers": walkers,
            "made": made,
            "minutes": minutes,
            "setup_s": setup_s,
            "honest": honest,
            "attack": attack,
            "rss_start": rss_start,
            "rss_end": rss_end,
            "rss_peak": max(s[1]["rss_mb"] for s in samples),
            "cpu_s": samples[-1][1]["cpu_s"] if samples else 0.0,
            "lag_max_ms": last_metrics.get("scheduler_lag_max_ms"),
            "server_missed": last_metrics.get("cues_missed"),
            "lag_steps": lag_steps,
            "gc_pause_max_ms": last_metrics.get("gc_pause_max_ms"),
            "load": os.getloadavg()[0],
            "server_dropped": last_metrics.get("cues_dropped_late"),
            "unhandled_in_log": log_text.count("Unhandled error"),
            "checkpoints": last_metrics.get("wal_checkpoints"),
            # The scheduler's catch-ups of the log in its upkeep pauses (server/db.py LOG_LIMIT_BYTES), and the
            # largest log file any sample saw.
            "log_catch_ups": last_metrics.get("log_catch_ups", 0),
            "log_catch_ups_deferred": last_metrics.get("log_catch_ups_deferred", 0),
            "log_catch_up_max_ms": last_metrics.get("log_catch_up_max_ms", 0.0),
            "log_peak_mb": max((s[2].get("log_bytes_last", 0) for s in samples), default=0) / 2**20,
            "database_mb": database.stat().st_size / 2**20,
            "wal_mb": wal.stat().st_size / 2**20 if wal.exists() else 0.0,
        }
    finally:
        server.stop()


def report(f: dict) -> bool:
    """Print the figures against their targets; True when every target is met."""
    honest, attack = f["honest"], f["attack"]
    growth = (f["rss_end"] - f["rss_start"]) / f["rss_start"] if f["rss_start"] else 0.0
    five_xx = honest.server_errors + attack.server_errors
    checks = {
        "late cues (received after due, or never sent)": (
            f"{honest.late + honest.unsent} ({honest.late} late, {honest.unsent} never sent)",
            f"{TARGET_LATE}",
            honest.late + honest.unsent <= TARGET_LATE,
        ),
        "minimum lead": (
            f"{honest.min_lead_ms} ms (first cue after a Start {honest.first_min_lead_ms} ms)",
            f">= {TARGET_MIN_LEAD_MS} ms",
            (honest.min_lead_ms or 0) >= TARGET_MIN_LEAD_MS and honest.cues > 0,
        ),
        "worker RSS after warm-up -> end": (
            f"{f['rss_start']:.0f} -> {f['rss_end']:.0f} MB ({growth:+.1%}; peak {f['rss_peak']:.0f} MB)",
            f"within {TARGET_RSS_GROWTH:.0%}",
            abs(growth) <= TARGET_RSS_GROWTH,
        ),
        "5xx (HTTP statuses and `internal` socket errors)": (five_xx, "0", five_xx == 0),
    }
    print(
        f"\n{f['made']} of {f['walkers']} walkers for {f['minutes']:g} min (setup {f['setup_s']:.0f} s), "
        "one-minute workouts back to back:"
    )
    print("| figure | measured | target | met |")
    print("|---|---|---|---|")
    for name, (value, target, met) in checks.items():
        print(f"| {name} | {value} | {target} | {'yes' if met else 'NO'} |")
    print(
        f"\nHonest: {honest.workouts:,} workouts ({honest.workouts_finished:,} finished), {honest.cues:,} cues; "
        f"sockets dropped by the server: {honest.socket_drops}; HTTP: {dict(honest.http_statuses)}"
    )
    print(
        f"Server: longest scheduler lag {f['lag_max_ms']} ms ({', '.join(f['lag_steps']) or 'none'}); longest GC pause "
        f"{f['gc_pause_max_ms']} ms; cues it missed {f['server_missed']}, dropped late {f['server_dropped']}; "
        f"'Unhandled error' in its log: {f['unhandled_in_log']}; worker CPU {f['cpu_s']:.0f} s; "
        f"machine load {f['load']:.1f} at the end"
    )
    checkpoints = f["checkpoints"] or {}
    print(
        f"Walkers' own event loop late by up to {honest.loop_lag_max_ms:.0f} ms (it counts in the leads they measure: "
        f"of {honest.short:,} cues read with under {TARGET_MIN_LEAD_MS} ms, it explains {honest.short_explained:,}); "
        f"write-ahead log copied {checkpoints.get('runs', 0):,} times off the worker "
        f"(longest {checkpoints.get('longest_ms', 0):.0f} ms, failures {checkpoints.get('failures', 0)}); "
        f"database {f['database_mb']:.1f} MB, log {f['wal_mb']:.1f} MB at the end (largest seen "
        f"{f['log_peak_mb']:.1f} MB; caught up {f['log_catch_ups']:,} times in upkeep pauses, longest "
        f"{f['log_catch_up_max_ms']:.0f} ms, {f['log_catch_ups_deferred']:,} put off)"
    )
    print(
        f"Attack: HTTP {dict(attack.http_statuses)}; "
        + "; ".join(f"{k}: {v:,}" for k, v in sorted(attack.hostile.items()))
    )
    if honest.errors:
        kinds = Counter(e.split(":")[0] for e in honest.errors)
        print(f"Walker errors (first kinds): {dict(kinds.most_common(6))}")
    sys.stdout.flush()
    return all(met for _, _, met in checks.values())


def main() -> int:
    """Parse the options, run the soak, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--walkers", type=int, default=DEFAULT_WALKERS, help="honest walkers")
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, help="how long the soak lasts")
    parser.add_argument("--no-attack", action="store_true", help="honest walkers only (a baseline)")
    parser.add_argument(
        "--attacks",
        default=",".join(ATTACKS),
        help=f"which hostile clients run (comma-separated, of {', '.join(ATTACKS)})",
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep the server's data and log here (default: a temporary folder)"
    )
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="retrowalk-soak-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        attacks = () if args.no_attack else tuple(a for a in args.attacks.split(",") if a)
        unknown = set(attacks) - set(ATTACKS)
        if unknown:
            parser.error(f"unknown attack(s): {', '.join(sorted(unknown))}")
        print(
            f"Soak: {args.walkers} walkers, {args.minutes:g} min, attacks: {', '.join(attacks) or 'none'}; "
            f"{os.cpu_count()} CPUs.",
            flush=True,
        )
        figures = soak(args.walkers, args.minutes, workdir, attacks)
        return 0 if report(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
