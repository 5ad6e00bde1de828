"""A mixed workload (Zipf s=1.1, 5% updates) in several processes: cold, after warm_cache, without a cache."""

import multiprocessing


def run(plan, results: dict) -> dict:
    from bench import mixed as workload
    from heroes.services import flush_hero_cache, warm_all_heroes

    ids = list(range(1, plan.dataset + 1))
    out = {}
    context = multiprocessing.get_context("spawn")
    # "cache": the workload itself warms the cache for as long as it is then measured;
    # "cache_prewarmed": the warm_cache task loads every hero first, as after a deploy.
    for mode, use_cache in (("cache", True), ("cache_prewarmed", True), ("no_cache", False)):
        flush_hero_cache()
        if mode == "cache_prewarmed":
            warm_all_heroes()
        args = [
            (use_cache, plan.mixed_seconds, plan.mixed_seconds, ids, 100 + i, 0.05)
            for i in range(plan.mixed_procs)
        ]
        with context.Pool(plan.mixed_procs) as pool:
            out[mode] = workload.summarise(pool.map(workload.run, args))
    return out


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    m = results["mixed"]
    return [
        ("mixed workload hit ratio, after its own warm-up", m["cache"]["hit_ratio"], ">=", 0.95),
        (
            "mixed workload hit ratio, after the warm_cache task",
            m["cache_prewarmed"]["hit_ratio"],
            ">=",
            0.95,
        ),
        (
            "mixed workload SQL per 1000 reads, after its own warm-up",
            m["cache"]["db_queries_per_1000_reads"],
            "<=",
            50.0,
        ),
        (
            "mixed workload SQL per 1000 reads, after the warm_cache task",
            m["cache_prewarmed"]["db_queries_per_1000_reads"],
            "<=",
            50.0,
        ),
    ]
