"""
The web detail page under load (gunicorn, 2 workers; wrk, 16 connections), with and without the
cache, and one cached page's in-process service time (bench/web_service.py), which bounds what 2
workers can serve and, unlike wrk's numbers, stays comparable on a machine shared with other work.
"""

import os
import re
import subprocess
import sys

from bench.support import ROOT


def run(plan, results: dict) -> dict:
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
    service = subprocess.run(
        [sys.executable, "-m", "bench.web_service", "--reps", str(plan.reps)],
        cwd=ROOT,
        env={**env, "BENCH_DATABASE_URL": env["DATABASE_URL"], "BENCH_REDIS_URL": env["REDIS_URL"]},
        capture_output=True,
        text=True,
        check=True,
    )
    out["service_us"] = float(re.search(r"median (\d+) µs", service.stdout).group(1))
    return out


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    web = results["web"]
    if "skipped" in web:
        return []
    return [
        (
            "web detail page from the cache, gunicorn 2 workers: requests/s",
            web["cache"]["requests_per_s"],
            ">=",
            2500,
        ),
        (
            "web detail page from the cache, gunicorn 2 workers: p99 ms",
            web["cache"]["p99_us"] / 1000,
            "<=",
            10,
        ),
    ]
