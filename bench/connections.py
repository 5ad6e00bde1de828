"""
python -m bench.connections [--quick]: how many concurrent worker containers one MariaDB
with its default max_connections serves before it refuses connections, with and without
connection reuse.

Why: every warm Lambda container of the worker keeps its own database connection for
DATABASE_CONN_MAX_AGE seconds (600 by default), so the number of containers, not the
request rate, is what fills the server's connection slots. With DATABASE_CONN_MAX_AGE=0
the handler closes the connection at the end of each invocation, so a container holds a
slot only while it serves one, and the limit becomes the number of invocations in flight
at once. This benchmark measures both against a real server instead of arguing about them.

How: it starts a private MariaDB of its own (its own data directory and free port on
127.0.0.1, nothing configured but a small buffer pool, so max_connections keeps its default,
which is read back and reported), creates a database and an ordinary user (root has one
extra connection reserved for it, which a Lambda does not), runs the project's migrations
and loads the 300 sample heroes. Each simulated container is one thread in a child process
running the real worker code path, ``cache_worker.handler.serve_direct_event`` with
USE_CACHE "False" so that every invocation reaches the database; Django keeps one database
connection per thread, so each thread holds its own connection exactly as one container
does. Several child processes share the threads, so one GIL does not serialise them all.
Each container invokes, idles for a think time, and repeats for a fixed time per step; the
steps ramp the number of containers for each mode. Per step it counts invocations answered
200 and 503 (the worker's answer when the database refuses; the error text is taken from the
worker's own warning), the invocation latency, and the server's peak Threads_connected and
Max_used_connections, read as root on one monitoring connection that itself holds one of the
server's slots for the whole run, as a monitoring agent would in production.

Before the load, with the general query log on, it opens connections the way a fresh
container does and lists the exact statements Django sends when it connects (what an
RDS Proxy would see and might pin a session for). Results: a plain-text table on stdout and
bench-results/connections.json. The server and its data directory are removed at the end,
also on error or Ctrl-C. --quick runs fewer, shorter steps (under a minute), to keep the
benchmark working in CI; its numbers are not the ones to quote.

The client runs on the same two cores as the server here, so under heavy load an invocation
also waits for CPU while it holds its connection; on Lambda every container has its own CPU.
The "no reuse" limit measured here is therefore lower than it would be on Lambda for the same
number of containers, but its cause (invocations in flight) is the same.
"""

import argparse
import contextlib
import json
import logging
import os
import random
import re
import secrets
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.timing import machine, percentile
from scripts.private_mariadb import PrivateMariaDB

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
DATABASE = "heroapp_connections"
APP_USER = "heroapp_worker"
SAMPLE_CSV = ROOT / "heroes" / "data" / "heroes.csv"
IDS_PER_READ = 3
MODES = {"reuse": 600, "no reuse": 0}  # mode -> DATABASE_CONN_MAX_AGE
GENERAL_LOG = "general.log"


@dataclass
class Plan:
    quick: bool
    steps: list[int]
    seconds: float
    think_ms: tuple[float, float]
    processes: int
    # "no reuse" with no think time at the highest step: the limit is then invocations in flight.
    burst_containers: int

    @classmethod
    def make(cls, args: argparse.Namespace) -> "Plan":
        # The first step is light on purpose: its invocation time, before this machine's CPUs
        # saturate, is what the "no reuse" projection uses.
        quick_steps, full_steps = [10, 150, 160, 300], [10, 50, 100, 140, 150, 151, 160, 200, 300, 500]
        steps = args.steps or (quick_steps if args.quick else full_steps)
        low, _, high = args.think_ms.partition("-")
        return cls(
            quick=args.quick,
            steps=sorted(steps),
            seconds=args.seconds or (2.0 if args.quick else 8.0),
            think_ms=(float(low), float(high or low)),
            processes=args.processes or (4 if args.quick else 8),
            burst_containers=max(steps),
        )


