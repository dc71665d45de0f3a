"""Hostile input and hostile conditions: every one gets a 4xx JSON error or a socket `error`, never a 500.

Longer than 450 lines: one promise (a 4xx JSON error or a socket `error`, never a 500, nothing lost)
against every hostile input and condition, one test each, with shared hostile clients.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from server import create_app, security
from server import ws as socket_layer

PLAN = {"name": "Lunch walk", "segments": [{"kind": "reverse", "seconds": 60}]}
DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.fixture
def app(tmp_path):
    """An app on a temporary database, never calling Google's voice."""
    return create_app(
        {"DATA_DIR": str(tmp_path / "data"), "AUDIO_CACHE": str(tmp_path / "audio"), "GTTS_ENABLED": False}
    )


@pytest.fixture
def client(app):
    """A device: the test client keeps the cookie of its first request."""
    client = app.test_client()
    client.get("/")
    return client


def hostile_bodies() -> list[tuple[str, str]]:
    """JSON texts the server must refuse as invalid_json, by name."""
    segment = '{"kind": "reverse", "seconds": %s}'
    return [
        ("nested 1,000 deep", DEEP),
        ("objects nested 1,000 deep", DEEP_OBJECT),
        ("NaN", '{"name": "x", "segments": [%s]}' % (segment % "NaN")),
        ("Infinity", '{"name": "x", "segments": [%s]}' % (segment % "Infinity")),
        ("-Infinity", '{"name": "x", "segments": [%s]}' % (segment % "-Infinity")),
        ("1e400", '{"name": "x", "segments": [%s]}' % (segment % "1e400")),
        ("beyond 64 bits", '{"name": "x", "segments": [%s]}' % (segment % str(2**64))),
        ("lone surrogate in a name", '{"name": "a\\ud800", "segments": [%s]}' % (segment % "60")),
        (
            "lone surrogate in a description",
            '{"name": "a", "description": "\\udfff", "segments": [%s]}' % (segment % "60"),
        ),
        ("lone surrogate in a key", '{"\\ud800": 1}'),
        ("not UTF-8", b'{"name": "\xff"}'),
    ]


def json_routes(client) -> list[tuple[str, str]]:
    """Every route that reads a JSON body, as (method, path)."""
    own = client.post("/api/plans", json=PLAN).json["id"]
    return [
        ("POST", "/api/plans"),
        ("PUT", f"/api/plans/{own}"),
        ("PUT", "/api/settings"),
        ("POST", "/api/sessions"),
        ("PUT", "/api/sessions/offline/walk-12345678"),
    ]


@pytest.mark.parametrize("name, body", hostile_bodies(), ids=[name for name, _ in hostile_bodies()])
def test_hostile_json_is_refused_the_same_way_on_every_route(client, name, body):
    for method, path in json_routes(client):
        response = client.open(path, method=method, data=body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.json)
        assert response.json["error"] == "invalid_json" and response.json["message"]


def test_a_lone_surrogate_plan_id_is_refused_not_looked_up(client):
    response = client.post("/api/sessions", data='{"plan_id": "a\\ud800"}', content_type="application/json")
    assert response.status_code == 400 and response.json["error"] == "invalid_json"


def test_ordinary_json_still_works_with_paired_surrogates_and_plain_numbers(client):
    created = client.post("/api/plans", data=json.dumps({**PLAN, "name": "Walk 🚶"}), content_type="application/json")
    assert created.status_code == 201 and created.json["name"] == "Walk 🚶"
    changed = client.put("/api/settings", json={"weight_kg": 70.5})
    assert changed.status_code == 200 and changed.json["weight_kg"] == 70.5


