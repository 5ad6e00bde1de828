"""
The mixed workload: Zipf-distributed reads (s = 1.1) over the whole data set through the
worker, 5% updates through the same service the web UI uses, in several processes at once.
"""

import bisect
import itertools
import os
import random
import time

from bench.timing import percentile


def zipf_sampler(ids: list[int], s: float, seed: int):
    """Draw ids with P(rank k) proportional to 1/k^s; ranks are shuffled over the ids."""
    rng = random.Random(seed)
    order = ids[:]
    random.Random(7).shuffle(order)  # the same hot ids in every process
    weights = list(itertools.accumulate(1 / (k**s) for k in range(1, len(order) + 1)))
    total = weights[-1]
    return lambda: order[bisect.bisect_left(weights, rng.random() * total)]


def run(args: tuple) -> dict:
    """One process: warm up, then measure for ``seconds``. Returns raw counts and samples."""
    use_cache, seconds, warmup, ids, seed, write_share = args
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heroapp.settings")
    import contextlib

    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        import django

        django.setup()
        from cache_worker.handler import lambda_handler
        from heroes.schema import HeroRecord
        from heroes.services import update_hero

        draw = zipf_sampler(ids, 1.1, seed)
        rng = random.Random(seed + 1)
        flag = "True" if use_cache else "False"
        stats = {
            "reads": 0,
            "writes": 0,
            "hits": 0,
            "misses": 0,
            "db_queries": 0,
            "read_us": [],
            "write_us": [],
        }

        def step(record: bool) -> None:
            hero_id = draw()
            started = time.perf_counter_ns()
            if rng.random() < write_share:
                update_hero(
                    hero_id=hero_id,
                    record=HeroRecord(
                        name=f"Mixed {hero_id}", hero=True, power="bench", xp=rng.randrange(1000), color="red"
                    ),
                )
                if record:
                    stats["writes"] += 1
                    stats["write_us"].append((time.perf_counter_ns() - started) / 1000)
                return
            meta = lambda_handler({"REQUEST": "read", "SQLS": [hero_id], "USE_CACHE": flag})["meta"]
            if record:
                stats["reads"] += 1
                stats["read_us"].append((time.perf_counter_ns() - started) / 1000)
                stats["hits"] += meta["hits"]
                stats["misses"] += meta["misses"]
                stats["db_queries"] += meta["db_queries"]

        deadline = time.monotonic() + warmup
        while time.monotonic() < deadline:
            step(False)
        started = time.monotonic()
        while time.monotonic() < started + seconds:
            step(True)
        stats["elapsed"] = time.monotonic() - started
    return stats


def summarise(results: list[dict]) -> dict:
    reads = sum(r["reads"] for r in results)
    writes = sum(r["writes"] for r in results)
    read_us = [v for r in results for v in r["read_us"]]
    write_us = [v for r in results for v in r["write_us"]]
    elapsed = max(r["elapsed"] for r in results)
    hits, misses = sum(r["hits"] for r in results), sum(r["misses"] for r in results)
    return {
        "processes": len(results),
        "ops_per_s": round((reads + writes) / elapsed),
        "reads": reads,
        "writes": writes,
        "read_p50_us": round(percentile(read_us, 0.5), 1),
        "read_p99_us": round(percentile(read_us, 0.99), 1),
        "write_p50_us": round(percentile(write_us, 0.5), 1) if write_us else None,
        "hit_ratio": round(hits / (hits + misses), 4) if hits + misses else 0.0,
        "db_queries_per_1000_reads": round(1000 * sum(r["db_queries"] for r in results) / reads, 1),
    }
