"""Walker processes for bench_capacity.py: each creates its share of devices and sessions, holds one
websocket per walker (asyncio), starts them on a signal and records how early every cue arrived."""

from __future__ import annotations

import asyncio
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


def run_walkers(index: int, count: int, base_url: str, ws_base: str, segments: list[dict], ready_queue, go_event, start_value, spread_s: float, result_queue) -> None:
    """A walker process: create `count` walkers, report ready, start on the signal, report results."""
    _raise_file_limit()
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
        await asyncio.gather(*tasks)

    asyncio.run(main())
    result_queue.put((index, result))
