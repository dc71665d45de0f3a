"""Walker processes for bench_capacity.py: each creates its share of devices and sessions, holds one
websocket per walker (asyncio), starts them on a signal and records how early every cue arrived."""

from __future__ import annotations

import asyncio
import bisect
import json
import random
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from websockets.asyncio.client import connect

# Parallel HTTP requests per walker process while creating devices, plans and sessions.
SETUP_THREADS = 8
# Websocket handshakes in flight at once per walker process (the server's accept backlog is finite).
CONNECTS_IN_FLIGHT = 32
OPEN_TIMEOUT_S = 120
# How long after its planned end a walker waits for `finished` before it counts as not held.
FINISH_GRACE_S = 30
# The walker process's own event-loop lag is sampled this often: a cue read late because this
# process was busy is the client's delay, not the server's.
LAG_TICK_S = 0.02
# Lags shorter than this are not kept (the loop's ordinary jitter); ms.
LAG_KEEP_MS = 5
# A cue with less lead than this (ms) is looked at closely: was this process behind when it read it?
SHORT_LEAD_MS = 250


@dataclass
class WalkerResult:
    """What one walker process saw."""

    created: int = 0
    connected: int = 0
    connect_failed: int = 0
    held: int = 0  # sockets open from hello to finished, every cue of the timeline received
    cues: int = 0
    late: int = 0  # cues received after their due
    missing: int = 0  # timeline cues never received
    leads_ms: list[int] = field(default_factory=list)
    missing_by_seq: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # The process's event loop: each stretch it was blocked, as (woke at epoch s, blocked ms).
    loop_lags: list[tuple[float, float]] = field(default_factory=list)
    loop_lag_max_ms: float = 0.0
    # Cues read with less than SHORT_LEAD_MS of lead, as (read at epoch s, lead ms).
    short_cues: list[tuple[float, int]] = field(default_factory=list)

    def client_delay_ms(self, read_at: float) -> float:
        """How long a message read at `read_at` may have waited on this process's busy loop (0 if it was not busy)."""
        # Stretches are kept in order and never overlap: the first to end after the read is the one.
        index = bisect.bisect_left(self.loop_lags, (read_at, 0.0))
        if index == len(self.loop_lags):
            return 0.0
        woke, lag_ms = self.loop_lags[index]
        began = woke - lag_ms / 1000
        return (read_at - began) * 1000 if began <= read_at else 0.0

    def short_explained(self) -> int:
        """Short-lead cues that would have had SHORT_LEAD_MS without this process's own delay."""
        return sum(1 for read_at, lead in self.short_cues if lead + self.client_delay_ms(read_at) >= SHORT_LEAD_MS)


async def watch_loop_lag(result: WalkerResult, stop: asyncio.Event) -> None:
    """Sample how late this process's event loop wakes up (its own CPU load shows here first)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        expected = loop.time() + LAG_TICK_S
        await asyncio.sleep(LAG_TICK_S)
        lag_ms = (loop.time() - expected) * 1000
        if lag_ms >= LAG_KEEP_MS:
            result.loop_lags.append((time.time(), lag_ms))
            result.loop_lag_max_ms = max(result.loop_lag_max_ms, lag_ms)


def _raise_file_limit() -> None:
    """One socket per walker needs one file descriptor per walker."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def create_walker(base_url: str, segments: list[dict]) -> tuple[str, str, list[int]]:
    """A new device with a plan of its own and a session of it: (cookie, ws path, timeline seqs)."""
    device = requests.Session()
    # The first request issues the device cookie, so the plan is created by a brand-new device.
    plan = device.post(base_url + "/api/plans", json={"name": "Capacity", "segments": segments}, timeout=120)
    plan.raise_for_status()
    session = device.post(base_url + "/api/sessions", json={"plan_id": plan.json()["id"]}, timeout=120)
    session.raise_for_status()
    body = session.json()
    cookie = "; ".join(f"{c.name}={c.value}" for c in device.cookies)
    return cookie, body["ws"], [cue["seq"] for cue in body["timeline"]]


