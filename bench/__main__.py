"""
python -m bench [--quick]: run every measurement, print the table, write bench-results/.

Against the real servers: BENCH_DATABASE_URL (default: database heroapp_bench on the local
MariaDB, created if missing) and BENCH_REDIS_URL (default: local Redis, database 13, which
the benchmark flushes). --quick (or QUICK=1) runs small data and few repetitions in under a
minute, to keep the benchmark working in CI; its numbers are not the ones to quote.
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from bench.timing import machine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"


@contextlib.contextmanager
def quiet_stdout():
    """Send fd 1 to /dev/null: the worker logs a JSON line and an EMF line per invocation."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


class Plan:
    def __init__(self, quick: bool):
        self.quick = quick
        self.dataset = 10_000 if quick else 100_000
        self.reps = 200 if quick else 3000
        self.reps_big = 50 if quick else 500
        self.mixed_seconds = 2 if quick else 10
        self.mixed_procs = 4
        self.web_seconds = 2 if quick else 10
        self.cold_runs = 2 if quick else 7
        self.import_rows = 20_000 if quick else 1_000_000
        self.probe_reps = 30 if quick else 300


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", default=os.environ.get("QUICK") == "1")
    parser.add_argument("--only", help="comma-separated sections to run; prints their JSON instead of the table")
    args = parser.parse_args()
    plan = Plan(args.quick)

    database_url = os.environ.get("BENCH_DATABASE_URL", "mysql://root@127.0.0.1:3306/heroapp_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="heroapp.settings")
    os.environ.setdefault("DEBUG", "true")
    create_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results: dict = {"machine": machine(), "quick": plan.quick, "dataset": plan.dataset, "started": now()}
    step("loading the data set")
    results["dataset_import"] = ensure_dataset(plan.dataset)
    sections = [
        ("floors", floors), ("worker", worker), ("cluster", cluster), ("naive", naive), ("writes", writes), ("mixed", mixed),
        ("web", web), ("cold_start", cold_start), ("import", import_throughput), ("network", network),
    ]
    if args.only:
        wanted = args.only.split(",")
        sections = [(name, run) for name, run in sections if name in wanted]
    for name, run in sections:
        step(name)
        started = time.monotonic()
        results[name] = run(plan, results)
        step(f"{name} done in {time.monotonic() - started:.1f} s")
    if args.only:
        print(json.dumps({name: results[name] for name, _ in sections}, indent=2, default=str))
        return 0
    results["targets"] = targets(results)
    results["finished"] = now()
    write_outputs(results)
    return 0


def step(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def mysql_params(url: str, *, database: bool = True) -> dict:
    parsed = urlparse(url)
    params = {"host": parsed.hostname, "port": parsed.port or 3306, "user": parsed.username or "root",
              "password": parsed.password or ""}
    if database:
        params["database"] = parsed.path.lstrip("/")
    return params


def create_database(url: str) -> None:
    import MySQLdb

    conn = MySQLdb.connect(**mysql_params(url, database=False))
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{urlparse(url).path.lstrip('/')}` CHARACTER SET utf8mb4")
    conn.close()


def ensure_dataset(size: int) -> dict:
    from heroes.importer import import_heroes
    from heroes.models import Hero
    from heroes.sample import write_csv

    if Hero.objects.count() == size and Hero.objects.filter(id=size).exists():
        return {"rows": size, "reused": True}
    # The benchmark's own database and Redis: TRUNCATE, not an ORM delete, which would
    # fetch every row to send its post_delete signal.
    from django.db import connection

    from heroes.cache import get_hero_cache

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE TABLE heroes_hero")
    get_hero_cache().store.client.flushdb()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "heroes.csv"
        write_csv(path, size)
        report = import_heroes(source=str(path), batch_size=5000)
    return {"rows": report.rows, "rows_per_s": round(report.rows_per_second)}


# 1. Floors -------------------------------------------------------------------------------


def floors(plan: Plan, results: dict) -> dict:
    import MySQLdb
    import redis

    from bench.timing import timed
    from heroes.cache import get_hero_cache
    from heroes.services import warm_heroes

    warm_heroes(ids=list(range(1, 101)))
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    cache = get_hero_cache()
    keys = [cache.key(i) for i in range(1, 101)]
    conn = MySQLdb.connect(**mysql_params(os.environ["DATABASE_URL"]))
    cursor = conn.cursor()
    columns = "id, version, name, hero, power, xp, color"
    in_100 = f"SELECT {columns} FROM heroes_hero WHERE id IN ({', '.join(['%s'] * 100)})"

    def select(sql, params):
        cursor.execute(sql, params)
        cursor.fetchall()

    out = {
        "redis_get": timed("redis GET", lambda: client.get(keys[0]), reps=plan.reps),
        "redis_mget_3": timed("redis MGET 3", lambda: client.mget(keys[:3]), reps=plan.reps),
        "redis_mget_100": timed("redis MGET 100", lambda: client.mget(keys), reps=plan.reps),
        "sql_pk": timed("SELECT by id", lambda: select(f"SELECT {columns} FROM heroes_hero WHERE id = %s", (5,)),
                        reps=plan.reps),
        "sql_in_100": timed("SELECT id IN (100)", lambda: select(in_100, list(range(1, 101))), reps=plan.reps_big),
    }
    conn.close()
    return {k: v.as_dict() for k, v in out.items()}


# 2. The worker, warm ---------------------------------------------------------------------


def count_round_trips(call, times: int = 20) -> tuple[float, float]:
    """Redis requests (one per command or pipeline) and SQL statements per call."""
    from django.db import connection
    from redis.connection import AbstractConnection

    original = AbstractConnection.send_packed_command
    counts = {"redis": 0, "sql": 0}

    def counting(self, command, check_health=True):
        counts["redis"] += 1
        return original(self, command, check_health)

    def sql(execute, *args):
        counts["sql"] += 1
        return execute(*args)

    AbstractConnection.send_packed_command = counting
    try:
        with connection.execute_wrapper(sql):
            for _ in range(times):
                call()
    finally:
        AbstractConnection.send_packed_command = original
    return counts["redis"] / times, counts["sql"] / times


def worker(plan: Plan, results: dict) -> dict:
    import random

    from bench.timing import paired, timed
    from cache_worker.handler import lambda_handler
    from heroes.cache import get_hero_cache

    cache = get_hero_cache()
    rng = random.Random(1)
    out = {}
    for size in (1, 3, 100):
        reps = plan.reps if size < 100 else plan.reps_big
        ids = rng.sample(range(1, plan.dataset + 1), size)
        hit = {"REQUEST": "read", "SQLS": ids, "USE_CACHE": "True"}
        off = {"REQUEST": "read", "SQLS": ids, "USE_CACHE": "False"}
        client = cache.store.client
        keys = [cache.key(i) for i in ids]

        def evict(keys=keys, client=client):
            client.delete(*keys)

        with quiet_stdout():
            lambda_handler(hit)
            cases = {
                f"hit_{size}": (lambda e=hit: lambda_handler(e), None),
                f"miss_{size}": (lambda e=hit: lambda_handler(e), evict),
                f"off_{size}": (lambda e=off: lambda_handler(e), None),
            }
            # The targets compare an all-hit read with a raw MGET of as many keys: timed
            # alternately in one loop so both see the same machine.
            raw = cache.store.client
            paired_hit, paired_mget = paired((f"hit_{size}", lambda e=hit: lambda_handler(e)),
                                             (f"mget_{size}", lambda k=keys: raw.mget(k)), reps=reps)
            out[f"paired_{size}"] = {"worker_hit": paired_hit.as_dict(), "redis_mget": paired_mget.as_dict(),
                                     "ratio": round(paired_hit.median_us / paired_mget.median_us, 2)}
            for name, (call, before) in cases.items():
                timing = timed(name, call, reps=reps, before=before)
                if before:
                    redis_requests, sql = count_round_trips(lambda c=call, b=before: (b(), c()))
                    redis_requests -= 1  # the eviction's own DEL
                else:
                    redis_requests, sql = count_round_trips(call)
                timing.extra.update(redis_requests=redis_requests, sql_queries=sql)
                out[name] = timing.as_dict()
    return out


def cluster(plan: Plan, results: dict) -> dict:
    """
    All-hit worker reads through a Redis Cluster of three primaries (started here on loopback)
    against the same reads through the single node, timed alternately in one loop.
    """
    import random
    import shutil

    from django.test import override_settings

    import heroes.cache as hero_cache_module
    from bench.timing import paired
    from cache_worker.handler import lambda_handler
    from heroapp.settings import redis_cache
    from scripts.redis_cluster import RedisCluster

    single = hero_cache_module.get_hero_cache()
    folder = Path(tempfile.mkdtemp(prefix="heroapp-bench-cluster-"))
    nodes = RedisCluster(folder, masters=3)
    rng = random.Random(3)
    out = {}
    try:
        nodes.start()
        with override_settings(CACHES={"default": redis_cache(nodes.url.split("?")[0], cluster=True)}):
            on_cluster = hero_cache_module.build_hero_cache()

        def serve(cache, event):
            # The handler reads the process-wide cache; each call names which one it uses.
            hero_cache_module._hero_cache = cache
            return lambda_handler(event)

        for size in (1, 3, 100):
            event = {"REQUEST": "read", "SQLS": rng.sample(range(1, plan.dataset + 1), size), "USE_CACHE": "True"}
            with quiet_stdout():
                serve(single, event), serve(on_cluster, event)  # both caches hold the heroes
                one, many = paired((f"single_{size}", lambda e=event: serve(single, e)),
                                   (f"cluster_{size}", lambda e=event: serve(on_cluster, e)),
                                   reps=plan.reps if size < 100 else plan.reps_big)
                requests, _ = count_round_trips(lambda e=event: serve(on_cluster, e))
            many.extra["redis_requests"] = requests
            out[f"hit_{size}"] = {"single": one.as_dict(), "cluster": many.as_dict(),
                                  "ratio": round(many.median_us / one.median_us, 2)}
    finally:
        hero_cache_module._hero_cache = single
        nodes.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return out


# 3. The naive reference ------------------------------------------------------------------


def naive(plan: Plan, results: dict) -> dict:
    from bench.naive import naive_handler
    from bench.timing import timed

    mysql = mysql_params(os.environ["DATABASE_URL"])
    out = {}
    for size in (1, 3):
        event = {"REQUEST": "read", "SQLS": list(range(1, size + 1)), "USE_CACHE": "True"}
        naive_handler(event, mysql=mysql, redis_url=os.environ["REDIS_URL"])  # its own cache filled: all hits
        timing = timed(f"naive_{size}", lambda e=event: naive_handler(e, mysql=mysql, redis_url=os.environ["REDIS_URL"]),
                       reps=max(20, plan.reps // 10), warmup=5)
        out[f"naive_{size}"] = timing.as_dict()
    return out


# 4. Writes -------------------------------------------------------------------------------


def writes(plan: Plan, results: dict) -> dict:
    from bench.timing import timed
    from cache_worker.handler import lambda_handler
    from heroes.models import Hero

    record = {"hero": "yes", "name": "Bench Writer", "power": "writing", "color": "gray", "xp": "1"}
    out = {}
    with quiet_stdout():
        for size in (1, 100):
            for use_cache in ("True", "False"):
                event = {"REQUEST": "write", "USE_CACHE": use_cache, "SQLS": [record] * size}
                reps = (plan.reps // 10) if size == 1 else max(10, plan.reps_big // 5)
                timing = timed(f"write_{size}_{use_cache}", lambda e=event: lambda_handler(e), reps=reps, warmup=3)
                redis_requests, sql = count_round_trips(lambda e=event: lambda_handler(e), times=5)
                timing.extra.update(redis_requests=redis_requests, sql_queries=sql)
                out[f"write_{size}_{'cache' if use_cache == 'True' else 'nocache'}"] = timing.as_dict()
    # Keep the data set at its size for the next run.
    Hero.objects.filter(name="Bench Writer").delete()
    return out


# 5. Mixed workload -----------------------------------------------------------------------


def mixed(plan: Plan, results: dict) -> dict:
    from bench import mixed as workload
    from heroes.services import flush_hero_cache

    from heroes.services import warm_all_heroes

    ids = list(range(1, plan.dataset + 1))
    out = {}
    context = multiprocessing.get_context("spawn")
    # "cache": the workload itself warms the cache for as long as it is then measured;
    # "cache_prewarmed": the warm_cache task loads every hero first, as after a deploy.
    for mode, use_cache in (("cache", True), ("cache_prewarmed", True), ("no_cache", False)):
        flush_hero_cache()
        if mode == "cache_prewarmed":
            warm_all_heroes()
        args = [(use_cache, plan.mixed_seconds, plan.mixed_seconds, ids, 100 + i, 0.05) for i in range(plan.mixed_procs)]
        with context.Pool(plan.mixed_procs) as pool:
            out[mode] = workload.summarise(pool.map(workload.run, args))
    return out


# 6. Web ----------------------------------------------------------------------------------


def web(plan: Plan, results: dict) -> dict:
    from bench import web as load
    from heroes.services import warm_heroes

    warm_heroes(ids=list(range(1, 1001)))
    env = {**os.environ}
    out = {}
    for use_cache in (True, False):
        result = load.run(use_cache=use_cache, seconds=plan.web_seconds, hot_ids=1000, env=env)
        if result is None:
            return {"skipped": "wrk is not installed (apt-get install wrk)"}
        out["cache" if use_cache else "no_cache"] = result
    return out


# 7. Cold start ---------------------------------------------------------------------------

COLD_START = """
import time
started = time.perf_counter()
import os, sys, json
from cache_worker.handler import lambda_handler
imported = time.perf_counter()
response = lambda_handler({"REQUEST": "read", "SQLS": [1, 2, 3]})
answered = time.perf_counter()
sys.__stderr__.write(json.dumps({"import_setup_ms": (imported - started) * 1000,
                                 "first_event_ms": (answered - imported) * 1000,
                                 "total_ms": (answered - started) * 1000, "status": response["statusCode"]}) + "\\n")
"""


def cold_start(plan: Plan, results: dict) -> dict:
    import statistics

    runs = []
    for _ in range(plan.cold_runs + 1):
        done = subprocess.run([sys.executable, "-c", COLD_START], cwd=ROOT, env=os.environ.copy(),
                              capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stderr.strip().splitlines()[-1]))
    runs = runs[1:]  # the first run writes bytecode caches; Lambda ships them in the package
    # What dominates: Django's set-up, timed alone.
    setup = subprocess.run([sys.executable, "-X", "importtime", "-c", "import django; django.setup()"],
                           cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, check=True)
    heaviest = sorted((line.split("|") for line in setup.stderr.splitlines() if line.startswith("import time:")
                       and line.count("|") == 2 and line.split("|")[1].strip().isdigit()),
                      key=lambda parts: -int(parts[1]))
    top = [(parts[2].strip(), round(int(parts[1]) / 1000, 1)) for parts in heaviest if not parts[2].startswith("  ")][:6]
    return {
        "runs": len(runs),
        "median_total_ms": round(statistics.median(r["total_ms"] for r in runs), 1),
        "median_import_setup_ms": round(statistics.median(r["import_setup_ms"] for r in runs), 1),
        "median_first_event_ms": round(statistics.median(r["first_event_ms"] for r in runs), 1),
        "heaviest_imports_ms": top,
    }


# 8. Import -------------------------------------------------------------------------------

IMPORT = """
import json, sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from heroes.importer import import_heroes
report = import_heroes(source=sys.argv[1], batch_size=5000)
sys.__stderr__.write(json.dumps({"rows": report.rows, "seconds": report.elapsed_s,
                                 "rows_per_s": report.rows_per_second}) + "\\n")
"""


def import_throughput(plan: Plan, results: dict) -> dict:
    from heroes.sample import write_csv

    url = os.environ["DATABASE_URL"] + "_import"
    import MySQLdb

    conn = MySQLdb.connect(**mysql_params(url, database=False))
    name = urlparse(url).path.lstrip("/")
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()
    create_database(url)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "import.csv"
        write_csv(path, plan.import_rows)
        done = subprocess.run([sys.executable, "-c", IMPORT, str(path)], cwd=ROOT,
                              env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=True)
    result = json.loads(done.stderr.strip().splitlines()[-1])
    return {k: round(v, 1) for k, v in result.items()}


# 9. Network distance ---------------------------------------------------------------------

SETTINGS = [
    ("loopback, direct", None, None),
    ("through the proxy, no delay", 0.0, 0.0),
    ("database 1 ms RTT, Redis 0.2 ms RTT (same-AZ Aurora/ElastiCache)", 0.0005, 0.0001),
    ("database 10 ms RTT, Redis 0.5 ms RTT", 0.005, 0.00025),
]


def network(plan: Plan, results: dict) -> dict:
    from bench.proxy import DelayProxy

    db, cache = urlparse(os.environ["DATABASE_URL"]), urlparse(os.environ["REDIS_URL"])
    out = {}
    for label, db_delay, redis_delay in SETTINGS:
        env = os.environ.copy()
        proxies = []
        if db_delay is not None:
            db_proxy = DelayProxy((db.hostname, db.port or 3306), db_delay)
            redis_proxy = DelayProxy((cache.hostname, cache.port or 6379), redis_delay)
            proxies = [db_proxy, redis_proxy]
            env["DATABASE_URL"] = os.environ["DATABASE_URL"].replace(f"{db.hostname}:{db.port or 3306}",
                                                                     f"127.0.0.1:{db_proxy.port}")
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_proxy.port}{cache.path}"
        try:
            done = subprocess.run([sys.executable, "-m", "bench.probe", str(plan.probe_reps), "11", "12", "13"],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        finally:
            for proxy in proxies:
                proxy.close()
        lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            out[label] = {"error": done.stderr[-500:]}
            continue
        probe = json.loads(lines[-1])
        probe["db_over_cache"] = round(probe["database"]["median_us"] / probe["cache_hit"]["median_us"], 1)
        probe["naive_over_cache"] = round(probe["naive"]["median_us"] / probe["cache_hit"]["median_us"], 1)
        out[label] = probe
    return out


# Targets, table, chart ---------------------------------------------------------------------


def targets(r: dict) -> list[dict]:
    w = r["worker"]
    checks = [
        ("all-hit read of 3 ids vs raw MGET of 3 (timed alternately)", w["paired_3"]["ratio"], "<=", 2.0),
        ("all-hit read of 100 ids vs raw MGET of 100 (timed alternately)", w["paired_100"]["ratio"], "<=", 2.0),
        ("naive reference vs worker, 3-id read (median)", r["naive"]["naive_3"]["median_us"] / w["hit_3"]["median_us"], ">=", 100.0),
        ("mixed workload hit ratio, after its own warm-up", r["mixed"]["cache"]["hit_ratio"], ">=", 0.95),
        ("mixed workload hit ratio, after the warm_cache task", r["mixed"]["cache_prewarmed"]["hit_ratio"], ">=", 0.95),
        ("mixed workload SQL per 1000 reads, after its own warm-up", r["mixed"]["cache"]["db_queries_per_1000_reads"], "<=", 50.0),
        ("mixed workload SQL per 1000 reads, after the warm_cache task",
         r["mixed"]["cache_prewarmed"]["db_queries_per_1000_reads"], "<=", 50.0),
        ("cold start to first answered event (ms)", r["cold_start"]["median_total_ms"], "<", 300.0),
        ("import throughput (rows/s)", r["import"]["rows_per_s"], ">=", 50_000.0),
    ]
    out = []
    for name, value, op, goal in checks:
        met = {"<=": value <= goal, ">=": value >= goal, "<": value < goal}[op]
        out.append({"target": name, "measured": round(value, 3), "goal": f"{op} {goal:g}", "met": met})
    return out


def us(value: float) -> str:
    return f"{value:,.0f} µs" if value < 10_000 else f"{value / 1000:,.1f} ms"


def table(r: dict) -> str:
    lines = [f"heroapp benchmark, {r['finished']}{' (QUICK: not for quoting)' if r['quick'] else ''}",
             f"machine: {r['machine']['cpus']} CPUs, {r['machine']['cpu']}, Python {r['machine']['python']}; "
             f"data set: {r['dataset']:,} heroes", "",
             "| case | median | p99 | Redis requests | SQL queries |", "| --- | --- | --- | --- | --- |"]
    for key, label in [("redis_get", "floor: redis GET"), ("redis_mget_3", "floor: redis MGET 3 keys"),
                       ("redis_mget_100", "floor: redis MGET 100 keys"), ("sql_pk", "floor: SELECT by primary key"),
                       ("sql_in_100", "floor: SELECT id IN (100 ids)")]:
        t = r["floors"][key]
        lines.append(f"| {label} | {us(t['median_us'])} | {us(t['p99_us'])} | | |")
    for size in (1, 3, 100):
        for kind, label in (("hit", "all hits"), ("miss", "all misses"), ("off", "USE_CACHE off")):
            t = r["worker"][f"{kind}_{size}"]
            lines.append(f"| worker, read {size} id{'s' if size > 1 else ''}, {label} | {us(t['median_us'])} | "
                         f"{us(t['p99_us'])} | {t['extra']['redis_requests']:g} | {t['extra']['sql_queries']:g} |")
    for size in (3, 100):
        p = r["worker"][f"paired_{size}"]
        lines.append(f"| paired: worker all-hit read {size} / raw MGET {size} | {us(p['worker_hit']['median_us'])} / "
                     f"{us(p['redis_mget']['median_us'])} = {p['ratio']:g}x | | | |")
    for size in (1, 3, 100):
        c = r["cluster"][f"hit_{size}"]
        lines.append(f"| worker, read {size}, all hits, Redis Cluster of 3 / single node | "
                     f"{us(c['cluster']['median_us'])} / {us(c['single']['median_us'])} = {c['ratio']:g}x | "
                     f"{us(c['cluster']['p99_us'])} | {c['cluster']['extra']['redis_requests']:g} | 0 |")
    for size in (1, 3):
        t = r["naive"][f"naive_{size}"]
        lines.append(f"| naive reference, read {size}, all hits | {us(t['median_us'])} | {us(t['p99_us'])} | "
                     f"connect + {size} GET | connect |")
    for key, t in r["writes"].items():
        size, mode = key.split("_")[1], "write-through" if key.endswith("_cache") else "no write-through"
        lines.append(f"| worker, write {size}, {mode} | {us(t['median_us'])} | {us(t['p99_us'])} | "
                     f"{t['extra']['redis_requests']:g} | {t['extra']['sql_queries']:g} |")
    lines += ["", "| mixed workload (Zipf s=1.1, 5% updates) | ops/s | read p50 | read p99 | hit ratio | SQL per 1000 reads |",
              "| --- | --- | --- | --- | --- | --- |"]
    for key, label in (("cache", "cache, after its own warm-up"), ("cache_prewarmed", "cache, after warm_cache"),
                       ("no_cache", "no cache")):
        m = r["mixed"][key]
        lines.append(f"| {m['processes']} processes, {label} | {m['ops_per_s']:,} | "
                     f"{us(m['read_p50_us'])} | {us(m['read_p99_us'])} | {m['hit_ratio']:.1%} | {m['db_queries_per_1000_reads']:g} |")
    if "skipped" in r["web"]:
        lines += ["", f"web detail page: skipped ({r['web']['skipped']})"]
    else:
        lines += ["", "| web detail page, gunicorn 2 workers, wrk 16 connections | requests/s | p50 | p99 | errors |",
                  "| --- | --- | --- | --- | --- |"]
        for key in ("cache", "no_cache"):
            w = r["web"][key]
            lines.append(f"| {'cache' if key == 'cache' else 'no cache'} | {w['requests_per_s']:,.0f} | {us(w['p50_us'])} | "
                         f"{us(w['p99_us'])} | {w['non_2xx']} |")
    c = r["cold_start"]
    lines += ["", f"cold start to first answered event: median {c['median_total_ms']:.0f} ms "
              f"(import and Django set-up {c['median_import_setup_ms']:.0f} ms, first event {c['median_first_event_ms']:.0f} ms); "
              "heaviest imports: " + ", ".join(f"{name} {ms:g} ms" for name, ms in c["heaviest_imports_ms"]),
              f"import: {r['import']['rows']:,.0f} rows in {r['import']['seconds']:.1f} s = {r['import']['rows_per_s']:,.0f} rows/s", "",
              "| network distance (worker, 3-id read) | cache hit | database only | naive | database / cache | naive / cache |",
              "| --- | --- | --- | --- | --- | --- |"]
    for label, n in r["network"].items():
        if "error" in n:
            lines.append(f"| {label} | error | | | | |")
            continue
        lines.append(f"| {label} | {us(n['cache_hit']['median_us'])} | {us(n['database']['median_us'])} | "
                     f"{us(n['naive']['median_us'])} | {n['db_over_cache']:g}x | {n['naive_over_cache']:g}x |")
    lines += ["", "| target | measured | goal | met |", "| --- | --- | --- | --- |"]
    for t in r["targets"]:
        lines.append(f"| {t['target']} | {t['measured']:g} | {t['goal']} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)


def write_outputs(r: dict) -> None:
    from bench.chart import latency_svg

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(r, indent=2, default=str))
    rows = [(label, r[section][key]["median_us"], r[section][key]["p99_us"]) for section, key, label in [
        ("floors", "redis_mget_3", "redis MGET 3 keys (floor)"),
        ("worker", "hit_3", "worker read 3, all hits"),
        ("worker", "miss_3", "worker read 3, all misses"),
        ("worker", "off_3", "worker read 3, USE_CACHE off"),
        ("naive", "naive_3", "naive reference read 3"),
        ("floors", "redis_mget_100", "redis MGET 100 keys (floor)"),
        ("worker", "hit_100", "worker read 100, all hits"),
        ("worker", "miss_100", "worker read 100, all misses"),
        ("worker", "off_100", "worker read 100, USE_CACHE off"),
        ("writes", "write_1_cache", "worker write 1, write-through"),
        ("writes", "write_100_cache", "worker write 100, write-through"),
    ]]
    for label, n in r["network"].items():
        if "error" not in n and "direct" not in label and "no delay" not in label:
            short = label.split(" (")[0]
            rows.append((f"{short}: hit", n["cache_hit"]["median_us"], n["cache_hit"]["p99_us"]))
            rows.append((f"{short}: database", n["database"]["median_us"], n["database"]["p99_us"]))
    (RESULTS / "latency.svg").write_text(latency_svg(rows, f"heroapp latency, {r['dataset']:,} heroes ({r['finished']})"))
    text = table(r)
    (RESULTS / "table.md").write_text(text + "\n")
    print(text)
    print(f"\nwritten: {RESULTS / 'results.json'}, {RESULTS / 'latency.svg'}, {RESULTS / 'table.md'}")


if __name__ == "__main__":
    sys.exit(main())
