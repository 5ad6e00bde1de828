"""
Run in a child process, with the DATABASE_URL / REDIS_URL it is given (a delay proxy, say):
time the worker's 3-id read served from the cache and from the database, and the naive
reference. Prints one JSON object.

    python -m bench.probe REPS IDS...
"""

import json
import os
import sys
from urllib.parse import urlparse

from bench.timing import timed


def main() -> None:
    reps, ids = int(sys.argv[1]), [int(a) for a in sys.argv[2:]]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heroapp.settings")
    from bench.naive import naive_handler
    from cache_worker.handler import lambda_handler

    hit = {"REQUEST": "read", "SQLS": ids, "USE_CACHE": "True"}
    off = {"REQUEST": "read", "SQLS": ids, "USE_CACHE": "False"}
    lambda_handler(hit)  # fills the cache for these ids
    db = urlparse(os.environ["DATABASE_URL"])
    mysql = {
        "host": db.hostname,
        "port": db.port or 3306,
        "user": db.username or "root",
        "password": db.password or "",
        "database": db.path.lstrip("/"),
    }
    results = {
        "cache_hit": timed("cache hit", lambda: lambda_handler(hit), reps=reps).as_dict(),
        "database": timed("database only", lambda: lambda_handler(off), reps=reps).as_dict(),
        "naive": timed(
            "naive",
            lambda: naive_handler(hit, mysql=mysql, redis_url=os.environ["REDIS_URL"]),
            reps=max(10, reps // 10),
            warmup=3,
        ).as_dict(),
    }
    sys.__stderr__.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