@pytest.mark.parametrize(
    "query",
    [
        "/api/stats/weeks?weeks=²",
        "/api/stats/weeks?weeks=١٢",
        "/api/stats/weeks?weeks=１２",
        "/api/stats/weeks?weeks=99999999999999999999999",
        "/api/history?before=9223372036854775808",
        "/api/history?before=-1",
        "/api/history?limit=²",
        "/api/history?limit=" + "9" * 5000,
        "/api/history?before=1_000",
        "/api/history?before=%201",
    ],
)
def test_query_numbers_are_ascii_digits_within_64_bits(client, query):
    response = client.get(query)
    assert response.status_code == 400, response.json
    assert set(response.json) == {"error", "message"}


def test_query_numbers_in_range_still_work(client):
    assert client.get("/api/stats/weeks?weeks=12").status_code == 200
    assert client.get("/api/history?before=9223372036854775807&limit=0").status_code == 200


class IdleHub:
    """A hub that answers pings and would accept any control."""

    def clock(self) -> int:
        """The server clock: a fixed instant."""
        return 1

    def control(self, session_id, kind, at=None):
        """Apply a control (or fail as the hub's story says)."""
        return None


@pytest.mark.parametrize(
    "frame",
    [
        DEEP,
        DEEP_OBJECT,
        '{"type": "ping", "t": NaN}',
        '{"type": "ping", "t": 1e400}',
        '{"type": "ping", "t": Infinity}',
        '{"type": "pause", "note": "\\ud800"}',
        "not json",
    ],
)
def test_hostile_socket_frames_get_the_same_error_as_http(frame):
    # A generous size limit, so the JSON reader (not the size check) is what answers.
    reply = socket_layer.answer(IdleHub(), "s", frame, 64 * 1024)
    assert reply["type"] == "error" and reply["error"] == "invalid_json" and reply["message"]


# --- The audio cache heals itself (defect 5) --------------------------------------------

from server.voice import INDEX_FILE, AudioCache, mp3_duration_ms  # noqa: E402

SWITCH = "Switch to reverse."


def spoil(path, how: str) -> None:
    """Damage a cached file the way a full disk or a stray write would."""
    if how == "empty":
        path.write_bytes(b"")
    elif how == "junk":
        path.write_bytes(b"\x00junk" * (path.stat().st_size // 5 + 1))
    else:  # same size, different bytes: only the hash can tell
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))


def original_of(rendition, cache) -> bytes:
    """The phrase rendered afresh in another cache: what a healed file should sound like."""
    fresh = AudioCache(cache.root.parent / "fresh", gtts_enabled=False)
    return (fresh.root / fresh.ensure([rendition.text], rendition.lang)[rendition.text].file).read_bytes()


@pytest.mark.parametrize("how", ["empty", "junk", "one byte flipped"])
def test_a_spoiled_cue_file_is_rendered_again_before_a_timeline_uses_it(tmp_path, how):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    good = cache.ensure([SWITCH], "en")[SWITCH]
    path = tmp_path / good.file
    spoil(path, how)
    spoiled = path.read_bytes()

    again = cache.ensure([SWITCH], "en")[SWITCH]
    assert again.file == good.file
    healed = path.read_bytes()
    assert healed != spoiled and len(healed) == again.bytes
    assert abs(mp3_duration_ms(healed) - mp3_duration_ms(original_of(good, cache))) < 100


@pytest.mark.parametrize("how", ["empty", "junk"])
def test_a_spoiled_cue_file_is_never_served_for_a_year(app, how):
    client = app.test_client()
    cache = app.extensions["audio_cache"]
    good = cache.ensure([SWITCH], "en")[SWITCH]
    spoil(cache.root / good.file, how)

    response = client.get(f"/audio/{good.file}")
    assert response.status_code == 200
    assert len(response.data) == good.bytes and mp3_duration_ms(response.data) > 0


def corrupt_index(root) -> None:
    """Replace the cache's index with bytes that are not a SQLite database."""
    for suffix in ("", "-wal", "-shm"):
        (root / (INDEX_FILE + suffix)).unlink(missing_ok=True)
    (root / INDEX_FILE).write_bytes(b"this is not a database " * 200)


