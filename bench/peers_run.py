"""
One variant of the peers benchmark, in a process of its own:
``python -m bench.peers_run VARIANT SECONDS DATASET`` with VARIANT heroapp, orm, cacheops
or cachalot (DJANGO_SETTINGS_MODULE=bench.peer_settings, BENCH_PEER for the peers).

Prints one JSON line: all-hit reads of 1, 3 and 100 ids (median and p99 in µs, SQL per
read), then the mixed workload of bench/mixed.py in one process: Zipf(1.1) reads of one id,
5% updates, with the read and write latencies, SQL per 1000 reads, the hit ratio (a read
that sent no SQL is a hit), and stale reads (every 10th read is compared with the row read
straight from the database; the comparison's time is left out of ops/s). The id streams
are seeded, so every variant gets the same ones, and an ideal cache (unbounded, written
through) is played along on the same stream for its SQL per 1000 reads.
"""

import json
import random
import sys
import time

FIELDS = ("id", "name", "hero", "power", "xp", "color")
SIZES = (1, 3, 100)


def main() -> None:
    import django

    django.setup()
    from django.db import connection, models
    from django.utils import timezone

    from bench.mixed import zipf_sampler
    from bench.timing import percentile
    from heroes.models import Hero
    from heroes.schema import HeroRecord
    from heroes.selectors import get_heroes
    from heroes.services import update_hero

    variant, seconds, dataset = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    counting = connection.execute_wrapper(count)  # kept: its exit would remove the wrapper
    counting.__enter__()

    # What a developer would write with each: heroapp's selector; the ORM (for the peers it
    # is cached transparently); cacheops' per-id get loop as well.
    if variant == "heroapp":

        def read(ids):
            return get_heroes(ids=ids).heroes
    else:

        def read(ids):
            return list(Hero.objects.filter(id__in=ids).values(*FIELDS))

    def read_per_id(ids):
        return [Hero.objects.get(id=i) for i in ids]

    def write(hero_id, xp):
        if variant == "heroapp":
            update_hero(
                hero_id=hero_id,
                record=HeroRecord(name=f"Mixed {hero_id}", hero=True, power="bench", xp=xp, color="red"),
            )
        else:
            # One UPDATE bumping the version as the model does: Django's own update for the
            # ORM and cachalot (which invalidates on any write), cacheops' invalidated_update
            # (its documented way: a plain update() does not invalidate its cache).
            queryset = models.QuerySet(Hero).filter(pk=hero_id)
            update = queryset.invalidated_update if variant == "cacheops" else queryset.update
            update(
                name=f"Mixed {hero_id}",
                hero=True,
                power="bench",
                xp=xp,
                color="red",
                version=models.F("version") + 1,
                updated_at=timezone.now(),
            )

    out = {"variant": variant, "all_hit": {}}
    rng = random.Random(5)
    readers = [("filter_values", read)] + ([("get_loop", read_per_id)] if variant == "cacheops" else [])
    for name, reader in readers:
        for size in SIZES:
            ids = rng.sample(range(1, dataset + 1), size)
            reader(ids)  # the one miss; every timed call is a hit
            reps = 300 if size == 100 else 2000
            samples, before = [], queries[0]
            for _ in range(reps):
                started = time.perf_counter_ns()
                reader(ids)
                samples.append((time.perf_counter_ns() - started) / 1000)
            out["all_hit"][f"{name}_{size}"] = {
                "median_us": round(percentile(samples, 0.5), 1),
                "p99_us": round(percentile(samples, 0.99), 1),
                "sql_per_read": round((queries[0] - before) / reps, 3),
            }

    draw = zipf_sampler(list(range(1, dataset + 1)), 1.1, 100)
    decide = random.Random(101)
    ideal: set[int] = set()
    stats = {
        "reads": 0,
        "writes": 0,
        "hits": 0,
        "sql": 0,
        "ideal_sql": 0,
        "stale": 0,
        "checked": 0,
        "check_ns": 0,
        "read_us": [],
        "write_us": [],
    }

    def step(measure: bool) -> None:
        hero_id = draw()
        if decide.random() < 0.05:
            xp = decide.randrange(1000)
            started = time.perf_counter_ns()
            write(hero_id, xp)
            took = (time.perf_counter_ns() - started) / 1000
            ideal.add(hero_id)  # written through
            if measure:
                stats["writes"] += 1
                stats["write_us"].append(took)
            return
        before = queries[0]
        started = time.perf_counter_ns()
        rows = read([hero_id])
        took = (time.perf_counter_ns() - started) / 1000
        sql = queries[0] - before
        missed_ideal = hero_id not in ideal
        ideal.add(hero_id)
        if not measure:
            return
        stats["reads"] += 1
        stats["read_us"].append(took)
        stats["sql"] += sql
        stats["hits"] += sql == 0
        stats["ideal_sql"] += missed_ideal
        if stats["reads"] % 10 == 0:
            checking = time.perf_counter_ns()
            with connection.cursor() as cursor:  # straight to the database, past any cache
                cursor.execute("SELECT name, xp FROM heroes_hero WHERE id = %s", [hero_id])
                truth = cursor.fetchone()
            stats["check_ns"] += time.perf_counter_ns() - checking
            queries[0] -= 1
            got = rows[0]
            stats["checked"] += 1
            stats["stale"] += (got["name"], got["xp"]) != truth

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        step(False)
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        step(True)
    # The stale-read checks are the benchmark's, not the workload's: their queries take the
    # same time for every variant, and counted in they would narrow every ratio.
    elapsed = time.monotonic() - started - stats["check_ns"] / 1e9
    reads = stats["reads"]
    out["mixed"] = {
        "ops_per_s": round((reads + stats["writes"]) / elapsed),
        "check_s": round(stats["check_ns"] / 1e9, 2),
        "reads": reads,
        "writes": stats["writes"],
        "read_p50_us": round(percentile(stats["read_us"], 0.5), 1),
        "read_p99_us": round(percentile(stats["read_us"], 0.99), 1),
        "write_p50_us": round(percentile(stats["write_us"], 0.5), 1) if stats["write_us"] else None,
        "sql_per_1000_reads": round(1000 * stats["sql"] / reads, 1),
        "ideal_sql_per_1000_reads": round(1000 * stats["ideal_sql"] / reads, 1),
        "hit_ratio": round(stats["hits"] / reads, 4),
        "stale_reads": stats["stale"],
        "stale_checked": stats["checked"],
    }
    sys.__stdout__.write("RESULT " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
