"""The session websocket (flask-sock): refuse foreign upgrades, read control messages, write through one outbox.

Every socket has two greenlets (threads outside gevent): flask-sock's handler, which reads
and answers messages, and simple-websocket's reader. A frame for the phone is written at once
when the socket can take it whole without waiting (nearly always: a cue is a few hundred bytes);
otherwise it is queued and a writer greenlet, started for the occasion, sends it, so a slow
phone never holds up the scheduler. Every byte written to the socket, simple-websocket's own
pings and pongs included, goes through one per-socket lock and is written whole (see
LockedSocket).
"""

from __future__ import annotations

import gc
import logging
import math
import socket
import struct
import threading
import time
from collections import deque
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from . import inputs
from .clock import now_ms
from .db import close_db
from .devices import current_device
from .numbers import is_number
from .errors import STORAGE_MESSAGE, STORAGE_UNAVAILABLE, Refusal, error_response, is_storage_fault, refused_on_socket, socket_error
from .sessions.hub import LiveHub
from .sessions.messages import encode
from .sessions.model import SessionGone
from .walkclock import CONTROLS

log = logging.getLogger(__name__)

sock = Sock()

SOCKET_ENDPOINT = "__flask_sock.session_socket"
SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# The page scheme a request scheme belongs to (a socket's ws:// is an http page's).
WEB_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
LOOPBACK = frozenset({"127.0.0.1", "::1"})
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


class MessageInvalid(Refusal):
    """A message from the phone that cannot be acted on; `code` names the reason."""


def parse_message(data: Any, max_bytes: int) -> dict:
    """A control or ping message as a dict with a known `type`, or a Refusal (MessageInvalid; JsonInvalid for bad JSON)."""
    if isinstance(data, (bytes, bytearray)):
        raise MessageInvalid("bad_message", "Messages must be JSON text frames, not binary.")
    if len(data) > max_bytes or len(data.encode("utf-8", "surrogatepass")) > max_bytes:
        raise MessageInvalid("too_large", f"Messages may be at most {max_bytes} bytes.")
    message = inputs.loads(data)  # JsonInvalid, a Refusal like MessageInvalid, when it is not JSON we accept
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise MessageInvalid("bad_message", 'A message must be a JSON object with a "type".')
    kind = message["type"]
    if kind not in CONTROLS and kind != "ping":
        raise MessageInvalid("unknown_type", f"Unknown message type {kind[:40]!r}; expected one of {', '.join(CONTROLS)} or ping.")
    if kind in CONTROLS and message.get("at") is not None:
        at = message["at"]
        if not is_number(at) or not math.isfinite(at):
            raise MessageInvalid("bad_time", "A control's at must be the server-clock time it happened, in epoch ms.")
        message["at"] = int(at)
    if kind == "ping":
        t = message.get("t")
        if t is not None and not is_number(t):
            raise MessageInvalid("bad_message", "A ping's t must be the client's clock in milliseconds.")
    return message


def answer(hub: LiveHub, session_id: str, data: Any, max_bytes: int, throttle: Callable[[], dict | None] | None = None) -> dict | None:
    """Act on one message from the phone; return the reply for this socket alone (None: the broadcast says it).

    `throttle` counts a control against the device's and address's rate limits and returns
    the `rate_limited` error when over them (the control is then not applied).
    """
    try:
        message = parse_message(data, max_bytes)
    except Refusal as invalid:
        return refused_on_socket(invalid)
    if message["type"] == "ping":
        return {"type": "pong", "t": message.get("t"), "server_time": hub.clock()}
    if throttle is not None:
        limited = throttle()
        if limited is not None:
            return limited
    try:
        hub.control(session_id, message["type"], message.get("at"))
    except Refusal as refused:
        return refused_on_socket(refused)
    except SessionGone:
        return socket_error("not_found", "This session no longer exists.")
    except Exception as exc:  # the change was not stored (a locked database, say): say so, keep the socket
        if is_storage_fault(exc):
            log.warning("Control %s of session %s not stored: %s", message["type"], session_id, exc)
            return socket_error(STORAGE_UNAVAILABLE, STORAGE_MESSAGE)
        log.exception("Control %s of session %s failed", message["type"], session_id)
        return socket_error("internal", "The server could not save that; please try again.")
    return None


def _host_port(netloc: str, scheme: str) -> tuple[str, int | None]:
    """Host and port of a netloc, the scheme's default port filled in."""
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def same_origin(origin: str | None, host: str, scheme: str) -> bool:
    """True when there is no Origin (not a browser) or it names this very scheme, host and port."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    if not parts.netloc:
        return False  # "null" (sandboxed frames, file://) and anything unparsable
    # An http page must not drive an https site (nor the reverse): the scheme is part of the origin.
    if WEB_SCHEMES.get(parts.scheme.lower()) != WEB_SCHEMES.get(scheme.lower()):
        return False
    return _host_port(parts.netloc, parts.scheme) == _host_port(host, scheme)


class SocketSlots:
    """Sockets per session, counted from the moment an upgrade is allowed until its request ends.

    The check and the count are one step under one lock, so a burst of handshakes for one
    session cannot all pass the check before any of them is counted.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.taken: dict[str, int] = {}

    def reserve(self, session_id: str, limit: int) -> bool:
        """Take a slot for a new socket of this session, unless `limit` are taken."""
        with self.lock:
            count = self.taken.get(session_id, 0)
            if count >= limit:
                return False
            self.taken[session_id] = count + 1
            return True

    def release(self, session_id: str) -> None:
        """Give a slot back (its socket ended, or its handshake never completed)."""
        with self.lock:
            count = self.taken.get(session_id, 0) - 1
            if count > 0:
                self.taken[session_id] = count
            else:
                self.taken.pop(session_id, None)


