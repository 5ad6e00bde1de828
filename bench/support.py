"""What several benchmark sections share: the project root, MySQL parameters, quiet stdout, counters."""

import contextlib
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def quiet_stdout():
    """Send fd 1 to /dev/null: the worker logs a JSON line and an EMF line per invocation."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def mysql_params(url: str, *, database: bool = True) -> dict:
    parsed = urlparse(url)
    params = {
        "host": parsed.hostname,
        "port": parsed.port or 3306,
        "user": parsed.username or "root",
        "password": parsed.password or "",
    }
    if database:
        params["database"] = parsed.path.lstrip("/")
    return params


def create_database(url: str) -> None:
    import MySQLdb

    conn = MySQLdb.connect(**mysql_params(url, database=False))
    conn.cursor().execute(
        f"CREATE DATABASE IF NOT EXISTS `{urlparse(url).path.lstrip('/')}` CHARACTER SET utf8mb4"
    )
    conn.close()


def count_round_trips(call, times: int = 20) -> tuple[float, float]:
    """Redis requests (one per command or pipeline) and SQL statements per call."""
    from django.db import connection
    from redis.connection import AbstractConnection

    original = AbstractConnection.send_packed_command
    counts = {"redis": 0, "sql": 0}

    def counting(self, command, check_health=True):
        counts["redis"] += 1
        return original(self, command, check_health)

    def sql(execute, *args):
        counts["sql"] += 1
        return execute(*args)

    AbstractConnection.send_packed_command = counting
    try:
        with connection.execute_wrapper(sql):
            for _ in range(times):
                call()
    finally:
        AbstractConnection.send_packed_command = original
    return counts["redis"] / times, counts["sql"] / times
