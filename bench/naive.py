"""
The original design's worker, as the reference to beat: it connects to MySQL and Redis on
every invocation and does one GET and one SELECT per id (read), one INSERT and commit per
record (write). Written here only to be measured; nothing in the app uses it.
"""

import json

import MySQLdb
import redis


def naive_handler(event: dict, *, mysql: dict, redis_url: str) -> dict:
    cache = redis.Redis.from_url(redis_url, decode_responses=True)
    conn = MySQLdb.connect(**mysql)
    result = []
    try:
        if event["REQUEST"] == "read":
            for hero_id in event["SQLS"]:
                cached = cache.get(f"naive:{hero_id}")
                if cached:
                    result.append(json.loads(cached))
                    continue
                with conn.cursor() as cursor:
                    cursor.execute(
                        "SELECT id, name, hero, power, xp, color FROM heroes_hero WHERE id = %s", (hero_id,)
                    )
                    row = cursor.fetchone()
                if row:
                    hero = {
                        "id": row[0],
                        "name": row[1],
                        "hero": row[2],
                        "power": row[3],
                        "xp": row[4],
                        "color": row[5],
                    }
                    cache.set(f"naive:{hero_id}", json.dumps(hero))
                    result.append(hero)
    finally:
        conn.close()
        cache.close()
    return {"statusCode": 200, "body": json.dumps(result)}
