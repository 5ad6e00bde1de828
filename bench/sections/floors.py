"""The floors: a raw Redis GET and MGET, a SELECT by primary key and by 100 ids, no application code."""

import os

from bench.support import mysql_params


def run(plan, results: dict) -> dict:
    import MySQLdb
    import redis

    from bench.timing import timed
    from heroes.cache import get_hero_cache
    from heroes.services import warm_heroes

    warm_heroes(ids=list(range(1, 101)))
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    cache = get_hero_cache()
    keys = [cache.key(i) for i in range(1, 101)]
    conn = MySQLdb.connect(**mysql_params(os.environ["DATABASE_URL"]))
    cursor = conn.cursor()
    columns = "id, version, name, hero, power, xp, color"
    in_100 = f"SELECT {columns} FROM heroes_hero WHERE id IN ({', '.join(['%s'] * 100)})"

    def select(sql, params):
        cursor.execute(sql, params)
        cursor.fetchall()

    out = {
        "redis_get": timed("redis GET", lambda: client.get(keys[0]), reps=plan.reps),
        "redis_mget_3": timed("redis MGET 3", lambda: client.mget(keys[:3]), reps=plan.reps),
        "redis_mget_100": timed("redis MGET 100", lambda: client.mget(keys), reps=plan.reps),
        "sql_pk": timed(
            "SELECT by id",
            lambda: select(f"SELECT {columns} FROM heroes_hero WHERE id = %s", (5,)),
            reps=plan.reps,
        ),
        "sql_in_100": timed(
            "SELECT id IN (100)", lambda: select(in_100, list(range(1, 101))), reps=plan.reps_big
        ),
    }
    conn.close()
    return {k: v.as_dict() for k, v in out.items()}


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    return []
