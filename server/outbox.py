"""Writing to one phone's websocket: whole text frames, a socket whose writes are locked and whole, and an outbox.

A frame for the phone is written at once when the socket can take it whole without waiting
(nearly always: a cue is a few hundred bytes); otherwise it is queued and a writer greenlet,
started for the occasion, sends it, so a slow phone never holds up the scheduler. Every byte
written to the socket, simple-websocket's own pings and pongs included, goes through one
per-socket lock and is written whole (LockedSocket).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from simple_websocket import ConnectionClosed

from .clock import now_ms

if TYPE_CHECKING:
    from .sessions.hub import LiveHub

log = logging.getLogger(__name__)

# RFC 6455 5.2: FIN + text opcode, and the payload lengths that need the 16- and 64-bit forms.
TEXT_FRAME_START = 0x81
LENGTH_16_BITS, LENGTH_64_BITS = 126, 127
MAX_16_BIT_LENGTH = 0xFFFF


def text_frame(text: str) -> bytes:
    """One whole, unmasked websocket text frame, as a server sends it (what wsproto writes, without its objects)."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < LENGTH_16_BITS:
        header = bytes((TEXT_FRAME_START, size))
    elif size <= MAX_16_BIT_LENGTH:
        header = struct.pack("!BBH", TEXT_FRAME_START, LENGTH_16_BITS, size)
    else:
        header = struct.pack("!BBQ", TEXT_FRAME_START, LENGTH_64_BITS, size)
    return header + payload


class LockedSocket:
    """The connection's socket, with every send under one lock and written whole.

    simple-websocket writes from its reader (pings, pongs, close) and from whoever calls
    `send`; it also ignores partial writes. Wrapping the socket fixes both for every writer.
    """

    def __init__(self, raw: socket.socket):
        """Wrap the OS socket a websocket is written to."""
        self._raw = raw
        self.lock = threading.Lock()
        # Bytes can be written straight to the OS socket only when no TLS layer sits between.
        self.plain = not hasattr(raw, "cipher")
        # gevent's socket wraps the OS socket (`_sock`); a plain socket is its own.
        self._os_socket = getattr(raw, "_sock", raw)
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass  # not TCP (a test double, a Unix socket)

    def send(self, data: bytes) -> int:
        """Write all of `data` as one uninterrupted run of bytes."""
        with self.lock:
            self._raw.sendall(data)
        return len(data)

    sendall = send

    def try_send(self, data: bytes) -> int:
        """Write what the OS takes now without waiting; returns how much (0 if the lock or the buffer is busy).

        A partial write keeps the lock held, so no other frame can come between: the caller
        must hand the rest to finish(), from any thread.
        """
        if not self.plain or not self.lock.acquire(blocking=False):
            return 0
        try:
            written = self._os_socket.send(data, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            written = 0
        except BaseException:
            self.lock.release()
            raise
        if written == 0 or written == len(data):
            self.lock.release()
        return written

    def finish(self, rest: bytes) -> None:
        """Write the rest of a frame try_send began, then free the lock it kept."""
        try:
            self._raw.sendall(rest)
        finally:
            self.lock.release()

    def abort(self) -> None:
        """Cut the connection now, waking any reader or writer blocked on it."""
        try:
            self._raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        """Everything else (recv, close, fileno, ...) is the socket's own."""
        return getattr(self._raw, name)


class Outbox:
    """A socket's outgoing text frames: written at once when the socket takes them whole, else queued for a writer.

    Writing at once spares a greenlet wake-up and two switches per cue, which is most of a
    cue's cost with thousands of walkers; the writer exists only while something is queued.
    """

    def __init__(
        self,
        ws,
        raw: LockedSocket | None,
        hub: LiveHub,
        limit: int,
        send_timeout_s: float | None = None,
        direct: bool = True,
    ):
        """An empty outbox for one socket: `limit` frames queued at most, a send stuck `send_timeout_s` closes it."""
        self.ws, self.raw, self.hub, self.limit = ws, raw, hub, limit
        self.send_timeout_s = send_timeout_s
        # Frames are written straight to the socket unless they must go through wsproto (deflate).
        self.direct = direct and raw is not None
        self.queue: deque[tuple[str, int | None]] = deque()
        # Guards the queue and the writer's coming and going (real threads under Werkzeug).
        self.mutex = threading.Lock()
        self.writer: threading.Thread | None = None
        self.rest: bytes | None = None  # a frame's tail after a partial write; the writer sends it first
        self.closed = False
        self.sending_since: float | None = None

    def deliver(self, text: str, not_after: int | None = None) -> bool:
        """Send or queue a frame (never blocks); a phone that falls this far behind is cut off."""
        if self.closed:
            return False
        with self.mutex:
            if self.writer is None and self.direct and self.ws.connected and self._send_now(text):
                return True
            if len(self.queue) >= self.limit:
                reason = f"outbox full ({self.limit} frames)"
            elif self.send_timeout_s is not None and self.stuck_for() > self.send_timeout_s:
                reason = f"a send blocked over {self.send_timeout_s:.0f} s"
            else:
                self.queue.append((text, not_after))
                if self.writer is None:
                    self._start_writer()
                return True
        log.warning("Socket %s: closing a socket that does not read", reason)
        self.abort()
        return False

    def _send_now(self, text: str) -> bool:
        """Write a frame straight to the socket if it takes some now (the rest goes to a writer); False if none."""
        frame = text_frame(text)
        try:
            written = self.raw.try_send(frame)
        except OSError:
            self.closed = True
            return True  # the socket is gone: nothing to queue
        if written == 0:
            return False
        if written < len(frame):
            self.rest = frame[written:]
            self.sending_since = time.monotonic()
            self._start_writer()
        return True

    def _start_writer(self) -> None:
        """Start a writer for what is queued (called with the mutex held)."""
        self.writer = threading.Thread(target=self.run, name="ws-writer", daemon=True)
        self.writer.start()

    def run(self) -> None:
        """The writer: finish a frame begun, send queued frames in order (dropping cues whose time passed), then end."""
        try:
            rest, self.rest = self.rest, None
            if rest is not None:
                self.raw.finish(rest)
                self.sending_since = None
            while True:
                with self.mutex:
                    if self.closed or not self.queue:
                        self.writer = None
                        return
                    text, not_after = self.queue.popleft()
                if not_after is not None and now_ms() > not_after:
                    self.hub.metrics.cues_dropped_late += 1
                    continue
                self.sending_since = time.monotonic()
                self.ws.send(text)
                self.sending_since = None
        except (ConnectionClosed, OSError):
            with self.mutex:
                self.closed = True
                self.writer = None

    def join(self, timeout: float) -> None:
        """Wait for the writer, if one is running, to end."""
        writer = self.writer
        if writer is not None:
            writer.join(timeout=timeout)

    def stuck_for(self) -> float:
        """Seconds the current send has been blocked (0 when not sending)."""
        since = self.sending_since
        return time.monotonic() - since if since is not None else 0.0

    def close(self) -> None:
        """Stop the writer; frames still queued are not sent."""
        self.closed = True

    def abort(self) -> None:
        """Close and cut the connection, so the handler and reader end too."""
        self.close()
        if self.raw is not None:
            self.raw.abort()
