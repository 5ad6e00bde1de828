"""Network distance: a 3-id read through a delaying TCP proxy; cache hit, database, naive."""

import json
import os
import subprocess
import sys
from urllib.parse import urlparse

from bench.support import ROOT

SETTINGS = [
    ("loopback, direct", None, None),
    ("through the proxy, no delay", 0.0, 0.0),
    ("database 1 ms RTT, Redis 0.2 ms RTT (same-AZ Aurora/ElastiCache)", 0.0005, 0.0001),
    ("database 10 ms RTT, Redis 0.5 ms RTT", 0.005, 0.00025),
]


def run(plan, results: dict) -> dict:
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
            env["DATABASE_URL"] = os.environ["DATABASE_URL"].replace(
                f"{db.hostname}:{db.port or 3306}", f"127.0.0.1:{db_proxy.port}"
            )
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_proxy.port}{cache.path}"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "bench.probe", str(plan.probe_reps), "11", "12", "13"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
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


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    return []
