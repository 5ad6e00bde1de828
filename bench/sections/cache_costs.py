"""
What the cache costs over the work it fronts (docs/design.md), each ratio timed alternately:

* an all-hit read against a raw MGET of as many keys;
* an all-miss read against the same read with USE_CACHE off plus three raw MGETs of as many
  keys (the design's three round trips: MGET, claim, write-back);
* an ORM update of one hero, and worker writes of 1 and 100 records, against the same with
  the cache disabled (Django's DummyCache behind the hero cache: the same code, no server).
"""

from __future__ import annotations

import random

from django.test import override_settings

from bench.support import quiet_stdout
from bench.timing import alternating

DUMMY_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


def run(plan, results: dict) -> dict:
    from cache_worker.handler import lambda_handler
    from heroes.cache import get_hero_cache
    from heroes.models import Hero
    from heroes.selectors import get_heroes

    cache = get_hero_cache()
    client = cache.store.client
    rng = random.Random(11)
    out: dict = {}
    for size in (3, 100):
        reps = plan.reps if size < 100 else plan.reps_big
        ids = rng.sample(range(1, plan.dataset + 1), size)
        hit, miss = _reads(client, cache, get_heroes, ids, reps=reps)
        out[f"hit_{size}"] = {name: t.as_dict() for name, t in hit.items()}
        out[f"hit_{size}"]["ratio"] = round(hit["hit"].median_us / hit["mget"].median_us, 3)
        out[f"miss_{size}"] = {name: t.as_dict() for name, t in miss.items()}
        floor = miss["off"].median_us + 3 * miss["mget"].median_us
        out[f"miss_{size}"]["ratio"] = round(miss["miss"].median_us / floor, 3)

    hero = Hero.objects.get(pk=1)

    def orm_update():
        hero.xp = (hero.xp + 1) % 1000
        hero.save()

    out["orm_update"] = _with_and_without_cache(orm_update, reps=plan.reps_big)
    for size in (1, 100):
        records = [
            {"name": f"bench {i}", "hero": "yes", "power": "speed", "xp": i, "color": "red"}
            for i in range(size)
        ]
        event = {"REQUEST": "write", "SQLS": records, "USE_CACHE": "True"}
        with quiet_stdout():  # the worker logs a line per invocation
            out[f"write_{size}"] = _with_and_without_cache(
                lambda e=event: lambda_handler(e), reps=plan.reps_big // 2
            )
    return out


def _reads(client, cache, get_heroes, ids: list[int], *, reps: int) -> tuple[dict, dict]:
    """All-hit reads against raw MGETs, then all-miss reads against the USE_CACHE-off read and MGETs."""
    keys = [cache.key(i) for i in ids]
    locks = [cache.lock_key(i) for i in ids]
    get_heroes(ids=ids)
    hit = alternating({"hit": lambda: get_heroes(ids=ids), "mget": lambda: client.mget(keys)}, reps=reps)
    miss = alternating(
        {
            "miss": lambda: get_heroes(ids=ids),
            "off": lambda: get_heroes(ids=ids, use_cache=False),
            "mget": lambda: client.mget(keys),
        },
        reps=reps,
        before={"miss": lambda: client.delete(*keys, *locks)},
    )
    return hit, miss


def _with_and_without_cache(call, *, reps: int) -> dict:
    """``call`` timed alternately with the hero cache on Redis and on Django's DummyCache."""
    from heroes.cache import build_hero_cache, get_hero_cache, use_hero_cache

    real = get_hero_cache()
    with override_settings(CACHES=DUMMY_CACHE):
        dummy = build_hero_cache()

    def using(cache):
        def timed_call():
            with use_hero_cache(cache):
                call()

        return timed_call

    timings = alternating({"cache": using(real), "no_cache": using(dummy)}, reps=reps)
    result = {name: t.as_dict() for name, t in timings.items()}
    result["ratio"] = round(timings["cache"].median_us / timings["no_cache"].median_us, 3)
    return result


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    r = results["cache_costs"]
    return [
        ("all-hit read of 3 ids vs raw MGET of 3 (alternately)", r["hit_3"]["ratio"], "<=", 1.6),
        ("all-hit read of 100 ids vs raw MGET of 100 (alternately)", r["hit_100"]["ratio"], "<=", 1.6),
        ("all-miss read of 3 ids vs USE_CACHE off + 3 raw MGETs", r["miss_3"]["ratio"], "<=", 1.0),
        ("all-miss read of 100 ids vs USE_CACHE off + 3 raw MGETs", r["miss_100"]["ratio"], "<=", 1.0),
        ("ORM update of one hero vs cache disabled", r["orm_update"]["ratio"], "<=", 1.15),
        ("worker write of 1 record vs cache disabled", r["write_1"]["ratio"], "<=", 1.15),
        ("worker write of 100 records vs cache disabled", r["write_100"]["ratio"], "<=", 1.15),
    ]
