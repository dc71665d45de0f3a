"""Capacity benchmark: how many walkers one `retrowalk serve` holds with every cue on time.

Longer than 450 lines: one run is the server it starts and watches (CPU, run-queue wait, RSS, GC),
the walker processes, the verdict and the search over several runs; read and run as one file.

Starts a real `retrowalk serve --offline` (defaults: one gevent worker) in a subprocess, then
walker processes (several hundred websockets each, asyncio) that each create a device, a
plan of 5-second segments and a session, connect, and on a common signal start their
workouts (spread over a few seconds, as walkers do). Every cue's lead (its due minus when
the walker received it) is recorded. A run holds when every session gets every cue, none
late, 99.9 % of them at least 250 ms before their due, the server missed none, and the
worker's RSS stayed within 1 GiB.

The walkers share the machine's cores with the server, so each walker process also reports
its own CPU and how late its own event loop woke up: a short lead that the walker's own
delay explains is counted as such, next to the server's scheduler lag and GC pauses.

    python bench/bench_capacity.py                   # 1,000 sessions
    python bench/bench_capacity.py --sessions 10000 --runs 3   # any N, three times, with a verdict
    python bench/bench_capacity.py --find-max        # the largest N that holds in three runs out of three
    python bench/bench_capacity.py --sessions 5000 --profile 30   # py-spy flame graph of the worker mid-walk
    python bench/bench_capacity.py --churn 10000     # connect/disconnect cycles: no growth in threads or memory

Exit status: 0 when the 1,000-session target (or the --sessions run) holds.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from capacity_client import WalkerResult, create_walker, run_walkers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_SESSIONS = 1000
GOAL_SESSIONS = 10000
TARGET_MIN_LEAD_MS = 250
# At most this share of cues may come with less than TARGET_MIN_LEAD_MS of lead (none late).
SHORT_LEAD_SHARE = 0.001
MAX_WORKER_RSS_MB = 1024
# A size must hold this many times in a row for --find-max to call it held.
FIND_MAX_RUNS = 3
SEGMENT_SECONDS = 5
DEFAULT_SEGMENTS = 8  # 40 s workouts: cues every second or so, for long enough to matter
SEARCH_SEGMENTS = 6
# Walkers press Start at random over max(5 s, N / 200) seconds (200 a second on average), and
# workouts last long enough that all N are mid-workout together for HOLD_S at least.
START_SPREAD_S = 5.0
START_RATE_PER_S = 200
HOLD_S = 30
# Walkers per client process: at least one process per core, so the walkers can use every core
# the server leaves, and at most this many sockets each, so one process's event loop stays a
# small share of a core (the busiest process's peak is printed with every run).
WALKERS_PER_PROCESS = 500
# The walkers stand for phones, which have CPUs of their own: here they share the server's two
# cores. They run in the benchmark's session and the server in its own, so each gets its fair
# share; their own lag is measured and printed, and a short lead it explains is counted as the
# client's. On a machine busy with other work, --server-nice and --walker-nice set the two
# sessions' priorities (a process's own nice orders it only within its session).
WALKER_NICE = 0
SETUP_TIMEOUT_S = 900
SERVER_START_TIMEOUT_S = 60
SAMPLE_EVERY_S = 1.0
SEARCH_MINUTES = 8
# Walkers stop this close to the best known failure: a search finer than this is noise.
SEARCH_RESOLUTION = 0.1
CHURN_SESSIONS = 12
CHURN_PER_SESSION = 4  # below the server's WS_MAX_SOCKETS_PER_SESSION
CHURN_WARMUP = 1000
SETTLE_S = 3.0
LOG_TAIL_LINES = 60
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def plan_segments(count: int) -> list[dict]:
    """Forward and backward 5-second segments, alternating, with speeds so speed hints are said too."""
    return [
        {"kind": "reverse" if i % 2 else "forward", "seconds": SEGMENT_SECONDS, "speed_mph": 1.5 if i % 2 else 2.5}
        for i in range(count)
    ]


class Server:
    """A `retrowalk serve --offline` subprocess, its gunicorn worker, and what /proc says about it."""

    def __init__(self, workdir: Path, audio_cache: Path, cpus: set[int] | None = None, nice: int = 0):
        self.cpus = cpus  # the cores the server (and its worker) may run on; None: any
        self.nice = nice  # its priority (negative: ahead of everything else on the machine; root only)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.data_dir = workdir / f"data-{self.port}"
        self.audio_cache = audio_cache
        self.log_path = workdir / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.worker: int | None = None
        self.http = requests.Session()

    def start(self) -> Server:
        """Start the server with its defaults and wait for /healthz and the worker."""
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
        ]
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it until stop() closes it

        def place() -> None:
            """Pin the server as `taskset` would; the worker inherits it."""
            if self.cpus:
                os.sched_setaffinity(0, self.cpus)

        # A session of its own, as a service has: Linux shares the CPU fairly between sessions
        # (autogroups) first, so a server in the benchmark's session would split one share with
        # every walker process, against each other session on the machine.
        self.process = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=place, start_new_session=True
        )
        if self.nice:
            _set_autogroup_nice(self.process.pid, self.nice)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        children = [p for p in _children(self.process.pid)]
        if len(children) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {children}")
        self.worker = children[0]
        self.http.get(self.url + "/api/plans", timeout=10)  # one device for the metrics calls
        return self

    def proc(self) -> dict:
        """The worker's RSS (MB), OS threads, CPU seconds so far, and open files (all, and sockets)."""
        status = Path(f"/proc/{self.worker}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        stat = Path(f"/proc/{self.worker}/stat").read_text().rsplit(")", 1)[1].split()
        # schedstat: ns on a CPU, then ns runnable but waiting for one (the machine, not the server, at fault).
        waiting_ns = int(Path(f"/proc/{self.worker}/schedstat").read_text().split()[1])
        return {
            "runq_wait_s": waiting_ns / 1e9,
            "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
            "threads": int(fields["Threads"]),
            "cpu_s": (int(stat[11]) + int(stat[12])) / CLK_TCK,
            "fds": len(os.listdir(f"/proc/{self.worker}/fd")),
            "socket_fds": sum(1 for fd in os.listdir(f"/proc/{self.worker}/fd") if _is_socket(self.worker, fd)),
        }

    def metrics(self, greenlets: bool = False) -> dict:
        """The live hub's counters (greenlets counted only when asked: it scans every object)."""
        params = {"greenlets": 1} if greenlets else {}
        return self.http.get(self.url + "/api/live/metrics", params=params, timeout=60).json()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in _children(self.process.pid):
                    os.kill(pid, signal.SIGKILL)
                self.process.kill()
                self.process.wait()
        self.log.close()


