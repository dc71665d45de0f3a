"""Walker processes for bench_capacity.py: each creates its share of devices and sessions, holds one
websocket per walker (asyncio), starts them on a signal and records how early every cue arrived.

The walkers speak the websocket protocol through a small asyncio protocol of their own
(WalkerSocket) rather than the `websockets` library: 10,000 walkers read about 3,700 frames a
second on the server's own two cores, and that library's per-frame work made the walkers, not
the server, the first to fall behind (their loops up to 2.5 s late).
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import json
import os
import random
import resource
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

# Parallel HTTP requests per walker process while creating devices, plans and sessions.
SETUP_THREADS = 8
# Websocket handshakes in flight at once per walker process (the server's accept backlog is finite).
CONNECTS_IN_FLIGHT = 32
OPEN_TIMEOUT_S = 120
# A handshake the server closes unanswered is tried again (a phone reconnects too), this many times
# in all, waiting this long times the attempt's number between them.
CONNECT_ATTEMPTS = 3
RECONNECT_AFTER_S = 1.0
# How long after its planned end a walker waits for `finished` before it counts as not held.
FINISH_GRACE_S = 30
# The walker process's own event-loop lag is sampled this often: a cue read late because this
# process was busy is the client's delay, not the server's.
LAG_TICK_S = 0.02
# Lags shorter than this are not kept (the loop's ordinary jitter); ms.
LAG_KEEP_MS = 5
# A cue with less lead than this (ms) is looked at closely: was this process behind when it read it?
SHORT_LEAD_MS = 250


# RFC 6455: opcodes, the two longer length forms, and the client's mask bit.
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
FIN = 0x80
MASKED = 0x80
LENGTH_16, LENGTH_64 = 126, 127
NORMAL_CLOSURE = (1000).to_bytes(2, "big")
HEADER_END = b"\r\n\r\n"


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One masked frame from the client (every client frame is masked)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < LENGTH_16:
        header = bytes((FIN | opcode, MASKED | size))
    elif size < 1 << 16:
        header = bytes((FIN | opcode, MASKED | LENGTH_16)) + size.to_bytes(2, "big")
    else:
        header = bytes((FIN | opcode, MASKED | LENGTH_64)) + size.to_bytes(8, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WalkerSocket(asyncio.Protocol):
    """One walker's websocket: the upgrade, then whole text frames queued with the time they were read."""

    def __init__(self, handshake: bytes):
        self.handshake = handshake
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.frames: asyncio.Queue[tuple[float, str | None]] = asyncio.Queue()
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.on_text: Callable[[float, bytes], None] | None = None
        self.on_close: Callable[[], None] | None = None

    def listen(self, on_text: Callable[[float, bytes], None], on_close: Callable[[], None]) -> None:
        """Hand each message to `on_text` as it is read from now on (queued ones first); say when the socket closes."""
        while not self.frames.empty():
            read_at, text = self.frames.get_nowait()
            if text is None:
                on_close()
            else:
                on_text(read_at, text)
        self.on_text, self.on_close = on_text, on_close

    def connection_made(self, transport: asyncio.Transport) -> None:
        """Send the upgrade request."""
        self.transport = transport
        transport.write(self.handshake)

    def data_received(self, data: bytes) -> None:
        """Take the upgrade's answer, then every whole frame (stamped with this moment, epoch ms)."""
        read_at = time.time() * 1000
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(HEADER_END)
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[: end + len(HEADER_END)]
            if b" 101 " not in status:
                self.opened.set_exception(ConnectionError(f"upgrade refused: {status.decode(errors='replace')}"))
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(True)
        self._frames(read_at)

    def _frames(self, read_at: float) -> None:
        """Parse every whole frame in the buffer (the server's are never masked or fragmented)."""
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, size, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if size == LENGTH_16:
                if len(buffer) < 4:
                    return
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == LENGTH_64:
                if len(buffer) < 10:
                    return
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + size:
                return
            payload = bytes(buffer[start : start + size])
            del buffer[: start + size]
            if opcode == TEXT:
                if self.on_text is not None:
                    self.on_text(read_at, payload)
                else:
                    self.frames.put_nowait((read_at, payload.decode()))
            elif opcode == PING:
                self.transport.write(client_frame(PONG, payload))
            elif opcode == CLOSE:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """Wake a reader waiting for a frame that will not come."""
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the upgrade"))
        if self.on_close is not None:
            self.on_close()
        else:
            self.frames.put_nowait((time.time() * 1000, None))

    def send_text(self, text: str) -> None:
        """Send a text message."""
        self.transport.write(client_frame(TEXT, text.encode()))

    async def recv(self) -> tuple[float, str]:
        """The next text message and when it was read (ConnectionError once the socket is closed)."""
        read_at, text = await self.frames.get()
        if text is None:
            raise ConnectionError("socket closed")
        return read_at, text

    def close(self) -> None:
        """Say goodbye and hang up."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(CLOSE, NORMAL_CLOSURE))
            self.transport.close()


async def open_socket(url: str, cookie: str) -> WalkerSocket:
    """Open a websocket to `url` (ws://host:port/path) with the device's cookie."""
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(lambda: WalkerSocket(handshake), parts.hostname, parts.port)
    await asyncio.wait_for(protocol.opened, OPEN_TIMEOUT_S)
    return protocol


@dataclass
class WalkerResult:
    """What one walker process saw."""

    created: int = 0
    connected: int = 0
    connect_failed: int = 0
    reconnects: int = 0  # handshakes tried again before the walk (none once it has started)
    reconnect_reasons: list[str] = field(default_factory=list)
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
    short_cues: list[tuple[float, int, int]] = field(default_factory=list)  # (read at, lead ms, seq)

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
        return sum(1 for read_at, lead, _ in self.short_cues if lead + self.client_delay_ms(read_at) >= SHORT_LEAD_MS)


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


async def _walk(
    ws_base: str,
    walker: tuple[str, str, list[int]],
    go: asyncio.Event,
    start_at: dict,
    result: WalkerResult,
    gate: asyncio.Semaphore,
    connected: asyncio.Event,
    plan_seconds: int,
) -> None:
    """One walker: connect, wait for the signal, start, then note every cue until finished."""
    cookie, path, seqs = walker
    opened = False
    ws: WalkerSocket | None = None
    try:
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                async with gate:
                    ws = await open_socket(ws_base + path, cookie)
                break
            except (ConnectionError, OSError) as exc:
                # As the phone does, connect again; the benchmark prints how often this happened.
                if attempt == CONNECT_ATTEMPTS - 1:
                    raise
                result.reconnects += 1
                result.reconnect_reasons.append(f"{type(exc).__name__}: {exc}"[:120])
                await asyncio.sleep(RECONNECT_AFTER_S * (attempt + 1))
        hello = json.loads((await ws.recv())[1])
        if hello["type"] != "hello":
            raise RuntimeError(f"first message was {hello['type']}")
        result.connected += 1
        opened = True
        if result.connected + result.connect_failed >= result.created:
            connected.set()
        await go.wait()
        await asyncio.sleep(max(start_at["t"] + random.uniform(0, start_at["spread"]) - time.time(), 0))
        seen: set[int] = set()
        done = asyncio.Event()
        outcome = {"finished": False}

        def on_text(received: float, raw: bytes | str) -> None:
            """Note one message as the socket reads it (no task wakes per cue: 3,700 a second at 10,000 walkers)."""
            message = json.loads(raw)
            kind = message["type"]
            if kind == "cue":
                lead = message["due"] - received
                result.cues += 1
                result.leads_ms.append(int(lead))
                if lead < SHORT_LEAD_MS:
                    result.short_cues.append((received / 1000, int(lead), message["seq"]))
                if lead < 0:
                    result.late += 1
                seen.add(message["seq"])
            elif kind == "finished":
                outcome["finished"] = True
                done.set()
            elif kind == "error":
                result.errors.append(message["error"])

        ws.listen(on_text, done.set)
        ws.send_text('{"type":"start"}')
        deadline = time.time() + start_at["spread"] + plan_seconds + FINISH_GRACE_S
        try:
            await asyncio.wait_for(done.wait(), timeout=max(deadline - time.time(), 0.1))
        except TimeoutError:
            pass
        finished = outcome["finished"]
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
    finally:
        if ws is not None:
            ws.close()


def run_walkers(
    index: int,
    count: int,
    base_url: str,
    ws_base: str,
    segments: list[dict],
    ready_queue,
    go_event,
    start_value,
    spread_s: float,
    result_queue,
    cpus: set[int] | None = None,
) -> None:
    """A walker process: `count` walkers (on `cpus`, if given) report ready, start on the signal, report results."""
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
        tasks = [
            asyncio.create_task(_walk(ws_base, w, go, start_at, result, gate, connected, plan_seconds)) for w in walkers
        ]
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