def test_a_corrupt_index_at_boot_is_rebuilt_with_one_log_line(tmp_path, caplog):
    AudioCache(tmp_path, gtts_enabled=False).ensure([SWITCH], "en")
    corrupt_index(tmp_path)

    with caplog.at_level("WARNING"):
        cache = AudioCache(tmp_path, gtts_enabled=False)
    assert len([r for r in caplog.records if "index" in r.getMessage()]) == 1
    assert mp3_duration_ms((tmp_path / cache.ensure([SWITCH], "en")[SWITCH].file).read_bytes()) > 0


def test_an_index_corrupted_while_running_heals_on_the_next_session(tmp_path):
    cache = AudioCache(tmp_path, gtts_enabled=False)
    cache.ensure([SWITCH], "en")
    corrupt_index(tmp_path)

    assert cache.ensure([SWITCH, "Halfway."], "en").keys() == {SWITCH, "Halfway."}


def test_the_app_boots_and_creates_sessions_over_a_corrupt_index(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    (audio / INDEX_FILE).write_bytes(b"\x00" * 4096)
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "AUDIO_CACHE": str(audio), "GTTS_ENABLED": False})
    client = app.test_client()
    client.get("/")
    response = client.post("/api/sessions", json={"plan_id": "first-steps"})
    assert response.status_code == 201, response.json


def test_an_index_from_before_hashes_learns_them_and_still_catches_damage(tmp_path):
    import sqlite3

    good = AudioCache(tmp_path, gtts_enabled=False).ensure([SWITCH], "en")[SWITCH]
    with sqlite3.connect(tmp_path / INDEX_FILE) as conn:
        conn.execute("ALTER TABLE renditions DROP COLUMN sha256")
    cache = AudioCache(tmp_path, gtts_enabled=False)
    assert cache.ensure([SWITCH], "en")[SWITCH] == good
    with sqlite3.connect(tmp_path / INDEX_FILE) as conn:
        assert conn.execute("SELECT sha256 FROM renditions").fetchone()[0]
    spoil(tmp_path / good.file, "one byte flipped")
    assert (
        mp3_duration_ms(
            (tmp_path / AudioCache(tmp_path, gtts_enabled=False).ensure([SWITCH], "en")[SWITCH].file).read_bytes()
        )
        > 0
    )


# --- Storage faults (defect 6) ----------------------------------------------------------

