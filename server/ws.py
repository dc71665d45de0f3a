"""The session websocket (flask-sock): refuse foreign upgrades, read control messages, write through one outbox.

Every socket has two greenlets (threads outside gevent): flask-sock's handler, which reads
and answers messages, and simple-websocket's reader. A frame for the phone is written at once
when the socket can take it whole without waiting (nearly always: a cue is a few hundred bytes);
otherwise it is queued and a writer greenlet, started for the occasion, sends it, so a slow
phone never holds up the scheduler (server/outbox.py).
"""

from __future__ import annotations

import gc
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request
from flask_sock import Sock

from . import inputs, network
from .db import close_db
from .devices import current_device
from .errors import error_on_socket, refused_on_socket
from .numbers import is_number
from .outbox import LockedSocket, Outbox
from .ratelimit import control_throttle
from .refusals import FORBIDDEN, TOO_MANY_REQUESTS, NotFound, Refusal
from .security import same_origin
from .sessions.hub import LiveHub
from .sessions.messages import encode
from .sessions.model import SessionGone
from .walkclock import CONTROLS

log = logging.getLogger(__name__)

sock = Sock()

SOCKET_ENDPOINT = "__flask_sock.session_socket"
SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")


class MessageInvalid(Refusal):
    """A message from the phone that cannot be acted on; `code` names the reason."""


def parse_message(data: Any, max_bytes: int) -> dict:
    """A control or ping message as a dict with a known `type`, or a Refusal (MessageInvalid; JsonInvalid: not JSON)."""
    if isinstance(data, (bytes, bytearray)):
        raise MessageInvalid("bad_message", "Messages must be JSON text frames, not binary.")
    if len(data) > max_bytes or len(data.encode("utf-8", "surrogatepass")) > max_bytes:
        raise MessageInvalid("too_large", f"Messages may be at most {max_bytes} bytes.")
    message = inputs.loads(data)  # JsonInvalid, a Refusal like MessageInvalid, when it is not JSON we accept
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise MessageInvalid("bad_message", 'A message must be a JSON object with a "type".')
    kind = message["type"]
    if kind not in CONTROLS and kind != "ping":
        expected = f"expected one of {', '.join(CONTROLS)} or ping"
        raise MessageInvalid("unknown_type", f"Unknown message type {kind[:40]!r}; {expected}.")
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


def answer(
    hub: LiveHub, session_id: str, data: Any, max_bytes: int, throttle: Callable[[], dict | None] | None = None
) -> dict | None:
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
    except Exception as exc:  # a control that does not apply, a session gone, a change not stored: say so
        return error_on_socket(exc, f"Control {message['type']} of session {session_id}")
    return None


class SocketSlots:
    """Sockets per session, counted from the moment an upgrade is allowed until its request ends.

    The check and the count are one step under one lock, so a burst of handshakes for one
    session cannot all pass the check before any of them is counted.
    """

    def __init__(self):
        """No socket counted yet."""
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
        ws,
        request.environ.get("retrowalk.socket"),
        hub,
        int(config["WS_OUTBOX_LIMIT"]),
        send_timeout_s,
        direct=not config["WS_COMPRESSION"],  # deflated frames must go through wsproto's compressor
    )
    max_bytes = int(config["WS_MAX_MESSAGE_BYTES"])
    throttle = control_throttle(g.get("device_id"), request.remote_addr)  # the device the upgrade check found
    try:
        hub.attach(session_id, outbox)
        # receive() with a timeout: simple-websocket can wake a waiting receive before it marks
        # the socket closed, so a receive without one could wait forever (simple-websocket's Base.receive).
        while ws.connected and not outbox.closed:
            data = ws.receive(timeout=poll_s)
            if data is not None:
                reply = answer(hub, session_id, data, max_bytes, throttle)
                if reply is not None:
                    outbox.deliver(encode(reply))
            if outbox.stuck_for() > send_timeout_s:
                log.warning("A send blocked over %.0f s: closing the socket", send_timeout_s)
                outbox.abort()
    except SessionGone as gone:
        outbox.deliver(encode(refused_on_socket(gone)))
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
        raise Refusal("forbidden_origin", "This websocket only accepts pages served by this server.", status=FORBIDDEN)
    session_id = (request.view_args or {}).get("session_id", "")
    hub: LiveHub = current_app.extensions["live"]
    if hub.owner(session_id) != current_device():
        raise NotFound("There is no such session on this device.")
    limit = int(current_app.config["WS_MAX_SOCKETS_PER_SESSION"])
    if not current_app.extensions["socket_slots"].reserve(session_id, limit):
        message = f"At most {limit} devices may watch one session at once."
        raise Refusal("too_many_sockets", message, status=TOO_MANY_REQUESTS)
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
    """Scheduler counters, sockets and threads (greenlets with ?greenlets=1), for the capacity benchmark; local only."""
    if not network.is_loopback(request.remote_addr or ""):
        raise NotFound("Not found.")
    stats = current_app.extensions["live"].snapshot()
    stats["threads"] = threading.active_count()
    checkpointer = current_app.extensions.get("checkpointer")  # the log's copies, off the worker (server/db.py)
    stats["wal_checkpoints"] = checkpointer.snapshot() if checkpointer else None
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
