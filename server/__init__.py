"""RetroWalk: a voice coach for retro walking, served by Flask to a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = ROOT / "web"

DEFAULTS: dict[str, Any] = {
    "DATA_DIR": str(ROOT / "data"),
    "AUDIO_CACHE": str(ROOT / "audio_cache"),
    # JSON bodies are small plans; anything bigger is refused with 413 before parsing.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "GTTS_ENABLED": True,
    "GTTS_TIMEOUT_S": 5.0,
    "GTTS_MIN_INTERVAL_S": 0.3,
    # Served audio never changes (its name is its content's hash), so phones keep it a year.
    "AUDIO_MAX_AGE_S": 365 * 24 * 3600,
    "DEVICE_COOKIE": "rw_device",
    "DEVICE_COOKIE_MAX_AGE_S": 5 * 365 * 24 * 3600,
    # Behind a reverse proxy, trust this many X-Forwarded-* hops (0: not behind one)...
    "PROXY_HOPS": 0,
    # ...and only when the request comes from one of these addresses or networks (the proxy's).
    "PROXY_TRUSTED": "127.0.0.1,::1",
    # Over https, browsers are told to use nothing else for this long (0: no HSTS header).
    "HSTS_MAX_AGE_S": 365 * 24 * 3600,
    # Rate limits (server/ratelimit.py): {rule: {"device"|"address": [per minute, burst]}} over its defaults.
    "RATE_LIMITS_ENABLED": True,
    "RATE_LIMITS": {},
    # Addresses that skip the per-address limits (a local proxy without --behind-proxy, the benchmarks).
    "RATE_LIMIT_EXEMPT": "127.0.0.1,::1",
    # Live sessions: a cue is sent this long before it is due, so the phone can schedule it exactly.
    "CUE_LEAD_MS": 1500,
    # A tap on Start takes effect this long after it (and a skip lands this long before the next
    # segment): short, so the first word is heard within a second; the track's quiet lead-in
    # (server/track.py) covers it.
    "START_LEAD_MS": 500,
    # A cue is sent only while at least this much remains before its due (else it is not sent).
    "CUE_MIN_MARGIN_MS": 50,
    # A walk left paused this long is stopped (0: never).
    "LIVE_MAX_PAUSE_S": 4 * 3600,
    # Websocket: keepalive pings (dead phones are dropped after one unanswered), frame limits.
    "WS_PING_INTERVAL_S": 25,
    # Our own message limit, answered with an error; simple-websocket closes (1009) above the frame limit.
    "WS_MAX_MESSAGE_BYTES": 4096,
    "WS_MAX_FRAME_BYTES": 64 * 1024,
    # How often a socket's handler wakes when the phone is silent, to check for a send stuck on a
    # phone that stopped reading (each new frame checks too). Some closed sockets' handlers only
    # notice the close here, holding the session's socket slot until then: at 30 s the churn
    # benchmark's reconnects got 429 too_many_sockets, so 5 s until that is found.
    "WS_RECEIVE_POLL_S": 5,
    # A send blocked this long (a phone that stopped reading) closes the socket.
    "WS_SEND_TIMEOUT_S": 30,
    # Frames queued for one socket beyond this close it: the phone has stopped reading.
    "WS_OUTBOX_LIMIT": 512,
    "WS_MAX_SOCKETS_PER_SESSION": 8,
    # permessage-deflate: off, as cue frames are tiny and its zlib state is ~300 KB a socket.
    "WS_COMPRESSION": False,
    # Full garbage collections run by the cue scheduler, with the cues of their pause sent ahead
    # (server/sessions/scheduler.py); `retrowalk serve` turns this on, other processes keep Python's own.
    "SCHEDULED_GC": False,
    # Seconds between copies of the database's write-ahead log into its file by a thread of its own
    # (server/db.py Checkpointer), so no commit does it with the worker stopped; `retrowalk serve`
    # sets 5, other processes (0) leave it to SQLite.
    "WAL_CHECKPOINT_EVERY_S": 0,
    # Several instances behind a balancer that routes /ws/sessions/<id> by its first letters: this
    # instance's letters, put before each session id it makes (docs/scaling.md); empty for one.
    "SHARD": "",
    # The phone app's folder: web/ in the repository; another (a copy changed in a test, a
    # customised build) is served, and version-stamped into sw.js, just the same.
    "WEB_DIR": str(WEB_DIR),
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then RETROWALK_* environment variables, then the test config."""
    app = Flask(__name__, static_folder=str(WEB_DIR), static_url_path="")
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("RETROWALK")
    if test_config:
        app.config.from_mapping(test_config)
    app.static_folder = app.config["WEB_DIR"]
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config.setdefault("DATABASE", str(data_dir / "retrowalk.db"))

    from . import db

    database = db.connect(app.config["DATABASE"])
    try:
        db.migrate(database)
    finally:
        database.close()
    if app.config["WAL_CHECKPOINT_EVERY_S"]:
        # Before the live hub and the requests open their connections, so none of them copies the log itself.
        app.extensions["checkpointer"] = db.Checkpointer(
            app.config["DATABASE"], app.config["WAL_CHECKPOINT_EVERY_S"]
        ).start()
    app.teardown_appcontext(db.close_db)

    from .voice import AudioCache

    app.extensions["audio_cache"] = AudioCache(
        app.config["AUDIO_CACHE"],
        gtts_enabled=bool(app.config["GTTS_ENABLED"]),
        gtts_timeout=float(app.config["GTTS_TIMEOUT_S"]),
        gtts_min_interval=float(app.config["GTTS_MIN_INTERVAL_S"]),
    )
    from .trackstore import TrackStore

    # Each session's whole walk as one MP3 (pocket mode), kept beside the cue files it is made of.
    app.extensions["tracks"] = TrackStore(app.config["AUDIO_CACHE"], app.extensions["audio_cache"].path_for)

    from . import appfiles, compression, devices, errors, pages, ratelimit, routes, security

    errors.register_error_handlers(app)
    # Innermost: the app's files answered from memory once Flask has answered them (proxies, yielding still apply).
    appfiles.init_app(app)
    compression.init_app(app)
    security.init_app(app)
    devices.init_app(app)
    ratelimit.init_app(app)
    routes.register(app)
    from . import ws
    from .sessions import hub

    hub.init_app(app)
    ws.init_app(app)
    app.register_blueprint(pages.bp)
    from . import openapi

    app.register_blueprint(openapi.bp)
    return app