SLOT_KEY = "retrowalk.socket_slot"


class LockedSocket:
    """The connection's socket, with every send under one lock and written whole.

    simple-websocket writes from its reader (pings, pongs, close) and from whoever calls
    `send`; it also ignores partial writes. Wrapping the socket fixes both for every writer.
    """

    def __init__(self, raw: socket.socket):
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

    def __init__(self, ws, raw: LockedSocket | None, hub: LiveHub, limit: int, send_timeout_s: float | None = None, direct: bool = True):
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
        """Write a frame straight to the socket if it takes some of it now (the rest goes to a writer); False if none."""
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
        """The writer: finish a frame begun, send queued frames in order (a cue whose time has passed is dropped), then end."""
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


@sock.route("/ws/sessions/<session_id>")
def session_socket(ws, session_id: str):
    """One phone (or tablet) watching and controlling a session."""
    # The upgrade's device check opened this request's database connection; a socket lives for
    # the whole walk, so give it back now rather than hold a connection per walker.
    close_db()
    app = current_app
    hub: LiveHub = app.extensions["live"]
    config = app.config
    poll_s, send_timeout_s = float(config["WS_RECEIVE_POLL_S"]), float(config["WS_SEND_TIMEOUT_S"])
    outbox = Outbox(
        ws, request.environ.get("retrowalk.socket"), hub, int(config["WS_OUTBOX_LIMIT"]), send_timeout_s,
        direct=not config["WS_COMPRESSION"],  # deflated frames must go through wsproto's compressor
    )
    max_bytes = int(config["WS_MAX_MESSAGE_BYTES"])
    from .ratelimit import control_throttle  # here: ratelimit imports this module through security

    throttle = control_throttle(g.get("device_id"), request.remote_addr)  # the device the upgrade check found
    try:
        hub.attach(session_id, outbox)
        # receive() with a timeout: simple-websocket can wake a waiting receive before it marks
        # the socket closed, so a receive without one could wait forever (PITFALLS.md).
        while ws.connected and not outbox.closed:
            data = ws.receive(timeout=poll_s)
            if data is not None:
                reply = answer(hub, session_id, data, max_bytes, throttle)
                if reply is not None:
                    outbox.deliver(encode(reply))
            if outbox.stuck_for() > send_timeout_s:
                log.warning("A send blocked over %.0f s: closing the socket", send_timeout_s)
                outbox.abort()
    except SessionGone:
        outbox.deliver(encode(socket_error("not_found", "This session no longer exists.")))
    finally:
        hub.detach(session_id, outbox)
        if not outbox.closed:
            # Let the writer flush what is queued (a last error, say) before the close frame.
            deadline = time.monotonic() + 1
            while outbox.queue and not outbox.closed and time.monotonic() < deadline:
                time.sleep(0.01)
        outbox.close()
        outbox.join(timeout=1)


def refuse_foreign_upgrade():
    """Before the handshake: only the owning device, from this site (or no browser at all), gets the socket."""
    if request.endpoint != SOCKET_ENDPOINT:
        return None
    if not same_origin(request.headers.get("Origin"), request.host, request.scheme):
        return error_response(403, "forbidden_origin", "This websocket only accepts pages served by this server.")
    session_id = (request.view_args or {}).get("session_id", "")
    hub: LiveHub = current_app.extensions["live"]
    if hub.owner(session_id) != current_device():
        return error_response(404, "not_found", "There is no such session on this device.")
    limit = int(current_app.config["WS_MAX_SOCKETS_PER_SESSION"])
    if not current_app.extensions["socket_slots"].reserve(session_id, limit):
        return error_response(429, "too_many_sockets", f"At most {limit} devices may watch one session at once.")
    # Given back when this request ends (teardown), whether the socket ran or the handshake failed.
    request.environ[SLOT_KEY] = session_id
    if not current_app.config["WS_COMPRESSION"]:
        # simple-websocket accepts permessage-deflate whenever offered, and its zlib state costs
        # about 300 KB a socket; our frames are a few hundred bytes, so the offer is withdrawn.
        request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    for key in SOCKET_KEYS:
        raw = request.environ.get(key)
        if raw is not None:
            wrapped = LockedSocket(raw)
            request.environ[key] = wrapped
            request.environ["retrowalk.socket"] = wrapped
            break
    return None


def release_socket_slot(_exc: BaseException | None = None) -> None:
    """When a socket's request ends, its slot is free for another phone."""
    session_id = request.environ.pop(SLOT_KEY, None)
    if session_id is not None:
        current_app.extensions["socket_slots"].release(session_id)


def live_metrics():
    """Scheduler counters, sockets and threads (greenlets with ?greenlets=1): for the capacity benchmark, from this machine only."""
    if request.remote_addr not in LOOPBACK:
        return error_response(404, "not_found", "Not found.")
    stats = current_app.extensions["live"].snapshot()
    stats["threads"] = threading.active_count()
    if request.args.get("greenlets"):
        # A scan of every object: slow with thousands of sockets, so only when asked.
        try:
            import greenlet
        except ImportError:
            stats["greenlets"] = None
        else:
            stats["greenlets"] = sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet))
    return stats


def init_app(app: Flask) -> None:
    """Register the websocket route, its upgrade guard and flask-sock's options from config."""
    app.config.setdefault(
        "SOCK_SERVER_OPTIONS",
        {"ping_interval": app.config["WS_PING_INTERVAL_S"], "max_message_size": app.config["WS_MAX_FRAME_BYTES"]},
    )
    app.extensions["socket_slots"] = SocketSlots()
    app.before_request(refuse_foreign_upgrade)
    app.teardown_request(release_socket_slot)
    sock.init_app(app)
    app.add_url_rule("/api/live/metrics", "live_metrics", live_metrics)