class Monitor:
    """One root connection to the server: set-up, status counters and the peak sampler."""

    def __init__(self, port: int):
        import MySQLdb

        self.conn = MySQLdb.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)

    def execute(self, sql: str, params: tuple | None = None) -> list[tuple]:
        with contextlib.closing(self.conn.cursor()) as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall() or [])

    def value(self, sql: str):
        return self.execute(sql)[0][0]

    def status(self) -> dict[str, int]:
        return {name: int(value) for name, value in self.execute("SHOW GLOBAL STATUS") if value.isdigit()}

    def threads_connected(self) -> int:
        return int(self.execute("SHOW GLOBAL STATUS LIKE 'Threads_connected'")[0][1])


class PeakSampler:
    """Polls Threads_connected during a step: the peak the server saw, monitor included."""

    def __init__(self, monitor: Monitor, interval: float = 0.02):
        self.monitor = monitor
        self.interval = interval
        self.peak = 0
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self.monitor.threads_connected()
            self.samples.append(value)
            self.peak = max(self.peak, value)
            self._stop.wait(self.interval)


def prepare(server: PrivateMariaDB, monitor: Monitor, password: str) -> dict:
    """The database, an ordinary user, the schema (real migrations) and the sample heroes."""
    monitor.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4")
    # A Lambda connects as an ordinary user; root would get MariaDB's one extra slot for SUPER.
    monitor.execute(f"CREATE USER '{APP_USER}'@'%%' IDENTIFIED BY %s", (password,))
    monitor.execute(f"GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{APP_USER}'@'%'")
    # Anonymous accounts (if the installer made any) would shadow the user for 'localhost'.
    for user, host in monitor.execute("SELECT user, host FROM mysql.user WHERE user = ''"):
        monitor.execute("DROP USER %s@%s", (user, host))
    env = child_env(server, password, conn_max_age=0)
    for command in (
        ["migrate", "--no-input", "-v", "0"],
        ["import_heroes", str(SAMPLE_CSV), "--no-progress"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    variables = dict(
        monitor.execute(
            "SELECT variable_name, variable_value FROM information_schema.global_variables "
            "WHERE variable_name IN "
            "('MAX_CONNECTIONS', 'EXTRA_MAX_CONNECTIONS', 'THREAD_HANDLING', 'BACK_LOG', "
            "'MAX_CONNECT_ERRORS', "
            "'THREAD_CACHE_SIZE', 'VERSION', 'SQL_AUTO_IS_NULL', 'TX_ISOLATION')"
        )
    )
    return {
        "version": variables.get("VERSION"),
        "max_connections": int(monitor.value("SELECT @@max_connections")),
        "variables": {name.lower(): value for name, value in variables.items()},
        "heroes": int(monitor.value(f"SELECT COUNT(*) FROM {DATABASE}.heroes_hero")),
        "port": server.port,
    }


def child_env(server: PrivateMariaDB, password: str, *, conn_max_age: int) -> dict:
    """A worker container's environment: the private server, the ordinary user, no Redis."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "DATABASE_SECRET_ARN", "AWS_LAMBDA_FUNCTION_NAME")
    }
    env.update(
        DATABASE_URL=f"mysql://{APP_USER}:{password}@127.0.0.1:{server.port}/{DATABASE}",
        DATABASE_CONN_MAX_AGE=str(conn_max_age),
        DJANGO_SETTINGS_MODULE="heroapp.settings",
        # As on Lambda: DEBUG off (Django then keeps no query log per connection), which needs a key.
        DEBUG="false",
        SECRET_KEY=f"bench-connections-{secrets.token_hex(16)}",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


# What Django sends when it connects -------------------------------------------------------

# A general-log line: an optional timestamp, the connection id, the command, the argument.
# A statement with newlines continues on lines that do not match.
LOG_LINE = re.compile(
    r"^(?:\d{6}\s+\d{1,2}:\d{2}:\d{2})?\s+(\d+)\s+"
    r"(Connect|Query|Quit|Init DB|Prepare|Execute|Close stmt|Field List|Change user"
    r"|Set option|Ping|Statistics|Reset stmt)\t?(.*)$"
)


def read_general_log(path: Path, offset: int, user: str) -> list[dict]:
    """The statements of ``user``'s connections written to the log after ``offset``, per connection."""
    with path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", "replace")
    entries: list[list] = []
    for line in text.splitlines():
        match = LOG_LINE.match(line)
        if match:
            entries.append([int(match[1]), match[2], match[3].strip()])
        elif entries and line.strip():
            entries[-1][2] += " " + line.strip()
    connections: dict[int, dict] = {}
    for conn_id, command, argument in entries:
        if command == "Connect" and argument.startswith(f"{user}@"):
            connections[conn_id] = {
                "id": conn_id,
                "connect": argument,
                "statements": [f"Connect: {argument}"],
            }
        elif conn_id in connections and command != "Connect":
            text = re.sub(r"\s+", " ", argument)
            connections[conn_id]["statements"].append(command if not text else f"{command}: {text}")
    return list(connections.values())


PROBE_EVENT = {"REQUEST": "read", "SQLS": [1, 2, 3], "USE_CACHE": "False"}


def probe_main() -> int:
    """Child: start like a fresh container and serve two reads; report what Django decided."""
    report = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the worker's per-invocation log lines
    from django.db import connection

    from cache_worker.handler import serve_direct_event

    statuses = [serve_direct_event(dict(PROBE_EVENT))["statusCode"] for _ in range(2)]
    report.write(
        json.dumps(
            {
                "statuses": statuses,
                "conn_max_age": connection.settings_dict["CONN_MAX_AGE"],
                "isolation_level": connection.isolation_level,
                "sql_auto_is_null_on_server": connection.features.is_sql_auto_is_null_enabled,
                "connect_params": {
                    k: v
                    for k, v in connection.get_connection_params().items()
                    if k in ("charset", "client_flag", "connect_timeout", "init_command")
                },
            }
        )
        + "\n"
    )
    report.flush()
    return 0


def probe_connect_statements(server: PrivateMariaDB, monitor: Monitor, password: str) -> dict:
    """Run a fresh container twice (reuse and no reuse) with the general log on; list what it sent."""
    out = {}
    for mode, max_age in MODES.items():
        general_log = server.folder / GENERAL_LOG
        offset = general_log.stat().st_size
        done = subprocess.run(
            [sys.executable, "-m", "bench.connections", "--probe"],
            cwd=ROOT,
            env=child_env(server, password, conn_max_age=max_age),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the probe failed:\n{done.stderr[-2000:]}")
        # The server writes the log as statements arrive; give it a moment to flush the last Quit.
        time.sleep(0.3)
        out[mode] = {
            "django": json.loads(done.stdout.strip().splitlines()[-1]),
            "connections": read_general_log(general_log, offset, APP_USER),
        }
    monitor.execute("SET GLOBAL general_log = OFF")  # it would cost every statement of the load a write
    return out


# The load: child processes of container threads ------------------------------------------


class ErrorTexts(logging.Handler):
    """Counts the worker's "database unavailable" warnings by error text (the 503's cause)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.counts: Counter[str] = Counter()
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = getattr(record, "error", None) or record.getMessage()
        with self._guard:
            self.counts[str(text)[:160]] += 1


@dataclass
class ContainerStats:
    statuses: Counter = field(default_factory=Counter)
    ok_ms: list[float] = field(default_factory=list)
    all_ms: list[float] = field(default_factory=list)
    finished: float = 0.0


def run_container(
    serve,
    gate: threading.Event,
    clock: dict,
    think: tuple[float, float],
    seed: int,
    max_id: int,
    stats: ContainerStats,
) -> None:
    """One warm container: invoke, think, repeat until the deadline; then give the connection back."""
    from django.db import connections

    rng = random.Random(seed)
    gate.wait()
    # Start spread over one think time, as containers that are already running would be,
    # rather than all connecting in the same millisecond.
    time.sleep(max(0.0, clock["start"] - time.monotonic()) + rng.uniform(0, think[1]) / 1000)
    ids = range(1, max_id + 1)
    while time.monotonic() < clock["deadline"]:
        event = {"REQUEST": "read", "SQLS": rng.sample(ids, IDS_PER_READ), "USE_CACHE": "False"}
        started = time.perf_counter()
        try:
            status = serve(event)["statusCode"]
        except Exception:  # the handler never raises; if it did, count it rather than lose the thread
            status = "exception"
        elapsed_ms = (time.perf_counter() - started) * 1000
        stats.statuses[status] += 1
        stats.all_ms.append(round(elapsed_ms, 3))
        if status == 200:
            stats.ok_ms.append(round(elapsed_ms, 3))
        if think[1] > 0:
            time.sleep(rng.uniform(*think) / 1000)
    connections.close_all()  # this thread's connection only: Django's connections are per thread
    stats.finished = time.monotonic()


def child_main() -> int:
    """
    Child: THREADS containers. Protocol on stdin/stdout: read the config line, import the
    worker, start the threads waiting, write "ready", read "go START DEADLINE" (monotonic
    seconds, one clock for every process on Linux), run, write one JSON line of results.
    """
    config = json.loads(sys.stdin.readline())
    report = os.fdopen(os.dup(1), "w")
    # The worker writes a JSON line per invocation to stdout: to /dev/null, as the brief of
    # this benchmark is connections, not logging.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    from django.db import connections

    from cache_worker.handler import serve_direct_event

    # Importing the worker settles the cache ledger on the main thread's connection; the
    # containers are the other threads, so that connection must not take a slot.
    connections.close_all()
    errors = ErrorTexts()
    logging.getLogger("heroes.events").addHandler(errors)
    gate, clock = threading.Event(), {}
    think = tuple(config["think_ms"])
    stats = [ContainerStats() for _ in range(config["threads"])]
    threads = [
        threading.Thread(
            target=run_container,
            daemon=True,
            args=(serve_direct_event, gate, clock, think, config["seed"] + i, config["max_id"], stats[i]),
        )
        for i in range(config["threads"])
    ]
    for thread in threads:
        thread.start()
    report.write("ready\n")
    report.flush()
    _, start, deadline = sys.stdin.readline().split()
    clock.update(start=float(start), deadline=float(deadline))
    gate.set()
    for thread in threads:
        thread.join()
    statuses = Counter()
    for s in stats:
        statuses.update(s.statuses)
    report.write(
        json.dumps(
            {
                "statuses": {str(k): v for k, v in statuses.items()},
                "ok_ms": [v for s in stats for v in s.ok_ms],
                "all_ms": [v for s in stats for v in s.all_ms],
                "finished": max(s.finished for s in stats),
                "errors": dict(errors.counts),
            }
        )
        + "\n"
    )
    report.flush()
    return 0


class Child:
    """The parent's side of one child process."""

    def __init__(
        self, env: dict, threads: int, think: tuple[float, float], seed: int, max_id: int, log: Path
    ):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.connections", "--child"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("wb"),
        )
        config = {"threads": threads, "think_ms": list(think), "seed": seed, "max_id": max_id}
        self.process.stdin.write((json.dumps(config) + "\n").encode())
        self.process.stdin.flush()

    def read_line(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            raise RuntimeError(
                f"a child process gave no answer (exit {self.process.poll()}):\n"
                + self.log.read_text(errors="replace")[-2000:]
            )
        return line

    def go(self, start: float, deadline: float) -> None:
        self.process.stdin.write(f"go {start} {deadline}\n".encode())
        self.process.stdin.flush()

    def result(self, timeout: float) -> dict:
        result = json.loads(self.read_line(timeout))
        self.process.wait(timeout=30)
        return result

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def run_step(
    server: PrivateMariaDB,
    monitor: Monitor,
    password: str,
    plan: Plan,
    folder: Path,
    *,
    mode: str,
    containers: int,
    think: tuple[float, float],
    max_id: int,
) -> dict:
    processes = min(plan.processes, containers)
    shares = [containers // processes + (1 if i < containers % processes else 0) for i in range(processes)]
    env = child_env(server, password, conn_max_age=MODES[mode])
    children: list[Child] = []
    try:
        for i, threads in enumerate(shares):
            children.append(
                Child(
                    env,
                    threads,
                    think,
                    seed=containers * 1000 + i * 10_000,
                    max_id=max_id,
                    log=folder / f"child{i}.log",
                )
            )
        for child in children:
            child.read_line(timeout=120)  # "ready": Django imported, threads waiting
        # Max_used_connections from here on; counters as differences, whatever FLUSH resets.
        monitor.execute("FLUSH STATUS")
        before = monitor.status()
        start = time.monotonic() + 0.05
        with PeakSampler(monitor) as sampler:
            for child in children:
                child.go(start, start + plan.seconds)
            results = [child.result(timeout=plan.seconds + 120) for child in children]
        after = monitor.status()
    finally:
        for child in children:
            child.kill()
    statuses: Counter = Counter()
    errors: Counter = Counter()
    for r in results:
        statuses.update(r["statuses"])
        errors.update(r["errors"])
    ok_ms = [v for r in results for v in r["ok_ms"]]
    all_ms = [v for r in results for v in r["all_ms"]]
    elapsed = max(r["finished"] for r in results) - start
    total = sum(statuses.values())
    ok, refused = statuses.get("200", 0), statuses.get("503", 0)
    counters = ("Connections", "Connection_errors_max_connections", "Aborted_connects", "Questions")
    delta = {name: after.get(name, 0) - before.get(name, 0) for name in counters}
    return {
        "mode": mode,
        "conn_max_age": MODES[mode],
        "containers": containers,
        "processes": processes,
        "think_ms": list(think),
        "seconds": round(elapsed, 2),
        "invocations": total,
        "ok": ok,
        "refused_503": refused,
        "other_statuses": {k: v for k, v in statuses.items() if k not in ("200", "503")},
        "refused_share": round(refused / total, 4) if total else 0.0,
        "invocations_per_s": round(total / elapsed, 1),
        "ok_per_s": round(ok / elapsed, 1),
        "p50_ms": percentile(ok_ms, 0.5) if ok_ms else None,
        "p99_ms": percentile(ok_ms, 0.99) if ok_ms else None,
        "p50_all_ms": percentile(all_ms, 0.5) if all_ms else None,
        "p99_all_ms": percentile(all_ms, 0.99) if all_ms else None,
        "mean_all_ms": round(statistics.fmean(all_ms), 3) if all_ms else None,
        # Little's law: invocations in flight on average, to compare with the connections held.
        "in_flight_mean": round(total / elapsed * statistics.fmean(all_ms) / 1000, 1) if all_ms else 0.0,
        "peak_threads_connected": sampler.peak,
        "median_threads_connected": statistics.median(sampler.samples) if sampler.samples else None,
        "max_used_connections": after.get("Max_used_connections"),
        # MariaDB counts an ordinary user refused at login (over max_connections, only SUPER may
        # take the extra slot) as Aborted_connects; Connection_errors_max_connections counts only
        # refusals at accept, past that extra slot.
        "connection_errors_max_connections": delta["Connection_errors_max_connections"],
        "connections_opened": delta["Connections"],
        "connections_per_s": round(delta["Connections"] / elapsed, 1),
        "aborted_connects": delta["Aborted_connects"],
        "errors": dict(errors.most_common(5)),
    }


def summarise(steps: list[dict], max_connections: int) -> dict:
    """
    Per mode: the largest step with no refusal below the first step that had any. For "no
    reuse", also a projection for containers with CPUs of their own: a container holds a slot
    for one invocation, so the slots last for (think + invocation) / invocation times as many
    containers, with the invocation time of the lightest step, before this machine's two
    cores were saturated and every invocation also waited for CPU while holding its slot.
    """
    out = {}
    slots = max_connections - 1  # the monitor holds one
    light = min(
        (s for s in steps if s["mode"] == "no reuse" and not s.get("burst")),
        key=lambda s: s["containers"],
        default=None,
    )
    if light and light["mean_all_ms"]:
        think = sum(light["think_ms"]) / 2
        containers = int(slots * (think + light["mean_all_ms"]) / light["mean_all_ms"])
        out["no reuse projection"] = {
            "slots_for_workers": slots,
            "invocation_ms": light["mean_all_ms"],
            "think_ms": think,
            "containers": containers,
            "from_step": light["containers"],
            # Every invocation opens a connection: the rate the server would have to accept,
            # to set against the highest rate measured here.
            "implied_connections_per_s": round(containers * 1000 / (think + light["mean_all_ms"])),
            "highest_measured_connections_per_s": max(
                s["connections_per_s"] for s in steps if s["mode"] == "no reuse"
            ),
        }
    for mode in MODES:
        ramp = sorted(
            (s for s in steps if s["mode"] == mode and not s.get("burst")), key=lambda s: s["containers"]
        )
        failed = [s for s in ramp if s["refused_503"] or s["other_statuses"]]
        first = failed[0]["containers"] if failed else None
        clean = [
            s["containers"]
            for s in ramp
            if not (s["refused_503"] or s["other_statuses"]) and (first is None or s["containers"] < first)
        ]
        out[mode] = {"largest_without_refusals": max(clean) if clean else None, "first_with_refusals": first}
    return out


# Output ----------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def table(results: dict) -> str:
    server, plan = results["server"], results["plan"]
    extra = server["variables"].get("extra_max_connections")
    lines = [
        f"MariaDB {server['version']} on 127.0.0.1:{server['port']}: "
        f"max_connections = {server['max_connections']} (default), extra_max_connections = {extra}; "
        f"{server['heroes']} heroes; one root monitoring connection held throughout.",
        f"Each container: a thread running serve_direct_event (read {IDS_PER_READ} ids, USE_CACHE False), "
        f"think {plan['think_ms'][0]:g}-{plan['think_ms'][1]:g} ms, {plan['seconds']:g} s per step, "
        f"{plan['processes']} processes.",
        "",
        f"{'mode':<9} {'containers':>10} {'think ms':>8} {'inv/s':>7} {'ok':>7} {'503':>7} {'refused':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'in flight':>9} {'peak conn':>9} {'max used':>8} {'new conn/s':>10}",
    ]
    for s in results["steps"]:
        think = "0" if s["think_ms"][1] == 0 else f"{s['think_ms'][0]:g}-{s['think_ms'][1]:g}"
        lines.append(
            f"{s['mode']:<9} {s['containers']:>10} {think:>8} {s['invocations_per_s']:>7.0f} {s['ok']:>7} "
            f"{s['refused_503']:>7} {s['refused_share']:>8.1%} {ms(s['p50_ms']):>7} {ms(s['p99_ms']):>7} "
            f"{s['in_flight_mean']:>9.1f} {s['peak_threads_connected']:>9} {s['max_used_connections']:>8} "
            f"{s['connections_per_s']:>10.0f}"
        )
    lines += [
        "",
        "peak conn = highest Threads_connected sampled every 20 ms, max used = "
        "Max_used_connections since FLUSH STATUS; both include the monitor (and, for a moment, "
        "a connection being refused). p50/p99 of invocations answered 200; in flight = "
        "invocations/s x mean latency. Latencies above a few ms come from this 2-core machine's "
        "CPUs being saturated (containers and server share them), not from waiting for a slot.",
    ]
    for mode in MODES:
        summary = results["summary"][mode]
        lines.append(
            f"{mode}: largest step with no refusals {summary['largest_without_refusals']}, "
            f"first step with refusals {summary['first_with_refusals']}"
        )
    if p := results["summary"].get("no reuse projection"):
        lines.append(
            f"no reuse, projected for containers with CPUs of their own: {p['slots_for_workers']} "
            f"slots x ({p['think_ms']:g} ms think + {p['invocation_ms']:.1f} ms invocation) / "
            f"{p['invocation_ms']:.1f} ms = about {p['containers']:,} containers "
            f"(invocation time from the {p['from_step']}-container step), if the server could "
            f"accept {p['implied_connections_per_s']:,} connections/s "
            f"(highest measured here: {p['highest_measured_connections_per_s']:,.0f}/s)"
        )
    errors = Counter()
    for s in results["steps"]:
        errors.update(s["errors"])
    for text, count in errors.most_common(3):
        lines.append(f"503 cause: {text} ({count} invocations in all)")
    lines += ["", "Statements a fresh container sends when it connects (general log):"]
    for mode, probe in results["connect_statements"].items():
        lines.append(
            f"  {mode} (DATABASE_CONN_MAX_AGE={probe['django']['conn_max_age']}): "
            f"{len(probe['connections'])} connection(s) for import + 2 invocations"
        )
        for conn in probe["connections"]:
            shown = [text if len(text) <= 110 else text[:107] + "..." for text in conn["statements"]]
            lines.append(f"    connection {conn['id']}: " + " | ".join(shown))
    return "\n".join(lines)


# Main ------------------------------------------------------------------------------------


def step(text: str) -> None:
    print(f"[connections] {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an exception, so the server is stopped and its folder removed."""

    def raise_exit(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, raise_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(plan: Plan) -> dict:
    results: dict = {
        "machine": machine(),
        "quick": plan.quick,
        "plan": asdict(plan),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    password = secrets.token_urlsafe(18)
    folder = Path(tempfile.mkdtemp(prefix="heroapp-connections-"))
    # Nothing about connections is configured, so max_connections is the default. The
    # general query log is on from the start, so the connect-time statements can be read;
    # it is turned off before the load.
    server = None
    monitor = None
    try:
        step(f"starting a private MariaDB in {folder}")
        server = PrivateMariaDB(folder, "--general-log", f"--general-log-file={folder / GENERAL_LOG}")
        server.start()
        monitor = Monitor(server.port)
        step("creating the database and user, migrating, loading the sample heroes")
        results["server"] = prepare(server, monitor, password)
        step("reading the statements Django sends on connect (general log)")
        results["connect_statements"] = probe_connect_statements(server, monitor, password)
        max_id = results["server"]["heroes"]
        steps = []
        runs = [(mode, n, plan.think_ms) for mode in MODES for n in plan.steps]
        runs.append(("no reuse", plan.burst_containers, (0.0, 0.0)))
        for mode, containers, think in runs:
            started = time.monotonic()
            result = run_step(
                server,
                monitor,
                password,
                plan,
                folder,
                mode=mode,
                containers=containers,
                think=think,
                max_id=max_id,
            )
            result["burst"] = think[1] == 0
            steps.append(result)
            step(
                f"{mode}, {containers} containers, think {think[0]:g}-{think[1]:g} ms: {result['ok']} ok, "
                f"{result['refused_503']} refused, peak {result['peak_threads_connected']} connections "
                f"({time.monotonic() - started:.1f} s)"
            )
        results["steps"] = steps
        results["summary"] = summarise(steps, results["server"]["max_connections"])
        results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        return results
    finally:
        if monitor is not None:
            with contextlib.suppress(Exception):
                monitor.conn.close()
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    if "--child" in sys.argv:
        return child_main()
    if "--probe" in sys.argv:
        return probe_main()
    parser = argparse.ArgumentParser(prog="python -m bench.connections", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("QUICK") == "1",
        help="fewer, shorter steps (under a minute), to keep the benchmark working",
    )
    parser.add_argument(
        "--steps",
        type=lambda text: [int(n) for n in text.split(",")],
        help="container counts, comma-separated (default 10,50,...,500; quick 10,150,160,300)",
    )
    parser.add_argument("--seconds", type=float, help="load per step (default 8; quick 2)")
    parser.add_argument(
        "--think-ms", default="50-100", help="idle time between invocations, LOW-HIGH (default 50-100)"
    )
    parser.add_argument(
        "--processes", type=int, help="child processes sharing the containers (default 8; quick 4)"
    )
    plan = Plan.make(parser.parse_args())
    started = time.monotonic()
    with terminate_on_sigterm():
        results = run(plan)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "connections.json").write_text(json.dumps(results, indent=2, default=str))
    print(table(results))
    print(f"\nwritten: {RESULTS / 'connections.json'} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
