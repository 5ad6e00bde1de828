"""
The warm worker: reads of 1, 3 and 100 ids (hits, misses, USE_CACHE off), paired with raw
MGETs, and the Lambda entry's own cost: an all-hit read through lambda_handler paired with
get_heroes, the selector it wraps.
"""

from bench.support import count_round_trips, quiet_stdout


def run(plan, results: dict) -> dict:
    import random

    from bench.timing import paired, timed
    from cache_worker.handler import lambda_handler
    from heroes.cache import get_hero_cache
    from heroes.selectors import get_heroes

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
            if size == 3:
                # At least 1000 repetitions a round even in --quick: fewer leave the ratio to chance.
                out["entry_3"] = _entry_cost(
                    lambda_handler, get_heroes, hit, ids, reps=max(reps, 1000), paired=paired
                )
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


class _Context:
    """What Lambda passes the handler, as far as it reads it."""

    aws_request_id = "bench-0000"


ENTRY_ROUNDS = 5


def _entry_cost(lambda_handler, get_heroes, event: dict, ids: list[int], *, reps: int, paired) -> dict:
    """
    An all-hit read through lambda_handler against get_heroes of the same ids, timed
    alternately, in ENTRY_ROUNDS rounds: the ratio is the median of the rounds' ratios
    (each the ratio of the two medians), since one round can meet a burst of other work.
    """
    context = _Context()
    rounds = []
    for _ in range(ENTRY_ROUNDS):
        handler, selector = paired(
            ("lambda_handler_3", lambda: lambda_handler(event, context)),
            ("get_heroes_3", lambda: get_heroes(ids=ids, use_cache=True)),
            reps=reps,
        )
        rounds.append((handler, selector, handler.median_us / selector.median_us))
    rounds.sort(key=lambda r: r[2])
    handler, selector, ratio = rounds[len(rounds) // 2]
    return {
        "lambda_handler": handler.as_dict(),
        "get_heroes": selector.as_dict(),
        "ratio": round(ratio, 3),
        "round_ratios": [round(r[2], 3) for r in rounds],
    }


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    w = results["worker"]
    return [
        ("all-hit read of 3 ids vs raw MGET of 3 (timed alternately)", w["paired_3"]["ratio"], "<=", 2.0),
        (
            "all-hit read of 3 ids: lambda_handler vs get_heroes (timed alternately)",
            w["entry_3"]["ratio"],
            "<=",
            1.25,
        ),
        (
            "all-hit read of 100 ids vs raw MGET of 100 (timed alternately)",
            w["paired_100"]["ratio"],
            "<=",
            2.0,
        ),
    ]
