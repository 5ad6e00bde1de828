"""A Redis Cluster of three primaries against the single node: all-hit worker reads, timed alternately."""

import tempfile
from pathlib import Path

from bench.support import count_round_trips, quiet_stdout


def run(plan, results: dict) -> dict:
    """
    All-hit worker reads through a Redis Cluster of three primaries (started here on loopback)
    against the same reads through the single node, timed alternately in one loop.
    """
    import random
    import shutil

    from django.test import override_settings

    from bench.timing import paired
    from cache_worker.handler import lambda_handler
    from heroapp.settings import redis_cache
    from heroes.cache import build_hero_cache, get_hero_cache, use_hero_cache
    from scripts.redis_cluster import RedisCluster

    single = get_hero_cache()
    folder = Path(tempfile.mkdtemp(prefix="heroapp-bench-cluster-"))
    nodes = RedisCluster(folder, masters=3)
    rng = random.Random(3)
    out = {}
    try:
        nodes.start()
        with override_settings(CACHES={"default": redis_cache(nodes.url.split("?")[0], cluster=True)}):
            on_cluster = build_hero_cache()

        def serve(cache, event):
            # Each call names which of the two caches is the process's, as the two are timed
            # alternately in one loop.
            with use_hero_cache(cache):
                return lambda_handler(event)

        for size in (1, 3, 100):
            event = {
                "REQUEST": "read",
                "SQLS": rng.sample(range(1, plan.dataset + 1), size),
                "USE_CACHE": "True",
            }
            with quiet_stdout():
                serve(single, event), serve(on_cluster, event)  # both caches hold the heroes
                one, many = paired(
                    (f"single_{size}", lambda e=event: serve(single, e)),
                    (f"cluster_{size}", lambda e=event: serve(on_cluster, e)),
                    reps=plan.reps if size < 100 else plan.reps_big,
                )
                requests, _ = count_round_trips(lambda e=event: serve(on_cluster, e))
            many.extra["redis_requests"] = requests
            out[f"hit_{size}"] = {
                "single": one.as_dict(),
                "cluster": many.as_dict(),
                "ratio": round(many.median_us / one.median_us, 2),
            }
    finally:
        nodes.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return out


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    return [
        (
            "all-hit worker read of 100 ids, 3-primary cluster vs single node (alternately)",
            results["cluster"]["hit_100"]["ratio"],
            "<=",
            1.5,
        )
    ]