import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from server import db as storage  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def serve_on(folder: Path, tmp_path) -> subprocess.CompletedProcess:
    """`retrowalk serve` with its data in `folder`, on a port it cannot bind (it must refuse before that)."""
    argv = ["serve", "--host", "127.0.0.1", "--port", "1", "--data-dir", str(folder)]
    return subprocess.run(
        [sys.executable, "-m", "server", *argv, "--audio-cache", str(tmp_path / "cache"), "--offline"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def unwritable_data_folders(tmp_path) -> dict[str, Path]:
    """Data folders nobody, root included, can write a database into (chmod does not stop root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    taken = tmp_path / "db-is-a-folder"
    (taken / "retrowalk.db").mkdir(parents=True)
    return {"under a file": blocker / "data", "procfs": Path("/proc"), "database is a folder": taken}


@pytest.mark.parametrize("case", ["under a file", "procfs", "database is a folder"])
def test_serve_refuses_an_unwritable_data_folder_in_one_line_before_claiming_to_run(tmp_path, case):
    folder = unwritable_data_folders(tmp_path)[case]
    result = serve_on(folder, tmp_path)
    assert result.returncode != 0
    assert "RetroWalk is running" not in result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0], result.stderr


@pytest.fixture
def read_only_later(app, monkeypatch):
    """Make every database connection opened from now on refuse writes, as a remounted disk would."""

    def connect(path, **options):
        """A real connection that refuses every write."""
        database = real_connect(path, **options)
        database.conn.execute("PRAGMA query_only = ON")
        return database

    real_connect = storage.connect

    def turn():
        """From now on, every new connection is read-only."""
        monkeypatch.setattr(storage, "connect", connect)

    return turn


def test_a_database_turned_read_only_answers_503_and_the_app_still_loads(app, client, read_only_later):
    plan = client.post("/api/plans", json=PLAN).json
    read_only_later()

    assert client.get("/").status_code == 200
    assert plan["id"] in [p["id"] for p in client.get("/api/plans").json]
    assert client.get("/api/settings").status_code == 200
    assert client.get("/api/history").status_code == 200
    for response in (
        client.post("/api/plans", json=PLAN),
        client.put("/api/settings", json={"weight_kg": 70}),
        client.delete(f"/api/plans/{plan['id']}"),
        client.post("/api/programmes/first-steps/start"),
        app.test_client().post(
            "/api/plans", json=PLAN
        ),  # a new device cannot be registered (a cookieless read needs none)
    ):
        assert response.status_code == 503, response.json
        assert response.json["error"] == "storage_unavailable" and "save" in response.json["message"]
        assert response.headers["Retry-After"]


class ReadOnlyHub:
    """A hub whose store refuses writes, as a read-only database does."""

    def clock(self) -> int:
        """The server clock: a fixed instant."""
        return 1

    def control(self, session_id, kind, at=None):
        """Apply a control (or fail as the hub's story says)."""
        conn = sqlite3.connect(":memory:")
        conn.execute("PRAGMA query_only = ON")
        conn.execute("CREATE TABLE t (x)")  # raises what a read-only disk raises


def test_a_control_on_a_read_only_database_says_storage_and_keeps_the_socket():
    reply = socket_layer.answer(ReadOnlyHub(), "s", '{"type": "pause"}', 4096)
    assert reply["type"] == "error" and reply["error"] == "storage_unavailable"


# --- Browser-facing defaults (defect 7) -------------------------------------------------

EVIL = "http://evil.example"


def test_every_page_carries_a_strict_content_security_policy_and_the_other_headers(client):
    response = client.get("/")
    csp = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "ws://localhost" in csp["connect-src"] and "blob:" in csp["media-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert (
        "camera=()" in response.headers["Permissions-Policy"]
        and "screen-wake-lock=(self)" in response.headers["Permissions-Policy"]
    )
    assert "Strict-Transport-Security" not in response.headers  # plain http: HSTS would be ignored


def test_https_gets_hsts_and_a_secure_socket_origin(app):
    response = app.test_client().get("/", base_url="https://gym.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "wss://gym.example" in response.headers["Content-Security-Policy"]


def test_a_devices_private_json_is_never_stored_by_a_cache(client):
    for path in ("/api/settings", "/api/plans", "/api/history", "/api/stats/week", "/api/sessions/nope"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_the_app_shell_keeps_its_own_caching(client):
    assert client.get("/").headers["Cache-Control"] == "no-cache"


def test_a_cross_site_form_post_cannot_start_a_programme(client):
    response = client.post("/api/programmes/first-steps/start", data={"x": "1"}, headers={"Origin": EVIL})
    assert response.status_code == 403 and response.json["error"] == "forbidden_origin"
    assert client.get("/api/settings").json["programme"] is None
    for method, path in (
        ("PUT", "/api/settings"),
        ("POST", "/api/plans"),
        ("DELETE", "/api/plans/my-x"),
        ("POST", "/api/sessions"),
    ):
        assert client.open(path, method=method, json={}, headers={"Origin": EVIL}).status_code == 403, path
    assert client.post("/api/plans", json=PLAN, headers={"Origin": "null"}).status_code == 403
    assert client.post("/api/plans", json=PLAN, headers={"Origin": "https://localhost"}).status_code == 403


def test_a_cross_site_write_makes_no_device(app):
    response = app.test_client().post("/api/programmes/first-steps/start", headers={"Origin": EVIL})
    assert response.status_code == 403 and "Set-Cookie" not in response.headers


def test_same_site_pages_and_non_browser_clients_still_write(client):
    same = client.post("/api/programmes/first-steps/start", headers={"Origin": "http://localhost"})
    assert same.status_code == 200 and same.json["following"]
    assert client.post("/api/plans", json=PLAN).status_code == 201  # no Origin: curl, scripts, tests


@pytest.mark.parametrize(
    "origin, host, scheme, allowed",
    [
        ("https://gym.example:8000", "gym.example:8000", "http", False),
        ("http://gym.example:8443", "gym.example:8443", "https", False),
        ("http://gym.example", "gym.example:443", "https", False),
        ("https://gym.example", "gym.example:443", "https", True),
        ("HTTPS://gym.example", "gym.example", "wss", True),
    ],
)
def test_the_origin_check_compares_the_scheme_too(origin, host, scheme, allowed):
    assert security.same_origin(origin, host, scheme) is allowed


def proxied_app(tmp_path, **config):
    """An app behind one reverse proxy."""
    return create_app(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "AUDIO_CACHE": str(tmp_path / "audio"),
            "GTTS_ENABLED": False,
            "PROXY_HOPS": 1,
            **config,
        }
    )


def test_behind_a_proxy_forwarded_headers_count_only_from_the_proxy(tmp_path):
    app = proxied_app(tmp_path)
    forged = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}
    # A client on the internet claiming to be local, over https: neither is believed.
    stranger = app.test_client().get("/api/live/metrics", headers=forged, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert stranger.status_code == 404 and "Strict-Transport-Security" not in stranger.headers
    # The proxy (loopback by default) speaking for a remote walker over https: believed.
    relayed = app.test_client().get(
        "/",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert "Strict-Transport-Security" in relayed.headers
    metrics = app.test_client().get(
        "/api/live/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert metrics.status_code == 404


def test_live_metrics_answer_this_machine_only(app):
    """Any loopback address is this machine (the benchmarks may bind 127.0.0.2); a LAN phone gets a 404."""
    for address, status in (("127.0.0.1", 200), ("127.0.0.2", 200), ("::1", 200), ("192.168.1.20", 404)):
        answer = app.test_client().get("/api/live/metrics", environ_base={"REMOTE_ADDR": address})
        assert answer.status_code == status, address


def test_the_trusted_proxy_address_is_configurable(tmp_path):
    app = proxied_app(tmp_path, PROXY_TRUSTED="10.0.0.0/8")
    relayed = app.test_client().get(
        "/", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert "Strict-Transport-Security" in relayed.headers
    local = app.test_client().get(
        "/", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert "Strict-Transport-Security" not in local.headers


def test_a_real_server_believes_forwarded_headers_only_from_its_proxy(server, fresh_server):
    import requests

    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    # No proxy configured: a local client claiming https is not believed (gunicorn trusts loopback by default).
    assert "Strict-Transport-Security" not in requests.get(server.url + "/", headers=forged, timeout=10).headers
    # A proxy elsewhere: this loopback client is not it, so its headers change nothing.
    proxied = fresh_server(extra_args=["--behind-proxy", "1", "--proxy-address", "192.0.2.1"])
    response = requests.get(proxied.url + "/", headers=forged, timeout=10)
    assert "Strict-Transport-Security" not in response.headers
    assert requests.get(proxied.url + "/api/live/metrics", headers=forged, timeout=10).status_code == 200


# --- The sockets-per-session cap holds under a burst (defect 2) ----------------------------

import contextlib  # noqa: E402
import threading  # noqa: E402

HANDSHAKES = 50
SOCKET_CAP = 8  # the server's default WS_MAX_SOCKETS_PER_SESSION


def test_fifty_simultaneous_handshakes_get_at_most_the_cap_and_slots_come_back(server):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from test_ws import cookie_of, create_session

    device = server.client()
    session = create_session(device, server.url)
    url, headers = server.ws_url + session["ws"], {"Cookie": cookie_of(device)}
    start, lock = threading.Barrier(HANDSHAKES), threading.Lock()
    opened, refused, failed = [], [], []
    # Each socket opened is closed at the end, as websockets wants its sync connections used: in a `with`.
    sockets = contextlib.ExitStack()

    def handshake():
        """One phone's upgrade, at the same moment as the others."""
        start.wait()
        try:
            socket = connect(url, additional_headers=headers, open_timeout=30)
        except InvalidStatus as error:
            with lock:
                refused.append(error.response.status_code)
        except Exception as error:  # noqa: BLE001 - collected and reported
            with lock:
                failed.append(repr(error))
        else:
            with lock:
                opened.append(sockets.enter_context(socket))

    threads = [threading.Thread(target=handshake) for _ in range(HANDSHAKES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failed == []
        assert len(opened) == SOCKET_CAP and refused == [429] * (HANDSHAKES - SOCKET_CAP)
    finally:
        sockets.close()
    # Every slot is given back when its socket ends: a phone can join again.
    deadline = time.monotonic() + 10
    while True:
        try:
            with connect(url, additional_headers=headers, open_timeout=10) as again:
                assert json.loads(again.recv(timeout=10))["type"] == "hello"
            break
        except InvalidStatus:
            assert time.monotonic() < deadline, "a slot was never released"
            time.sleep(0.2)


# --- One client cannot starve the others (defect 3) ---------------------------------------

from server.ratelimit import Limiter, RateLimited  # noqa: E402

STRANGER = "198.51.100.7"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        """Start at an arbitrary instant."""
        self.now = 1000.0

    def __call__(self) -> float:
        """The current instant."""
        return self.now


def test_a_token_bucket_allows_its_burst_then_refills_at_its_rate():
    clock = FakeClock()
    limits = Limiter({"write": {"device": [60, 3]}}, clock=clock)
    for _ in range(3):
        limits.hit("write", device="d1")
    with pytest.raises(RateLimited) as refused:
        limits.hit("write", device="d1")
    assert refused.value.retry_after_s == 1
    limits.hit("write", device="d2")  # another device has its own bucket
    clock.now += 1
    limits.hit("write", device="d1")


def test_a_refused_hit_takes_nothing_from_the_other_bucket():
    clock = FakeClock()
    limits = Limiter({"write": {"device": [60, 1], "address": [60, 2]}}, clock=clock)
    limits.hit("write", device="d1", address=STRANGER)
    with pytest.raises(RateLimited):
        limits.hit("write", device="d1", address=STRANGER)
    limits.hit("write", device="d2", address=STRANGER)  # the address still had its second token


def test_buckets_stay_bounded_under_many_keys():
    clock = FakeClock()
    limits = Limiter({"new_device": {"address": [60, 5]}}, clock=clock, max_buckets=100)
    for n in range(1000):
        limits.hit("new_device", address=f"10.0.{n // 256}.{n % 256}")
    assert len(limits.buckets) <= 100


def limited_app(tmp_path, **limits):
    """An app with tight limits for the rules given."""
    return create_app(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "AUDIO_CACHE": str(tmp_path / "audio"),
            "GTTS_ENABLED": False,
            "RATE_LIMITS": limits,
        }
    )


def assert_rate_limited(response) -> None:
    """429 in the one error shape, with Retry-After in the header and the body."""
    assert response.status_code == 429, response.json
    assert response.json["error"] == "rate_limited" and response.json["message"]
    assert int(response.headers["Retry-After"]) >= 1 and response.json["retry_after"] >= 1


def test_plan_and_settings_writes_are_limited_per_device(tmp_path):
    app = limited_app(tmp_path, write={"device": [6, 3], "address": [600, 600]})
    walker, other = app.test_client(), app.test_client()
    assert walker.post("/api/plans", json=PLAN).status_code == 201
    assert walker.put("/api/settings", json={"weight_kg": 70}).status_code == 200
    assert walker.post("/api/programmes/first-steps/start").status_code == 200
    assert_rate_limited(walker.post("/api/plans", json=PLAN))
    assert_rate_limited(walker.put("/api/settings", json={"weight_kg": 71}))
    assert walker.get("/api/plans").status_code == 200  # reading is never limited
    assert other.post("/api/plans", json=PLAN).status_code == 201


def test_session_creation_is_limited_per_device(tmp_path):
    app = limited_app(tmp_path, session={"device": [1, 1], "address": [600, 600]})
    walker = app.test_client()
    assert walker.post("/api/sessions", json={"plan_id": "first-steps"}).status_code == 201
    assert_rate_limited(walker.post("/api/sessions", json={"plan_id": "first-steps"}))


def test_every_limited_or_anonymous_endpoint_named_is_one_the_app_serves(app):
    """A route moved to another blueprint changes its endpoint name: its rate limit and cookie rule must follow it."""
    from server.devices import ANONYMOUS_ENDPOINTS, ISSUING_ENDPOINTS
    from server.ratelimit import ENDPOINT_RULES
    from server.ws import SOCKET_ENDPOINT

    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(ENDPOINT_RULES) <= served and served >= ANONYMOUS_ENDPOINTS
    # The page that hands a phone its device, and the socket whose handshake is checked before the upgrade.
    assert served >= ISSUING_ENDPOINTS and SOCKET_ENDPOINT in served


def test_writes_from_one_address_are_limited_across_its_devices_and_loopback_is_exempt(tmp_path):
    app = limited_app(tmp_path, write={"device": [600, 600], "address": [6, 3]})
    stranger = {"REMOTE_ADDR": STRANGER}
    answers = [app.test_client().post("/api/plans", json=PLAN, environ_base=stranger) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [201, 201, 201]
    assert_rate_limited(answers[3])
    assert all(app.test_client().post("/api/plans", json=PLAN).status_code == 201 for _ in range(5))


def test_new_devices_are_limited_per_address(tmp_path):
    app = limited_app(tmp_path, new_device={"address": [2, 2]})
    stranger = {"REMOTE_ADDR": STRANGER}
    answers = [app.test_client().post("/api/plans", json=PLAN, environ_base=stranger) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_rate_limited(answers[2])
    assert "Set-Cookie" not in answers[2].headers
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        assert conn.execute("SELECT count(*) FROM devices").fetchone()[0] == 2


def test_a_throttled_socket_control_is_answered_and_not_applied():
    applied = []

    class CountingHub(IdleHub):
        """A hub that records the controls it applied."""

        def control(self, session_id, kind, at=None):
            """Apply a control (or fail as the hub's story says)."""
            applied.append(kind)

    limited = {
        "type": "error",
        "error": "rate_limited",
        "message": "Too many requests; please try again in 1 s.",
        "retry_after": 1,
    }
    assert socket_layer.answer(CountingHub(), "s", '{"type": "pause"}', 4096, throttle=lambda: limited) == limited
    assert (
        socket_layer.answer(CountingHub(), "s", '{"type": "ping", "t": 1}', 4096, throttle=lambda: limited)["type"]
        == "pong"
    )
    assert applied == []


def test_socket_controls_over_the_limit_get_an_error_and_the_socket_stays(fresh_server):
    from test_ws import Listener, cookie_of, create_session, of

    running = fresh_server(env={"RETROWALK_RATE_LIMITS": json.dumps({"control": {"device": [6, 3]}})})
    device = running.client()
    session = create_session(device, running.url)
    phone = Listener(running.ws_url + session["ws"], cookie_of(device))
    phone.next(of("hello"))
    for control in ("start", "pause", "resume", "pause"):
        phone.send({"type": control})
    assert phone.next(of("error"))[0]["error"] == "rate_limited"
    phone.send({"type": "ping", "t": 3})
    assert phone.next(of("pong"))[0]["t"] == 3


def test_pause_and_resume_thousands_of_times_leaves_no_pile_of_stale_wakeups(app, client):
    hub = app.extensions["live"]
    session = client.post("/api/sessions", json={"plan_id": "first-steps"}).json
    hub.control(session["id"], "start")
    for _ in range(3000):
        hub.control(session["id"], "pause")
        hub.control(session["id"], "resume")
    assert len(hub.heap) < 100


PIPELINED = 1500


@pytest.mark.realtime(seconds=14)
def test_a_pipelined_burst_on_one_connection_does_not_hold_up_the_cue_scheduler(fresh_server):
    import socket

    from test_ws import Listener, cookie_of, create_session, of

    running = fresh_server()
    device = running.client()
    # 5-second segments with a 3-second countdown: the scheduler wakes about every second.
    session = create_session(device, running.url, segments=[{"kind": "forward", "seconds": 5}] * 24, countdown=3)
    phone = Listener(running.ws_url + session["ws"], cookie_of(device))
    phone.next(of("hello"))
    phone.send({"type": "start"})
    phone.next(of("cue"))
    request = f"GET /api/plans HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie_of(device)}\r\n\r\n".encode()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", running.port)) as conn:
        threading.Thread(target=conn.sendall, args=(request * PIPELINED,), daemon=True).start()
        answered, tail = 0, b""
        while answered < PIPELINED:
            data = conn.recv(1 << 16)
            assert data, "the server closed the connection"
            chunk = tail + data
            answered += chunk.count(b"HTTP/1.1 200") - tail.count(b"HTTP/1.1 200")
            tail = chunk[-16:]
    burst_ms = (time.monotonic() - started) * 1000
    lag_ms = requests.get(running.url + "/api/live/metrics", timeout=10).json()["scheduler_lag_max_ms"]
    # Unfixed, the scheduler waited out the whole burst (lag close to its length); a generous bound.
    assert lag_ms < burst_ms / 2, f"scheduler lag {lag_ms} ms during a {burst_ms:.0f} ms burst"


def read_only_error() -> sqlite3.OperationalError:
    """The very error SQLite raises for a write to a read-only database."""
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA query_only = ON")
    try:
        conn.execute("CREATE TABLE t (x)")
    except sqlite3.OperationalError as error:
        return error
    raise AssertionError("query_only did not refuse a write")


def test_a_scheduler_that_cannot_store_a_finish_logs_one_line_and_tries_again(app, client, caplog, monkeypatch):
    hub = app.extensions["live"]
    hub.stop()  # the test drives the scheduler by hand
    session = client.post("/api/sessions", json={"plan_id": "first-steps"}).json
    hub.control(session["id"], "start")

    def refuse(*args, **kwargs):
        """Fail as a read-only disk does."""
        raise read_only_error()

    monkeypatch.setattr(hub.store, "record", refuse)
    with caplog.at_level("WARNING"):
        hub.tick(now=hub.clock() + 24 * 3600 * 1000)  # long past its end: time to finish it
    lines = [r for r in caplog.records if session["id"] in r.getMessage() and not r.getMessage().startswith("Cue")]
    assert len(lines) == 1 and lines[0].exc_info is None and "readonly" in lines[0].getMessage()
    assert any(entry[2] == session["id"] for entry in hub.heap)  # it will be tried again


def test_configured_limits_go_over_the_defaults_scope_by_scope():
    from server.ratelimit import DEFAULT_RATE_LIMITS, merged_limits

    limits = merged_limits({"control": {"device": [6, 3]}, "session": {"address": None}})
    assert limits["control"] == {"device": [6, 3], "address": DEFAULT_RATE_LIMITS["control"]["address"]}
    assert "address" not in limits["session"] and limits["write"] == DEFAULT_RATE_LIMITS["write"]
    with pytest.raises(ValueError):
        merged_limits({"write": {"device": [0, 5]}})


def test_serve_refuses_a_read_only_mounted_data_folder(tmp_path):
    """A read-only bind mount stops root too (skipped where this machine may not mount)."""
    folder = tmp_path / "ro-data"
    folder.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("cannot bind-mount here (needs root with CAP_SYS_ADMIN)")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        result = serve_on(folder, tmp_path)
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)
    assert result.returncode != 0 and "RetroWalk is running" not in result.stdout
    assert result.stderr.strip() == f"Error: Cannot write the data folder {folder}: Read-only file system."
