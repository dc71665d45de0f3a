"""The `retrowalk` command as a new user runs it."""

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from conftest import RunningServer, free_port
from server.phrases import standard_phrases

# A proxy address where nothing listens: gTTS then fails at once, as on a machine with no
# internet, even when this machine has some (gTTS calls Google through requests, which honours HTTPS_PROXY).
NO_NETWORK = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


def retrowalk(*args, env=None, timeout=120):
    """Run the CLI as `python -m server`, the same entry point as the console script."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_prerender_works_offline_and_says_gtts_was_unreachable(tmp_path):
    count = len(standard_phrases("en"))
    result = retrowalk("prerender", "--lang", "en", "--audio-cache", str(tmp_path), env=NO_NETWORK, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"gtts: 0 rendered, 0 reused, {count} failed (unreachable" in result.stdout
    assert f"espeak: {count} rendered, 0 reused, 0 failed" in result.stdout
    assert len(list(tmp_path.glob("*.mp3"))) == count

    again = retrowalk("prerender", "--lang", "en", "--audio-cache", str(tmp_path), "--offline")
    assert "gtts: disabled" in again.stdout
    assert f"espeak: 0 rendered, {count} reused, 0 failed" in again.stdout


def test_prerender_refuses_an_unknown_language(tmp_path):
    result = retrowalk("prerender", "--lang", "xx", "--audio-cache", str(tmp_path))
    assert result.returncode == 2 and "Invalid value for '--lang'" in result.stderr


def test_help_lists_both_commands():
    result = retrowalk("--help")
    assert "serve" in result.stdout and "prerender" in result.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_its_url_makes_its_database_and_stops_cleanly(tmp_path, sig):
    running = RunningServer(tmp_path / "fresh-data", tmp_path / "cache")
    running.data_dir.mkdir()
    running.start()
    assert (running.data_dir / "retrowalk.db").exists()
    assert requests.get(running.url + "/api/plans", timeout=10).ok
    started = time.monotonic()
    code = running.stop(sig)
    assert code == 0 and time.monotonic() - started < 20
    log = (tmp_path / f"server-{running.port}.log").read_text()
    assert f"open http://localhost:{running.port}/" in log
    assert "Traceback" not in log


def test_serve_makes_missing_folders(tmp_path):
    running = RunningServer(tmp_path / "a" / "b" / "data", tmp_path / "c" / "cache")
    try:
        running.start()
        assert (tmp_path / "a" / "b" / "data" / "retrowalk.db").exists()
        assert (tmp_path / "c" / "cache").is_dir()
    finally:
        running.stop()


def test_serve_says_so_when_the_port_is_taken(tmp_path, server):
    result = retrowalk(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(server.port),
        "--data-dir",
        str(tmp_path),
        "--audio-cache",
        str(tmp_path / "c"),
        timeout=30,
    )
    assert result.returncode == 1
    assert f"Port {server.port} is already in use" in result.stderr


def test_certfile_needs_a_keyfile(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    result = retrowalk("serve", "--port", str(free_port()), "--certfile", str(cert), timeout=30)
    assert result.returncode == 2 and "--certfile and --keyfile go together" in result.stderr