def _autogroup_nice(pid: int) -> int | None:
    """The priority of a process's session against other sessions (None where Linux keeps none)."""
    try:
        return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def _set_autogroup_nice(pid: int, nice: int) -> None:
    """Give a session's processes a priority against other sessions.

    A plain nice only orders the processes within one session; a value below 0 needs root.
    """
    autogroup = Path(f"/proc/{pid}/autogroup")
    try:
        autogroup.write_text(str(nice))
    except OSError as exc:
        print(f"  (could not set the server's priority: {exc}; running it at the default)", flush=True)


def _is_socket(pid: int, fd: str) -> bool:
    """True when a process's file descriptor is a socket."""
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """The direct children of a process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes (gone ones count as 0)."""
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(stat[11]) + int(stat[12])) / CLK_TCK
    return total


def runq_wait_seconds(pids: list[int]) -> float:
    """Seconds these processes were ready to run but waited for a core (gone ones count as 0)."""
    total = 0.0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
        except OSError:
            continue
    return total


def percentile(sorted_values: list[int], fraction: float) -> int:
    """The value below which `fraction` of the values fall (nearest rank)."""
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))]


def start_spread_s(sessions: int) -> float:
    """Seconds over which the walkers press Start."""
    return max(START_SPREAD_S, sessions / START_RATE_PER_S)


