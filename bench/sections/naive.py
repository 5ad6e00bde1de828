"""The naive reference: the original design's worker, connecting to MySQL and Redis on every invocation."""

import os

from bench.support import mysql_params


def run(plan, results: dict) -> dict:
    from bench.naive import naive_handler
    from bench.timing import timed

    mysql = mysql_params(os.environ["DATABASE_URL"])
    out = {}
    for size in (1, 3):
        event = {"REQUEST": "read", "SQLS": list(range(1, size + 1)), "USE_CACHE": "True"}
        naive_handler(event, mysql=mysql, redis_url=os.environ["REDIS_URL"])  # its own cache filled: all hits
        timing = timed(
            f"naive_{size}",
            lambda e=event: naive_handler(e, mysql=mysql, redis_url=os.environ["REDIS_URL"]),
            reps=max(20, plan.reps // 10),
            warmup=5,
        )
        out[f"naive_{size}"] = timing.as_dict()
    return out


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    ratio = results["naive"]["naive_3"]["median_us"] / results["worker"]["hit_3"]["median_us"]
    return [("naive reference vs worker, 3-id read (median)", ratio, ">=", 100.0)]
