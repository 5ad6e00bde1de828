"""
python -m bench [--quick] [--only SECTIONS]: run every section, print the table, write bench-results/.

Against the real servers: BENCH_DATABASE_URL (default: database heroapp_bench on the local
MariaDB, created if missing) and BENCH_REDIS_URL (default: local Redis, database 13, which
the benchmark flushes). --quick (or QUICK=1) runs small data and few repetitions in under a
minute, to keep the benchmark working in CI; its numbers are not the ones to quote.

Each section is a module in bench/sections/ (see its __init__ for the interface); this runner
loads the data set, runs them in order, collects their targets and writes the report.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.sections import (
    bulk_import,
    cache_costs,
    cluster,
    cold_package,
    cold_start,
    floors,
    importer,
    mixed,
    naive,
    network,
    peers,
    web,
    worker,
    writes,
)
from bench.support import ROOT, create_database
from bench.timing import machine

RESULTS = ROOT / "bench-results"

# The sections in the order they run; each name is its key in results.json.
SECTIONS = [
    ("floors", floors),
    ("worker", worker),
    ("cache_costs", cache_costs),
    ("cluster", cluster),
    ("naive", naive),
    ("writes", writes),
    ("mixed", mixed),
    ("web", web),
    ("cold_start", cold_start),
    ("cold_package", cold_package),
    ("import", importer),
    ("bulk_import", bulk_import),
    ("peers", peers),
    ("network", network),
]


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
    parser.add_argument(
        "--only", help="comma-separated sections to run; prints their JSON instead of the table"
    )
    args = parser.parse_args()
    plan = Plan(args.quick)

    database_url = os.environ.get("BENCH_DATABASE_URL", "mysql://root@127.0.0.1:3306/heroapp_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="heroapp.settings"
    )
    os.environ.setdefault("DEBUG", "true")
    create_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results: dict = {"machine": machine(), "quick": plan.quick, "dataset": plan.dataset, "started": now()}
    step("loading the data set")
    results["dataset_import"] = ensure_dataset(plan.dataset)
    sections = SECTIONS
    if args.only:
        wanted = args.only.split(",")
        sections = [(name, section) for name, section in sections if name in wanted]
    for name, section in sections:
        step(name)
        started = time.monotonic()
        results[name] = section.run(plan, results)
        step(f"{name} done in {time.monotonic() - started:.1f} s")
    if args.only:
        print(json.dumps({name: results[name] for name, _ in sections}, indent=2, default=str))
        print("\n".join(target_lines(targets(results, sections))))
        return 0
    results["targets"] = targets(results)
    results["finished"] = now()
    write_outputs(results)
    return 0


def step(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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


def targets(results: dict, sections=SECTIONS) -> list[dict]:
    """The sections' targets (every section's by default), in order, with whether each was met."""
    out = []
    for _, section in sections:
        for name, value, op, goal in section.targets(results):
            met = {"<=": value <= goal, ">=": value >= goal, "<": value < goal}[op]
            out.append({"target": name, "measured": round(value, 3), "goal": f"{op} {goal:g}", "met": met})
    return out


def target_lines(checked: list[dict]) -> list[str]:
    """The targets a run checked, one line each with the measured value and met or not."""
    return [
        f"target: {t['target']}: {t['measured']:g} {t['goal']}: {'met' if t['met'] else 'NOT met'}"
        for t in checked
    ]


def us(value: float) -> str:
    return f"{value:,.0f} µs" if value < 10_000 else f"{value / 1000:,.1f} ms"


def table(r: dict) -> str:
    lines = [
        f"heroapp benchmark, {r['finished']}{' (QUICK: not for quoting)' if r['quick'] else ''}",
        f"machine: {r['machine']['cpus']} CPUs, {r['machine']['cpu']}, Python {r['machine']['python']}; "
        f"data set: {r['dataset']:,} heroes",
        "",
        "| case | median | p99 | Redis requests | SQL queries |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, label in [
        ("redis_get", "floor: redis GET"),
        ("redis_mget_3", "floor: redis MGET 3 keys"),
        ("redis_mget_100", "floor: redis MGET 100 keys"),
        ("sql_pk", "floor: SELECT by primary key"),
        ("sql_in_100", "floor: SELECT id IN (100 ids)"),
    ]:
        t = r["floors"][key]
        lines.append(f"| {label} | {us(t['median_us'])} | {us(t['p99_us'])} | | |")
    for size in (1, 3, 100):
        for kind, label in (("hit", "all hits"), ("miss", "all misses"), ("off", "USE_CACHE off")):
            t = r["worker"][f"{kind}_{size}"]
            lines.append(
                f"| worker, read {size} id{'s' if size > 1 else ''}, {label} | {us(t['median_us'])} | "
                f"{us(t['p99_us'])} | {t['extra']['redis_requests']:g} | {t['extra']['sql_queries']:g} |"
            )
    for size in (3, 100):
        p = r["worker"][f"paired_{size}"]
        lines.append(
            f"| paired: worker all-hit read {size} / raw MGET {size} | {us(p['worker_hit']['median_us'])} / "
            f"{us(p['redis_mget']['median_us'])} = {p['ratio']:g}x | | | |"
        )
    for size in (1, 3, 100):
        c = r["cluster"][f"hit_{size}"]
        lines.append(
            f"| worker, read {size}, all hits, Redis Cluster of 3 / single node | "
            f"{us(c['cluster']['median_us'])} / {us(c['single']['median_us'])} = {c['ratio']:g}x | "
            f"{us(c['cluster']['p99_us'])} | {c['cluster']['extra']['redis_requests']:g} | 0 |"
        )
    for size in (1, 3):
        t = r["naive"][f"naive_{size}"]
        lines.append(
            f"| naive reference, read {size}, all hits | {us(t['median_us'])} | {us(t['p99_us'])} | "
            f"connect + {size} GET | connect |"
        )
    for key, t in r["writes"].items():
        size, mode = key.split("_")[1], "write-through" if key.endswith("_cache") else "no write-through"
        lines.append(
            f"| worker, write {size}, {mode} | {us(t['median_us'])} | {us(t['p99_us'])} | "
            f"{t['extra']['redis_requests']:g} | {t['extra']['sql_queries']:g} |"
        )
    lines += [
        "",
        "| mixed workload (Zipf s=1.1, 5% updates) | ops/s | read p50 | read p99 | hit ratio "
        "| SQL per 1000 reads |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (
        ("cache", "cache, after its own warm-up"),
        ("cache_prewarmed", "cache, after warm_cache"),
        ("no_cache", "no cache"),
    ):
        m = r["mixed"][key]
        lines.append(
            f"| {m['processes']} processes, {label} | {m['ops_per_s']:,} | "
            f"{us(m['read_p50_us'])} | {us(m['read_p99_us'])} | {m['hit_ratio']:.1%} | "
            f"{m['db_queries_per_1000_reads']:g} |"
        )
    if "skipped" in r["web"]:
        lines += ["", f"web detail page: skipped ({r['web']['skipped']})"]
    else:
        lines += [
            "",
            "| web detail page, gunicorn 2 workers, wrk 16 connections | requests/s | p50 | p99 | errors |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key in ("cache", "no_cache"):
            w = r["web"][key]
            lines.append(
                f"| {'cache' if key == 'cache' else 'no cache'} | {w['requests_per_s']:,.0f} | "
                f"{us(w['p50_us'])} | {us(w['p99_us'])} | {w['non_2xx']} |"
            )
        lines += [
            "",
            f"web detail page from the cache, in-process service time: {us(r['web']['service_us'])} median",
        ]
    c = r["cold_start"]
    lines += [
        "",
        f"cold start to first answered event: median {c['median_total_ms']:.0f} ms "
        f"(import and Django set-up {c['median_import_setup_ms']:.0f} ms, "
        f"first event {c['median_first_event_ms']:.0f} ms); "
        "heaviest imports: " + ", ".join(f"{name} {ms:g} ms" for name, ms in c["heaviest_imports_ms"]),
        f"import: {r['import']['rows']:,.0f} rows in {r['import']['seconds']:.1f} s = "
        f"{r['import']['rows_per_s']:,.0f} rows/s",
        *(bulk_import.summary(entry) for entry in r["bulk_import"].values()),
        "",
        "| network distance (worker, 3-id read) | cache hit | database only | naive | database / cache "
        "| naive / cache |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, n in r["network"].items():
        if "error" in n:
            lines.append(f"| {label} | error | | | | |")
            continue
        lines.append(
            f"| {label} | {us(n['cache_hit']['median_us'])} | {us(n['database']['median_us'])} | "
            f"{us(n['naive']['median_us'])} | {n['db_over_cache']:g}x | {n['naive_over_cache']:g}x |"
        )
    lines += ["", "| target | measured | goal | met |", "| --- | --- | --- | --- |"]
    for t in r["targets"]:
        lines.append(f"| {t['target']} | {t['measured']:g} | {t['goal']} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)


def write_outputs(r: dict) -> None:
    from bench.chart import latency_svg

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(r, indent=2, default=str))
    rows = [
        (label, r[section][key]["median_us"], r[section][key]["p99_us"])
        for section, key, label in [
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
        ]
    ]
    for label, n in r["network"].items():
        if "error" not in n and "direct" not in label and "no delay" not in label:
            short = label.split(" (")[0]
            rows.append((f"{short}: hit", n["cache_hit"]["median_us"], n["cache_hit"]["p99_us"]))
            rows.append((f"{short}: database", n["database"]["median_us"], n["database"]["p99_us"]))
    (RESULTS / "latency.svg").write_text(
        latency_svg(rows, f"heroapp latency, {r['dataset']:,} heroes ({r['finished']})")
    )
    text = table(r)
    (RESULTS / "table.md").write_text(text + "\n")
    print(text)
    print(f"\nwritten: {RESULTS / 'results.json'}, {RESULTS / 'latency.svg'}, {RESULTS / 'table.md'}")


if __name__ == "__main__":
    sys.exit(main())
