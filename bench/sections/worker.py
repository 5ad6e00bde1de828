"""The warm worker: reads of 1, 3 and 100 ids (hits, misses, USE_CACHE off), paired with raw MGETs."""

from bench.support import count_round_trips, quiet_stdout


def run(plan, results: dict) -> dict:
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
            paired_hit, paired_mget = paired(
                (f"hit_{size}", lambda e=hit: lambda_handler(e)),
                (f"mget_{size}", lambda k=keys, r=raw: r.mget(k)),
                reps=reps,
            )
            out[f"paired_{size}"] = {
                "worker_hit": paired_hit.as_dict(),
                "redis_mget": paired_mget.as_dict(),
                "ratio": round(paired_hit.median_us / paired_mget.median_us, 2),
            }
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


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    w = results["worker"]
    return [
        ("all-hit read of 3 ids vs raw MGET of 3 (timed alternately)", w["paired_3"]["ratio"], "<=", 2.0),
        (
            "all-hit read of 100 ids vs raw MGET of 100 (timed alternately)",
            w["paired_100"]["ratio"],
            "<=",
            2.0,
        ),
    ]