async def _walk(ws_base: str, walker: tuple[str, str, list[int]], go: asyncio.Event, start_at: dict, result: WalkerResult, gate: asyncio.Semaphore, connected: asyncio.Event, plan_seconds: int) -> None:
    """One walker: connect, wait for the signal, start, then note every cue until finished."""
    cookie, path, seqs = walker
    opened = False
    try:
        async with gate:
            ws = await connect(ws_base + path, additional_headers={"Cookie": cookie}, open_timeout=OPEN_TIMEOUT_S,
                               ping_interval=None, close_timeout=5, max_size=None)
        async with ws:
            hello = json.loads(await ws.recv())
            if hello["type"] != "hello":
                raise RuntimeError(f"first message was {hello['type']}")
            result.connected += 1
            opened = True
            if result.connected + result.connect_failed >= result.created:
                connected.set()
            await go.wait()
            await asyncio.sleep(max(start_at["t"] + random.uniform(0, start_at["spread"]) - time.time(), 0))
            await ws.send('{"type":"start"}')
            seen: set[int] = set()
            finished = False
            deadline = time.time() + start_at["spread"] + plan_seconds + FINISH_GRACE_S
            while time.time() < deadline:
                raw = await asyncio.wait_for(ws.recv(), timeout=max(deadline - time.time(), 0.1))
                received = time.time() * 1000
                message = json.loads(raw)
                kind = message["type"]
                if kind == "cue":
                    lead = message["due"] - received
                    result.cues += 1
                    result.leads_ms.append(int(lead))
                    if lead < SHORT_LEAD_MS:
                        result.short_cues.append((received / 1000, int(lead)))
                    if lead < 0:
                        result.late += 1
                    seen.add(message["seq"])
                elif kind == "finished":
                    finished = True
                    break
                elif kind == "error":
                    result.errors.append(message["error"])
            missing = set(seqs) - seen
            for seq in missing:
                result.missing_by_seq[seq] = result.missing_by_seq.get(seq, 0) + 1
            missing = len(missing)
            result.missing += missing
            if finished and not missing:
                result.held += 1
    except Exception as exc:  # a walker that fails is counted as not held, with the reason
        result.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        if not opened:
            result.connect_failed += 1
            if result.connected + result.connect_failed >= result.created:
                connected.set()


def run_walkers(index: int, count: int, base_url: str, ws_base: str, segments: list[dict], ready_queue, go_event, start_value, spread_s: float, result_queue,
                cpus: set[int] | None = None) -> None:
    """A walker process: create `count` walkers, report ready, start on the signal, report results (on `cpus`, if given)."""
    _raise_file_limit()
    if cpus:
        os.sched_setaffinity(0, cpus)
    random.seed(index)
    result = WalkerResult()
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        futures = [pool.submit(create_walker, base_url, segments) for _ in range(count)]
        walkers = []
        for future in futures:
            try:
                walkers.append(future.result())
            except Exception as exc:
                result.errors.append(f"setup {type(exc).__name__}: {exc}"[:200])
    result.created = len(walkers)
    plan_seconds = sum(s["seconds"] for s in segments)

    async def main() -> None:
        go = asyncio.Event()
        connected = asyncio.Event()
        if not walkers:
            connected.set()
        start_at = {"t": 0.0, "spread": spread_s}
        gate = asyncio.Semaphore(CONNECTS_IN_FLIGHT)
        tasks = [asyncio.create_task(_walk(ws_base, w, go, start_at, result, gate, connected, plan_seconds)) for w in walkers]
        await connected.wait()
        ready_queue.put((index, result.created, result.connected))
        # Wait for the main process's signal without blocking the event loop.
        while not go_event.is_set():
            await asyncio.sleep(0.05)
        start_at["t"] = start_value.value
        go.set()
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_loop_lag(result, stop))
        await asyncio.gather(*tasks)
        stop.set()
        await watcher

    asyncio.run(main())
    result_queue.put((index, result))