PROFILE_RATE_HZ = 100
PROFILE_TOP = 15


def start_profile(
    server: Server, workdir: Path, seconds: float, delay_s: float
) -> tuple[subprocess.Popen, Path] | None:
    """Sample the worker with py-spy once every walker has started, for `seconds`, into collapsed stacks in workdir."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        print("  (--profile needs py-spy: pip install py-spy)", flush=True)
        return None
    out = workdir / f"profile-{server.port}.txt"
    print(
        f"  profiling the worker for {seconds:.0f} s after {delay_s:.0f} s: {out} "
        "(collapsed stacks: flamegraph.pl or speedscope draw them)",
        flush=True,
    )
    command = (
        f"sleep {delay_s:.1f} && exec {spy} record --pid {server.worker} --duration {seconds:.0f} "
        f"--rate {PROFILE_RATE_HZ} --nonblocking --format raw --output {out}"
    )
    return subprocess.Popen(["sh", "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def print_profile(path: Path) -> None:
    """The functions the worker spent its samples in (inclusive), busiest first: where the time per cue goes."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        total += int(count)
        for frame in set(stack.split(";")):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    print(f"  profile: {total} samples at {PROFILE_RATE_HZ} Hz while the worker ran; busiest (inclusive):", flush=True)
    skip = ("threading.py", "gevent/baseserver.py", "gunicorn/", "flask/app.py")
    shown = [(n, f) for f, n in inclusive.items() if not any(part in f for part in skip)]
    for count, frame in sorted(shown, reverse=True)[:PROFILE_TOP]:
        print(f"    {count * 100 / max(total, 1):5.1f} %  {frame}", flush=True)


