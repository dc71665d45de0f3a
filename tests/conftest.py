"""Shared fixtures: a real `retrowalk serve` on 127.0.0.1 with a real SQLite file."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from hypothesis import settings as hypothesis_settings

# In CI the property tests are derandomized (a fixed seed per test), so a landing never
# hangs on which examples a run happened to draw; locally they explore new examples each run.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")

# Generous: a cold start on a loaded 2-core CI machine imports gevent, Flask and eSpeak.
SERVER_START_TIMEOUT_S = 60
# How long to wait before trying a port again that a killed server may still hold.
PORT_RETRY_S = 0.5


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    """A `retrowalk serve` subprocess and the folders it owns."""

    data_dir: Path
    audio_cache: Path
    port: int = field(default_factory=free_port)
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The websocket base URL."""
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> RunningServer:
        """Start the server and wait until /healthz answers."""
        argv = [
            sys.executable,
            "-m",
            "server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--audio-cache",
            str(self.audio_cache),
            "--offline",
            *self.extra_args,
        ]
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # Open while the server runs (its stdout and stderr); stop() and kill() close it.
        self.log = open(self.data_dir.parent / f"server-{self.port}.log", "ab")  # noqa: SIM115
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        self._launch(argv)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                # A restart right after a kill -9 can find the port still held by the dying worker.
                if self._port_was_busy() and time.monotonic() < deadline:
                    time.sleep(PORT_RETRY_S)
                    self._launch(argv)
                    continue
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log.name}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {SERVER_START_TIMEOUT_S} s")

    def _launch(self, argv: list[str]) -> None:
        """Start the server process, in a process group of its own (kill() ends master and worker together)."""
        self.log_start = os.path.getsize(self.log.name)  # the child writes through its own descriptor
        self.process = subprocess.Popen(
            argv,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            cwd=Path(__file__).resolve().parent.parent,
            start_new_session=True,
        )

    def _port_was_busy(self) -> bool:
        """Whether the process that just exited said its port was in use."""
        with open(self.log.name, "rb") as written:
            written.seek(self.log_start)
            return b"already in use" in written.read()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the server with a signal (SIGKILL for a crash) and return its exit code."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode if self.process else 0

    def kill(self) -> None:
        """End the server at once, master and worker (a test's teardown: nothing is left to save)."""
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if not self.log.closed:
            self.log.close()

    def client(self) -> requests.Session:
        """A new device: a requests session that holds its own rw_device cookie."""
        session = requests.Session()
        session.get(self.url + "/", timeout=10)
        return session


# The long tests: tens of seconds of CPU, walks timed by the real clock, the browser. Under
# pytest-xdist (tests/run, --dist worksteal) each worker starts with a run of the collection and
# steals from the end of another's, so the long tests are spread evenly through it, the slowest
# first: they start early, and what is left to end the run is short.
LONG_TESTS = ("slow", "realtime", "browser")


def expected_seconds(item) -> float:
    """About how long a long test runs (its `realtime` or `browser` marker's `seconds`), 0 where not said."""
    for name in ("realtime", "browser"):
        marker = item.get_closest_marker(name)
        if marker and "seconds" in marker.kwargs:
            return float(marker.kwargs["seconds"])
    return 0.0


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Spread the long tests (LONG_TESTS order, longest first within each) evenly among the others.

    Longest first (their marker's `seconds`): the `realtime` tests go out one at a time (tests/run's
    --dist load), so the longest walks start together and the short ones fill in after. The CPU
    round's workers each take a run of the list and steal from the end of another's (--dist
    worksteal): the longest browser tests start early in the first runs, and the one still
    running when the others have finished is a short one (a 20 s test started last kept one
    worker busy alone for 19 s). Last among the hooks: after `-m` has deselected another round's tests.
    """

    def rank(item) -> int:
        """The LONG_TESTS place of the item's first marker there, or after them all."""
        return next((place for place, name in enumerate(LONG_TESTS) if item.get_closest_marker(name)), len(LONG_TESTS))

    long = sorted(
        (item for item in items if rank(item) < len(LONG_TESTS)), key=lambda item: (rank(item), -expected_seconds(item))
    )
    if not long:
        return
    short = [item for item in items if rank(item) == len(LONG_TESTS)]
    gap = len(short) / len(long)
    spread = []
    for index, item in enumerate(long):
        spread.append(item)
        spread.extend(short[round(index * gap) : round((index + 1) * gap)])
    items[:] = spread


@pytest.fixture(scope="session")
def shared_audio_cache(tmp_path_factory) -> Path:
    """One audio cache for the whole run, shared by pytest-xdist's workers, so each phrase is rendered once.

    The cache is safe across processes (renders are renamed into place under a write lock),
    as it is between the servers of one run. tests/run runs its two rounds side by side and
    gives both one cache (RETROWALK_TEST_AUDIO_CACHE), so a walk's cues and track are made once.
    """
    given = os.environ.get("RETROWALK_TEST_AUDIO_CACHE")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return tmp_path_factory.mktemp("audio_cache")
    shared = tmp_path_factory.getbasetemp().parent / "audio_cache"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture(scope="session")
def server(tmp_path_factory, shared_audio_cache):
    """One real server for the tests that only need a running app."""
    running = RunningServer(tmp_path_factory.mktemp("data"), shared_audio_cache).start()
    yield running
    running.kill()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, shared_audio_cache):
    """The app in this process, reached through `requests` at its own URL: for tests of the HTTP API only.

    Configured as `retrowalk serve --offline` configures its worker. Modules whose tests need
    no socket and no process of their own point their `server` fixture here.
    """
    from server import create_app
    from wsgi_support import InProcessServer, route_requests_to

    data_dir = tmp_path_factory.mktemp("app-data")
    app = create_app({"DATA_DIR": str(data_dir), "AUDIO_CACHE": str(shared_audio_cache), "GTTS_ENABLED": False})
    undo = route_requests_to(app)
    yield InProcessServer(app, data_dir, shared_audio_cache)
    undo()
    app.extensions["live"].stop()


