"""The `retrowalk` command: serve the app, and prerender the coach's phrases."""

from __future__ import annotations

import errno
import os
import resource
import socket
import sqlite3
import sys
import tempfile
from pathlib import Path

import click

from . import DEFAULTS, network
from .db import CHECKPOINT_EVERY_S, DATABASE_FILE
from .phrases import LANGUAGES
from .security import parse_networks

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8000
# One gevent worker holds every walker's websocket and the one cue scheduler; each socket
# is a couple of greenlets, so the connection cap is set well above the 5,000-walker goal.
WORKER_CONNECTIONS = 20_000
GRACEFUL_TIMEOUT_S = 5
# What `serve` writes into each folder before starting, to find a full or read-only disk.
STORAGE_PROBE_BYTES = 64 * 1024


def _check_port_free(host: str, port: int) -> None:
    """Fail with a clear sentence, not a retry loop, when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(f"Port {port} is already in use; pick another with --port.") from exc
            raise click.ClickException(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc


def _check_writable(folder: Path, what: str, database: Path | None = None) -> None:
    """Fail with one sentence naming the folder, before claiming to run, when it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as probe:
            # A few real blocks, synced: an empty file fits even on a full disk.
            probe.write(bytes(STORAGE_PROBE_BYTES))
            probe.flush()
            os.fsync(probe.fileno())
        if database is not None:
            from . import db

            connection = db.connect(database)
            try:
                db.migrate(connection)
            finally:
                connection.close()
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise click.ClickException(f"Cannot write the {what} {folder}: {reason}.") from None


def _raise_file_limit() -> None:
    """Let one process hold thousands of sockets (each walker's websocket is a file descriptor)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """RetroWalk, a voice coach for walking backwards."""


@cli.command()
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on (0.0.0.0: every interface, so a phone can reach it).",
)
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on."
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=DEFAULTS["DATA_DIR"],
    show_default=True,
    help="Folder of the SQLite database (made on first run).",
)
@click.option(
    "--audio-cache",
    type=click.Path(file_okay=False),
    default=DEFAULTS["AUDIO_CACHE"],
    show_default=True,
    help="Folder of the rendered cue audio.",
)
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False),
    help="TLS certificate (PEM) to serve https, which phones need to install the app.",
)
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM) for --certfile.")
@click.option(
    "--behind-proxy",
    type=click.IntRange(0, 5),
    default=0,
    show_default=True,
    help="Number of reverse proxies in front whose X-Forwarded-* headers to trust.",
)
@click.option(
    "--proxy-address",
    default=DEFAULTS["PROXY_TRUSTED"],
    show_default=True,
    help="With --behind-proxy: the proxy's addresses or networks (comma-separated); "
    "forwarded headers from anyone else are ignored.",
)
@click.option("--offline", is_flag=True, help="Never call Google's text-to-speech; speak with eSpeak NG only.")
def serve(host, port, data_dir, audio_cache, certfile, keyfile, behind_proxy, proxy_address, offline):
    """Run the production server (gunicorn with a gevent worker)."""
    if bool(certfile) != bool(keyfile):
        raise click.UsageError("--certfile and --keyfile go together.")
    try:
        proxies = ",".join(str(network) for network in parse_networks(proxy_address))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--proxy-address") from None
    data_dir, audio_cache = Path(data_dir).resolve(), Path(audio_cache).resolve()
    _check_writable(data_dir, "data folder", data_dir / DATABASE_FILE)
    _check_writable(audio_cache, "audio cache folder")
    _check_port_free(host, port)
    _raise_file_limit()

    env = dict(os.environ)
    env.update(
        RETROWALK_DATA_DIR=str(data_dir),
        RETROWALK_AUDIO_CACHE=str(audio_cache),
        RETROWALK_PROXY_HOPS=str(behind_proxy),
        RETROWALK_PROXY_TRUSTED=proxies,
    )
    if offline:
        env["RETROWALK_GTTS_ENABLED"] = "false"
    # The worker holds every walker's socket: its full garbage collections are the scheduler's to time.
    env.setdefault("RETROWALK_SCHEDULED_GC", "true")
    # ...and no commit of its copies the write-ahead log back (two disk flushes with every socket waiting).
    env.setdefault("RETROWALK_WAL_CHECKPOINT_EVERY_S", str(CHECKPOINT_EVERY_S))
    scheme = "https" if certfile else "http"
    shown_host = "localhost" if host in ("0.0.0.0", "::", "127.0.0.1") else host
    click.echo(f"RetroWalk is running: open {scheme}://{shown_host}:{port}/")
    lan = network.lan_address() if host in ("0.0.0.0", "::") else None
    if lan:
        click.echo(f"On a phone on this network: {scheme}://{lan}:{port}/")
        if scheme == "http":
            click.echo(
                "  (phones install the app and keep the screen awake only over https: "
                "see README, 'Open it on your phone')"
            )
    click.echo(f"Data: {data_dir}   Audio cache: {audio_cache}   Stop with Ctrl-C.")
    sys.stdout.flush()

    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "gevent",
        "--workers",
        "1",
        "--worker-connections",
        str(WORKER_CONNECTIONS),
        "--bind",
        f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "--graceful-timeout",
        str(GRACEFUL_TIMEOUT_S),
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    # gunicorn itself believes X-Forwarded-Proto (https) only from the proxy; with no proxy, from no one.
    argv += ["--forwarded-allow-ips", proxies if behind_proxy else ""]
    if certfile:
        argv += ["--certfile", str(Path(certfile).resolve()), "--keyfile", str(Path(keyfile).resolve())]
    argv.append("server.wsgi:app")
    # gunicorn replaces this process: it handles Ctrl-C and SIGTERM itself, and its worker
    # patches the standard library with gevent before the app is imported.
    os.execve(sys.executable, argv, env)


@cli.command()
@click.option(
    "--lang", type=click.Choice([*LANGUAGES, "all"]), default="all", show_default=True, help="Voice language to render."
)
@click.option(
    "--audio-cache",
    type=click.Path(file_okay=False),
    default=DEFAULTS["AUDIO_CACHE"],
    show_default=True,
    help="Folder of the rendered cue audio.",
)
@click.option("--offline", is_flag=True, help="Never call Google's text-to-speech; speak with eSpeak NG only.")
def prerender(lang, audio_cache, offline):
    """Render every standard phrase into the audio cache and report per engine."""
    from .phrases import standard_phrases
    from .voice import AudioCache

    cache = AudioCache(
        audio_cache,
        gtts_enabled=not offline,
        gtts_timeout=DEFAULTS["GTTS_TIMEOUT_S"],
        gtts_min_interval=DEFAULTS["GTTS_MIN_INTERVAL_S"],
    )
    failed = False
    for language in LANGUAGES if lang == "all" else (lang,):
        report = cache.prerender(standard_phrases(language), language)
        click.echo(f"[{language}]")
        for line in report.lines():
            click.echo(f"  {line}")
        failed = failed or bool(report.unvoiced)
    if failed:
        raise click.ClickException("Some phrases could not be rendered by any engine.")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="retrowalk")