def run_sessions(
    sessions: int,
    segments: int,
    workdir: Path,
    audio_cache: Path,
    profile_s: float = 0,
    server_cpus: set[int] | None = None,
    servers: int = 1,
    server_nice: int = 0,
) -> dict:
    """One trial: `sessions` walkers on fresh servers (each walker process keeps to one, as a load
    balancer routing by session id would); returns the figures, summed or worst over the servers."""
    spread = start_spread_s(sessions)
    segments = max(segments, math.ceil((spread + HOLD_S) / SEGMENT_SECONDS))
    running = [Server(workdir, audio_cache, server_cpus, server_nice).start() for _ in range(servers)]
    # With the server pinned, the walkers keep off its cores if any are left for them.
    walker_cpus = (set(os.sched_getaffinity(0)) - server_cpus) if server_cpus else None
    try:
        plan = plan_segments(segments)
        for server in running:
            create_walker(server.url, plan)  # renders the plan's phrases once; every later session reuses them
        processes = min(
            sessions,
            max(len(walker_cpus or os.sched_getaffinity(0)), math.ceil(sessions / WALKERS_PER_PROCESS), servers),
        )
        shares = [sessions // processes + (1 if i < sessions % processes else 0) for i in range(processes)]
        ctx = mp.get_context("fork")
        ready, results = ctx.Queue(), ctx.Queue()
        go, start_value = ctx.Event(), ctx.Value("d", 0.0)
        setup_started = time.monotonic()
        workers = [
            ctx.Process(
                target=run_walkers,
                args=(
                    i,
                    share,
                    running[i % servers].url,
                    running[i % servers].ws_url,
                    plan,
                    ready,
                    go,
                    start_value,
                    spread,
                    results,
                    walker_cpus or None,
                ),
                daemon=True,
            )
            for i, share in enumerate(shares)
        ]
        for worker in workers:
            worker.start()
        connected = created = 0
        for _ in workers:
            _, made, opened = ready.get(timeout=SETUP_TIMEOUT_S)
            created += made
            connected += opened
        setup_s = time.monotonic() - setup_started
        before = [server.proc() for server in running]
        metrics_before = [server.metrics() for server in running]
        walker_pids = [w.pid for w in workers]
        walkers_cpu_before = cpu_seconds(walker_pids)
        walkers_wait_before = runq_wait_seconds(walker_pids)
        start_value.value = time.time() + 1.0
        walk_began_ms = start_value.value * 1000
        go.set()
        started = time.monotonic()
        profiler = start_profile(running[0], workdir, profile_s, delay_s=spread) if profile_s else None
        peak_rss = max(b["rss_mb"] for b in before)
        peak_cpu, last = 0.0, (time.monotonic(), sum(b["cpu_s"] for b in before))
        walker_last = {pid: cpu_seconds([pid]) for pid in walker_pids}
        walker_peak = 0.0
        collected: list[WalkerResult] = []
        deadline = started + spread + segments * SEGMENT_SECONDS + 120
        while len(collected) < len(workers) and time.monotonic() < deadline:
            try:
                collected.append(results.get(timeout=SAMPLE_EVERY_S)[1])
            except Exception:
                pass
            samples = [server.proc() for server in running]
            walkers_cpu = cpu_seconds(walker_pids)
            now = time.monotonic()
            peak_rss = max(peak_rss, *(sample["rss_mb"] for sample in samples))
            if now - last[0] >= SAMPLE_EVERY_S / 2:
                cpu_s = sum(sample["cpu_s"] for sample in samples)
                peak_cpu = max(peak_cpu, (cpu_s - last[1]) / (now - last[0]) * 100)
                for pid in walker_pids:
                    used = cpu_seconds([pid])
                    walker_peak = max(walker_peak, (used - walker_last[pid]) / (now - last[0]) * 100)
                    walker_last[pid] = used
                last = (now, cpu_s)
        elapsed = time.monotonic() - started
        walkers_cpu_pct = (walkers_cpu - walkers_cpu_before) / elapsed * 100
        # Averaged over the walker processes: the share of the walk one of them waited for a core.
        walkers_wait_pct = (runq_wait_seconds(walker_pids) - walkers_wait_before) / elapsed / len(walker_pids) * 100
        if profiler is not None:
            profiler[0].wait()
        after = [server.proc() for server in running]
        metrics_after = [server.metrics() for server in running]
        for worker in workers:
            worker.join(timeout=10)

        def grew(name: str) -> float:
            """How much a server counter grew during the walk, summed over the servers."""
            return sum(a.get(name, 0) - b.get(name, 0) for a, b in zip(metrics_after, metrics_before))

        def worst(name: str) -> float:
            """A server figure's worst value over the servers."""
            return max(m.get(name) or 0 for m in metrics_after)

        leads = sorted(lead for r in collected for lead in r.leads_ms)
        errors = [e for r in collected for e in r.errors]
        missing_by_seq: dict[int, int] = {}
        for r in collected:
            for seq, count in r.missing_by_seq.items():
                missing_by_seq[seq] = missing_by_seq.get(seq, 0) + count
        figures = {
            "sessions": sessions,
            "servers": servers,
            "created": created,
            "connected": connected,
            "held": sum(r.held for r in collected),
            "cues": sum(r.cues for r in collected),
            "late": sum(r.late for r in collected),
            "missing": sum(r.missing for r in collected),
            "server_missed": grew("cues_missed"),
            "server_dropped": grew("cues_dropped_late"),
            "lead_p50": percentile(leads, 0.50),
            "lead_p99": percentile(leads, 0.01),  # 99% of cues arrived at least this early
            "lead_p01": percentile(leads, SHORT_LEAD_SHARE),  # and 99.9% at least this early
            "lead_min": leads[0] if leads else 0,
            "short": sum(len(r.short_cues) for r in collected),
            "short_by_seq": sorted(
                Counter(seq for r in collected for _, _, seq in r.short_cues).items(), key=lambda kv: -kv[1]
            )[:5],
            "short_explained": sum(r.short_explained() for r in collected),
            "walker_lag_max_ms": max((r.loop_lag_max_ms for r in collected), default=0.0),
            "reconnects": sum(r.reconnects for r in collected),
            "reconnect_reasons": [reason for r in collected for reason in r.reconnect_reasons],
            "walkers_peak_cpu_pct": walker_peak,
            "rss_mb": max(a["rss_mb"] for a in after),
            "rss_total_mb": sum(a["rss_mb"] for a in after),
            "peak_rss_mb": peak_rss,
            "cpu_pct": sum(a["cpu_s"] - b["cpu_s"] for a, b in zip(after, before)) / elapsed * 100,
            # Share of the walk the worker was ready to run but waited for a core (the worst server's).
            "runq_wait_pct": max(a["runq_wait_s"] - b["runq_wait_s"] for a, b in zip(after, before)) / elapsed * 100,
            "load_avg": os.getloadavg()[0],
            "peak_cpu_pct": peak_cpu,
            "setup_s": setup_s,
            "errors": errors,
            "processes": len(workers),
            "spread_s": spread,
            "workout_s": segments * SEGMENT_SECONDS,
            "scheduler_lag_max_ms": worst("scheduler_lag_max_ms"),
            "scheduler_errors": grew("scheduler_errors"),
            "walkers_cpu_pct": walkers_cpu_pct,
            "walkers_wait_pct": walkers_wait_pct,
            "gc_pause_max_ms": worst("gc_pause_max_ms"),
            # The garbage collector while the walkers walked (set-up's collections do not hold up cues).
            "gc_walk_max_ms": max(
                (p[1] for m in metrics_after for p in m.get("gc_long_pauses", []) if p[0] >= walk_began_ms), default=0
            ),
            "gc_walk_full": grew("gc_full_collections"),
            "gc_walk_scheduled": grew("gc_scheduled_full"),
            "gc_walk_total_ms": grew("gc_pause_total_ms"),
            "gc_walk_cpu_ms": grew("gc_cpu_total_ms"),
            "missing_by_seq": dict(sorted(missing_by_seq.items())),
            "server_log_tail": [
                line
                for server in running
                for line in server.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            ],
            "profile": profiler[1] if profiler is not None else None,
        }
        figures["holds"] = (
            figures["held"] == sessions
            and figures["late"] == 0
            and figures["missing"] == 0
            and figures["server_missed"] == 0
            and figures["server_dropped"] == 0
            and figures["lead_p01"] >= TARGET_MIN_LEAD_MS
            and figures["peak_rss_mb"] <= MAX_WORKER_RSS_MB
        )
        return figures
    finally:
        for server in running:
            server.stop()


HEADER = (
    "| sessions | held | cues delivered | late | missing | server missed "
    "| lead p50 | lead p0.1 (99.9 % >=) | lead min "
    "| worker RSS MB (peak) | worker CPU % avg (peak) | walkers CPU % avg (busiest peak) "
    "| walker loop lag max | holds |"
)


def row(f: dict) -> str:
    """One result as a Markdown table row."""
    servers = f.get("servers", 1)
    sessions = f"{f['sessions']:,}" + (f" on {servers} servers" if servers > 1 else "")
    rss_all = f"; {f['rss_total_mb']:.0f} in all" if servers > 1 else ""
    rss = f"{f['rss_mb']:.0f} ({f['peak_rss_mb']:.0f})" + rss_all
    return (
        f"| {sessions} | {f['held']:,} | {f['cues']:,} | {f['late']} | {f['missing']} "
        f"| {f['server_missed'] + f['server_dropped']} "
        f"| {f['lead_p50']} ms | {f['lead_p01']} ms | {f['lead_min']} ms | {rss} "
        f"| {f['cpu_pct']:.0f} ({f['peak_cpu_pct']:.0f}) "
        f"| {f['walkers_cpu_pct']:.0f} ({f['walkers_peak_cpu_pct']:.0f}) "
        f"| {f['walker_lag_max_ms']:.0f} ms | {'yes' if f['holds'] else 'NO'} |"
    )


def report(figures: dict, label: str = "") -> None:
    """Print a trial's row (and its label, such as the run's number) and any errors walkers met."""
    print(row(figures) + (f" {label}" if label else ""), flush=True)
    if figures["errors"]:
        kinds: dict[str, int] = {}
        for error in figures["errors"]:
            kinds[error.split(":")[0]] = kinds.get(error.split(":")[0], 0) + 1
        print(f"  walker errors: {kinds}; first: {figures['errors'][0]}", flush=True)
    print(
        f"  (starts spread over {figures['spread_s']:.0f} s, workouts of {figures['workout_s']} s; "
        f"setup of {figures['created']:,} devices+plans+sessions and {figures['connected']:,} sockets: "
        f"{figures['setup_s']:.0f} s in {figures['processes']} walker processes; "
        f"server: longest scheduler lag {figures['scheduler_lag_max_ms']} ms "
        f"({figures['scheduler_errors']} scheduler errors), "
        f"waited for a core {figures['runq_wait_pct']:.0f}% of the walk "
        f"(machine load {figures['load_avg']:.1f}); "
        f"GC while walking: {figures['gc_walk_total_ms']:.0f} ms in all ({figures['gc_walk_cpu_ms']:.0f} ms of CPU), "
        f"{figures['gc_walk_full']} full ({figures['gc_walk_scheduled']} timed by the scheduler), "
        f"longest {figures['gc_walk_max_ms']} ms (longest ever {figures['gc_pause_max_ms']} ms); "
        f"walkers: {figures['walkers_cpu_pct']:.0f}% CPU in all, "
        f"each waited for a core {figures['walkers_wait_pct']:.0f}% of the walk, "
        f"event loops up to {figures['walker_lag_max_ms']:.0f} ms late)",
        flush=True,
    )
    if figures["reconnects"]:
        print(
            f"  {figures['reconnects']} handshake(s) closed unanswered during set-up and tried again; "
            f"first: {figures['reconnect_reasons'][0]}",
            flush=True,
        )
    if figures["short"]:
        print(
            f"  {figures['short']:,} cues came with under {TARGET_MIN_LEAD_MS} ms of lead; "
            f"{figures['short_explained']:,} of them "
            "while the walker's own event loop was behind by at least their shortfall "
            "(the client's delay, not the server's); "
            f"most of them at seq {', '.join(f'{seq} ({n})' for seq, n in figures['short_by_seq'])}",
            flush=True,
        )
    if figures.get("profile") and figures["profile"].exists():
        print_profile(figures["profile"])
    if figures["missing_by_seq"]:
        print(f"  cues missing, by seq: {figures['missing_by_seq']}", flush=True)
    if not figures["holds"] and figures["server_log_tail"]:
        print("  server log (tail):\n    " + "\n    ".join(figures["server_log_tail"]), flush=True)


def holds_in_runs(
    sessions: int,
    runs: int,
    segments: int,
    workdir: Path,
    audio_cache: Path,
    profile_s: float = 0,
    stop_at_failure: bool = False,
    server_cpus: set[int] | None = None,
    servers: int = 1,
    server_nice: int = 0,
) -> int:
    """Run one size `runs` times (or until the first failure, when searching); return how many runs held."""
    held = 0
    for run in range(runs):
        figures = run_sessions(
            sessions, segments, workdir, audio_cache, profile_s if run == 0 else 0, server_cpus, servers, server_nice
        )
        report(figures, f"run {run + 1}/{runs}")
        if figures["holds"]:
            held += 1
        elif stop_at_failure:
            break
    return held


def find_max(
    start: int,
    workdir: Path,
    audio_cache: Path,
    minutes: float,
    known_good: int | None,
    runs: int,
    server_cpus: set[int] | None = None,
    server_nice: int = 0,
) -> int | None:
    """Double N until a size fails in any of `runs` runs, then bisect; stop at the time cap."""
    deadline = time.monotonic() + minutes * 60
    best, worst = known_good, None
    n = start if known_good is None else known_good * 2
    while time.monotonic() < deadline:
        if (
            holds_in_runs(
                n,
                runs,
                SEARCH_SEGMENTS,
                workdir,
                audio_cache,
                stop_at_failure=True,
                server_cpus=server_cpus,
                server_nice=server_nice,
            )
            == runs
        ):
            best = n
        else:
            worst = n
        if worst is None:
            n = n * 2
        elif best is None:
            n = n // 2
        else:
            if worst - best <= max(250, best * SEARCH_RESOLUTION):
                break
            n = (best + worst) // 2
    return best


async def _churn_cycles(ws_base: str, walkers: list[tuple[str, str, list[int]]], cycles: int) -> int:
    """Open a socket, read hello, close it, `cycles` times, CHURN_PER_SESSION at a time per session."""
    from websockets.asyncio.client import connect

    done = 0
    per_task = math.ceil(cycles / (len(walkers) * CHURN_PER_SESSION))

    async def loop(walker):
        nonlocal done
        cookie, path, _ = walker
        for _ in range(per_task):
            if done >= cycles:
                return
            done += 1
            async with connect(ws_base + path, additional_headers={"Cookie": cookie}, ping_interval=None) as ws:
                await ws.recv()

    await asyncio.gather(*(loop(w) for w in walkers for _ in range(CHURN_PER_SESSION)))
    return done


def churn(cycles: int, workdir: Path, audio_cache: Path) -> bool:
    """Connect and disconnect `cycles` times; threads, greenlets and memory must come back where they were."""
    server = Server(workdir, audio_cache).start()
    try:
        walkers = [create_walker(server.url, plan_segments(3)) for _ in range(CHURN_SESSIONS)]
        asyncio.run(_churn_cycles(server.ws_url, walkers, CHURN_WARMUP))
        time.sleep(SETTLE_S)
        before, metrics_before = server.proc(), server.metrics(greenlets=True)
        started = time.monotonic()
        done = asyncio.run(_churn_cycles(server.ws_url, walkers, cycles))
        took = time.monotonic() - started
        time.sleep(SETTLE_S)
        after, metrics_after = server.proc(), server.metrics(greenlets=True)
        print(
            f"\n{done:,} connect/disconnect cycles in {took:.1f} s ({done / took:.0f}/s), "
            f"after {CHURN_WARMUP:,} warm-up cycles:"
        )
        print("| | before | after |")
        print("|---|---|---|")
        print(f"| OS threads | {before['threads']} | {after['threads']} |")
        print(f"| threads (greenlet-backed) | {metrics_before['threads']} | {metrics_after['threads']} |")
        print(f"| greenlets | {metrics_before['greenlets']} | {metrics_after['greenlets']} |")
        print(f"| open sockets held by the hub | {metrics_before['sockets']} | {metrics_after['sockets']} |")
        print(f"| sockets (file descriptors) | {before['socket_fds']} | {after['socket_fds']} |")
        print(f"| all file descriptors | {before['fds']} | {after['fds']} |")
        print(f"| worker RSS | {before['rss_mb']:.1f} MB | {after['rss_mb']:.1f} MB |")
        grew = (
            after["threads"] > before["threads"]
            or metrics_after["threads"] > metrics_before["threads"]
            or metrics_after["greenlets"] > metrics_before["greenlets"]
            or after["socket_fds"] > before["socket_fds"]
            # SQLite keeps closed connections' fds for reuse while another connection holds a lock:
            # a pool bounded by the sockets opened at once, not a growth per connection.
            or after["fds"] > before["fds"] + CHURN_SESSIONS * CHURN_PER_SESSION
            or after["rss_mb"] - before["rss_mb"] > max(5.0, before["rss_mb"] * 0.05)
        )
        print("No growth." if not grew else "GROWTH: something leaks per connection.", flush=True)
        return not grew
    finally:
        server.stop()


def main() -> int:
    """Run what the options ask for and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=TARGET_SESSIONS, help="concurrent sessions of the main run")
    parser.add_argument("--segments", type=int, default=DEFAULT_SEGMENTS, help="5-second segments per workout")
    parser.add_argument(
        "--runs",
        type=int,
        help=f"runs of each size; a size holds only if every run holds (default 1, {FIND_MAX_RUNS} for --find-max)",
    )
    parser.add_argument(
        "--find-max", action="store_true", help="then search upward for the largest N that holds in every run"
    )
    parser.add_argument("--search-minutes", type=float, default=SEARCH_MINUTES, help="cap on the search's time")
    parser.add_argument(
        "--walker-nice",
        type=int,
        default=WALKER_NICE,
        help="priority of the walkers' session (this benchmark's) against the machine's other sessions "
        "(negative needs root)",
    )
    parser.add_argument(
        "--server-cpus",
        type=lambda text: {int(c) for c in text.split(",")},
        metavar="LIST",
        help="pin the server to these cores (as taskset -c LIST), the walkers to the others: what one core holds",
    )
    parser.add_argument(
        "--server-nice",
        type=int,
        default=0,
        help="priority of the server's session against the machine's other sessions (negative needs root)",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="independent server processes, each walker process keeping to one (routing by session id)",
    )
    parser.add_argument(
        "--profile",
        type=float,
        default=0,
        metavar="SECONDS",
        help="sample the worker with py-spy for this long once all walkers have started (first run)",
    )
    parser.add_argument(
        "--churn", type=int, default=0, metavar="CYCLES", help="connect/disconnect cycles to check for leaks"
    )
    parser.add_argument("--skip-main", action="store_true", help="only the search and/or churn")
    parser.add_argument(
        "--workdir", type=Path, help="keep the servers' data and logs here (default: a temporary folder)"
    )
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    session_nice = _autogroup_nice(os.getpid())
    if args.walker_nice:
        _set_autogroup_nice(os.getpid(), args.walker_nice)
    try:
        return run(args)
    finally:
        if args.walker_nice and session_nice is not None:
            _set_autogroup_nice(os.getpid(), session_nice)  # the session outlives this benchmark


def run(args: argparse.Namespace) -> int:
    """Run what the options ask for and print the figures; the exit status."""
    with tempfile.TemporaryDirectory(prefix="retrowalk-capacity-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        audio_cache = workdir / "audio_cache"
        ok = True
        print(
            "Holds: every cue received, none late, "
            f"{100 - SHORT_LEAD_SHARE * 100:g} % >= {TARGET_MIN_LEAD_MS} ms before due, "
            f"worker RSS <= {MAX_WORKER_RSS_MB} MB (goal {GOAL_SESSIONS:,} sessions); "
            f"{os.cpu_count()} CPUs shared by the server and "
            f"the walkers (at most {WALKERS_PER_PROCESS} a process"
            f"{f', their session at nice {args.walker_nice}' if args.walker_nice else ''}); "
            f"workouts of {SEGMENT_SECONDS}-s segments"
            f"{f'; server pinned to core(s) {sorted(args.server_cpus)}' if args.server_cpus else ''}"
            f"{f'; the server session at nice {args.server_nice}' if args.server_nice else ''}.\n",
            flush=True,
        )
        print(HEADER)
        print("|---" * (HEADER.count("|") - 1) + "|", flush=True)
        known_good = None
        runs = args.runs or (FIND_MAX_RUNS if args.find_max else 1)
        if not args.skip_main:
            held = holds_in_runs(
                args.sessions,
                runs,
                args.segments,
                workdir,
                audio_cache,
                args.profile,
                server_cpus=args.server_cpus,
                servers=args.servers,
                server_nice=args.server_nice,
            )
            ok = held == runs
            print(
                f"\n{args.sessions:,} sessions: {'HOLDS' if ok else 'DOES NOT HOLD'} ({held} of {runs} run(s) held).",
                flush=True,
            )
            known_good = args.sessions if ok else None
        if args.find_max:
            best = find_max(
                args.sessions,
                workdir,
                audio_cache,
                args.search_minutes,
                known_good,
                runs,
                args.server_cpus,
                args.server_nice,
            )
            print(
                f"\nLargest N that held in {runs} runs out of {runs}: {best:,}" if best else "\nNo N held.", flush=True
            )
        if args.churn:
            ok = churn(args.churn, workdir, audio_cache) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
