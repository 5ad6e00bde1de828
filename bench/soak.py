"""
python -m bench.soak [--seconds N]: the long reliability run (`make soak`).

Several processes do seeded random reads, updates and creates through the worker and the
web's service functions against MariaDB and Redis, while Redis is partitioned away for the
middle third of the run (a proxy drops and refuses its connections, Redis keeps its data).
At the end it checks every hero and prints what was attempted, failed, lost and stale.

Its own database (heroapp_soak, created) and Redis database 12 (flushed), so it can run
beside anything else. The seed is printed; SOAK_SEED=N replays a run.
"""

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from urllib.parse import urlparse

HEROES = 2000


def worker(args: tuple) -> dict:
    """One process: random operations until the deadline; each process updates only its own
    share of the ids, so the last value it wrote is what the database must hold."""
    index, processes, seed, deadline, redis_url = args
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heroapp.settings")
    import contextlib

    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        import django

        django.setup()
        from cache_worker.handler import lambda_handler
        from heroes.schema import HeroRecord
        from heroes.services import update_hero

        rng = random.Random(seed + index)
        mine = [i for i in range(1, HEROES + 1) if i % processes == index]
        stats = {
            "attempted": 0,
            "failed": 0,
            "reads": 0,
            "writes": 0,
            "creates": 0,
            "last_power": {},
            "created": [],
        }
        while time.time() < deadline:
            stats["attempted"] += 1
            roll = rng.random()
            try:
                if roll < 0.80:
                    response = lambda_handler(
                        {"REQUEST": "read", "SQLS": rng.sample(range(1, HEROES + 1), 5)}
                    )
                    stats["reads"] += 1
                    stats["failed"] += response["statusCode"] != 200 or len(json.loads(response["body"])) != 5
                elif roll < 0.97:
                    hero_id, power = rng.choice(mine), f"p{rng.randrange(10**9)}"
                    update_hero(
                        hero_id=hero_id,
                        record=HeroRecord(name=f"Soak {hero_id}", hero=True, power=power, xp=1, color="red"),
                    )
                    stats["last_power"][hero_id] = power
                    stats["writes"] += 1
                else:
                    response = lambda_handler(
                        {
                            "REQUEST": "write",
                            "SQLS": [
                                {
                                    "name": f"Soak new {index}",
                                    "hero": "no",
                                    "power": "fresh",
                                    "color": "",
                                    "xp": 1,
                                }
                            ],
                        }
                    )
                    if response["statusCode"] == 200:
                        stats["created"] += [h["id"] for h in json.loads(response["body"])]
                        stats["creates"] += 1
                    else:
                        stats["failed"] += 1
            except Exception:
                stats["failed"] += 1
        return stats


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "60")))
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    seed = int(os.environ.get("SOAK_SEED", str(random.randrange(10**6))))

    database_url = os.environ.get("SOAK_DATABASE_URL", "mysql://root@127.0.0.1:3306/heroapp_soak")
    redis_url = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/12")
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="heroapp.settings",
        HERO_CACHE_RETRY_AFTER="0.5",
        LOG_LEVEL="WARNING",
    )
    from bench.support import create_database

    create_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.proxy import CuttableProxy
    from heroes.cache import get_hero_cache
    from heroes.models import Hero
    from heroes.sample import generate_rows

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE TABLE heroes_hero")
    Hero.objects.bulk_create(
        Hero(id=r[0], name=r[1], hero=r[2] == "yes", power=r[3], xp=r[4], color=r[5])
        for r in generate_rows(HEROES)
    )
    redis = urlparse(redis_url)
    get_hero_cache().store.client.flushdb()
    proxy = CuttableProxy((redis.hostname, redis.port or 6379))
    proxied = f"redis://127.0.0.1:{proxy.port}{redis.path}"

    print(
        f"[soak] seed {seed}, {args.processes} processes, {args.seconds:.0f} s, "
        "Redis partitioned for the middle third",
        file=sys.stderr,
    )
    started = time.time()
    deadline = started + args.seconds
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.processes) as pool:
        pending = pool.map_async(
            worker, [(i, args.processes, seed, deadline, proxied) for i in range(args.processes)]
        )
        time.sleep(args.seconds / 3)
        proxy.cut()
        time.sleep(args.seconds / 3)
        proxy.heal()
        results = pending.get(timeout=args.seconds + 120)
    # The processes are gone; their pending invalidations went with them if Redis was still
    # cut when they stopped. This process is the check, and reads what is in Redis now.
    time.sleep(0.5)

    last_power = {k: v for r in results for k, v in r["last_power"].items()}
    created = [i for r in results for i in r["created"]]
    rows = {h.id: h for h in Hero.objects.all()}
    lost = sum(rows[i].power != power for i, power in last_power.items() if i in rows)
    lost += sum(1 for i in created if i not in rows)
    cache = get_hero_cache()
    stale = 0
    ids = sorted(rows)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for hero_id, value in cache.lookup(chunk).items():
            stale += value is not None and value != rows[hero_id].to_json()
    proxy.close()

    total = {
        key: sum(r[key] for r in results) for key in ("attempted", "failed", "reads", "writes", "creates")
    }
    print(
        f"\nsoak run: seed {seed}, {args.processes} processes, {time.time() - started:.0f} s, "
        f"Redis partitioned from {args.seconds / 3:.0f} s to {2 * args.seconds / 3:.0f} s\n"
    )
    print("| operations attempted | reads | updates | creates | failed | lost | stale |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {total['attempted']:,} | {total['reads']:,} | {total['writes']:,} | {total['creates']:,} | "
        f"{total['failed']} | {lost} | {stale} |"
    )
    ok = total["failed"] == 0 and lost == 0
    if stale:
        print(
            f"\n{stale} cache entries differ from the database: writes made while Redis was cut, "
            "by processes that ended before Redis returned, were never invalidated "
            "(see docs/design.md, 'Debts')."
        )
    return 0 if ok and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