@pytest.fixture
def app_server_of_its_own(tmp_path, shared_audio_cache):
    """A factory of apps in this process on an empty database, each at its own URL (config overrides as keywords)."""
    from server import create_app
    from wsgi_support import InProcessServer, route_requests_to

    made = []

    def make(**config) -> InProcessServer:
        data_dir = tmp_path / f"app-data-{len(made)}"
        app = create_app(
            {
                "DATA_DIR": str(data_dir),
                "AUDIO_CACHE": str(shared_audio_cache),
                "GTTS_ENABLED": False,
                **config,
            }
        )
        url = f"http://app-{len(made)}.retrowalk.test"
        made.append((app, route_requests_to(app, url)))
        return InProcessServer(app, data_dir, shared_audio_cache, url)

    yield make
    for app, undo in made:
        undo()
        app.extensions["live"].stop()  # its cue scheduler, if a walk started it


@pytest.fixture
def fresh_server(tmp_path, shared_audio_cache):
    """A server of the test's own (empty database) that the test may stop and restart."""
    servers: list[RunningServer] = []

    def start(**kwargs) -> RunningServer:
        running = RunningServer(tmp_path / "data", shared_audio_cache, **kwargs)
        running.data_dir.mkdir(exist_ok=True)
        servers.append(running.start())
        return running

    yield start
    for running in servers:
        running.kill()


@pytest.fixture
def device(server) -> requests.Session:
    """A new device on the shared server."""
    return server.client()


# --- Browser fixtures (tests/test_browser*.py): Debian's Chromium through Playwright ---------


# Chromium's own address bar, which a test never shows, builds its suggestion popups as WebUI pages in a
# renderer of their own for every window, i.e. every browser context: ~0.4 CPU-s and ~0.4 s a context
# (a new context with the app loaded and its service worker installed: 1.27-1.40 CPU-s with them,
# 0.85-0.92 without), ~75 contexts a run. The app's pages are untouched.
CHROMIUM_UI_NOT_USED = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "PreloadTopChromeWebUI")
# Where Playwright's driver keeps the features it disables in every Chromium it launches.
PLAYWRIGHT_FEATURES_SOURCE = Path("driver", "package", "lib", "server", "electron", "loader.js")


def disable_features_switch() -> list[str]:
    """One `--disable-features` with Playwright's own list and CHROMIUM_UI_NOT_USED (none if that list is not found).

    Chromium reads only the last `--disable-features` it is given, so ours must repeat Playwright's
    (chrome://version's command-line variations showed Playwright's list gone with a second switch).
    """
    import playwright

    try:
        source = (Path(playwright.__file__).parent / PLAYWRIGHT_FEATURES_SOURCE).read_text()
    except OSError:
        return []
    found = re.search(r"var disabledFeatures = \[(.*?)\]", source, re.S)
    if not found:
        return []
    code = "\n".join(line.split("//", 1)[0] for line in found.group(1).splitlines())
    playwrights = re.findall(r'"([^"]+)"', code)
    if not playwrights:
        return []
    return ["--disable-features=" + ",".join([*playwrights, *CHROMIUM_UI_NOT_USED])]


# A test's API requests (page.request) go through Node's keep-alive agent in Playwright's driver. A
# socket the server closes after its keep-alive wait, just as a request goes out on it, answers
# ECONNRESET; Chromium sends such a request again by itself, the agent only when asked (max_retries,
# which retries nothing but that reset: the server never read the request).
RESET_RETRIES = 2


def retry_requests_on_a_closed_keep_alive_socket() -> None:
    """Have every Playwright API request retry a reset of a reused socket, as a browser does."""
    import functools

    from playwright.sync_api import APIRequestContext

    for name in ("get", "post", "put", "patch", "delete", "head", "fetch"):
        original = getattr(APIRequestContext, name)
        if getattr(original, "retries_resets", False):
            continue

        @functools.wraps(original)
        def request(self, *args, _original=original, **kwargs):
            kwargs.setdefault("max_retries", RESET_RETRIES)
            return _original(self, *args, **kwargs)

        request.retries_resets = True
        setattr(APIRequestContext, name, request)


@pytest.fixture(scope="session")
def playwright_chromium():
    """Playwright and one headless Chromium per worker (missing Chromium: skipped with a how-to, failed in CI)."""
    from browser_support import CHROMIUM_ARGS, require_chromium

    path = require_chromium()
    from playwright.sync_api import sync_playwright

    retry_requests_on_a_closed_keep_alive_socket()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=[*CHROMIUM_ARGS, *disable_features_switch()])
        yield playwright, browser
        browser.close()


@pytest.fixture
def phone_page(playwright_chromium):
    """A factory of phone pages (390x844, touch, cue instrumentation) on a server's URL; closed after the test."""
    from browser_support import INSTRUMENT_JS, PHONE_VIEWPORT

    _, browser = playwright_chromium
    contexts = []

    def open_page(base_url: str):
        context = browser.new_context(viewport=PHONE_VIEWPORT, base_url=base_url, has_touch=True, device_scale_factor=2)
        context.add_init_script(INSTRUMENT_JS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        return page

    yield open_page
    for context in contexts:
        context.close()
