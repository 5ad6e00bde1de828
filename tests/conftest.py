"""
Fixtures shared by the whole suite.

The suite runs against real servers: ``make test`` points DATABASE_URL at MariaDB and
REDIS_URL at a Redis database of its own (15), and this file refuses to run the suite
on anything else, so a green run always means "tested against MariaDB and Redis". The
tests marked ``embedded`` run a second time with neither variable set (SQLite and the
in-process cache), as ``make run`` does.
"""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection

from heroes.cache import get_hero_cache
from heroes.models import Hero
from heroes.schema import HeroRecord
from scripts.private_mariadb import PrivateMariaDB

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED = os.environ.get("HEROAPP_EMBEDDED_TEST") == "1"


@pytest.fixture(scope="session", autouse=True)
def real_services(django_db_setup, django_db_blocker):
    """Stop at once, with the fix, if the suite is not pointed at the servers it needs."""
    with django_db_blocker.unblock():
        vendor = connection.vendor
    backend = get_hero_cache().backend_name
    if EMBEDDED:
        assert (vendor, backend) == ("sqlite", "local"), "the embedded run expects SQLite and the local cache"
    elif (vendor, backend) != ("mysql", "redis"):
        pytest.exit(
            f"The test suite needs MariaDB and Redis, but it got {vendor} and a {backend} cache. "
            "Run it with `make test`, or set DATABASE_URL=mysql://... and REDIS_URL=redis://...",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache (Redis database 15 is the suite's own)."""
    hero_cache = get_hero_cache()
    if hero_cache.backend_name == "redis":
        hero_cache.store.client.flushdb()
    else:
        caches["default"].clear()
    hero_cache.stats.clear()
    hero_cache.recent.clear()
    hero_cache._down_until = 0.0
    hero_cache._pending.clear()
    hero_cache._recovering = False
    yield


@pytest.fixture
def hero_cache():
    return get_hero_cache()


@pytest.fixture
def redis_client(hero_cache):
    if hero_cache.backend_name != "redis":
        pytest.skip("needs Redis")
    return hero_cache.store.client


@pytest.fixture
def redis_commands(redis_client):
    """
    Count the commands Redis executed, from the server's own INFO commandstats.

    ``take()`` returns the calls per command since the last take (or the fixture's start),
    leaving out the INFO calls this fixture makes itself.
    """

    def snapshot() -> Counter:
        if get_hero_cache().store.cluster:
            # Every primary counts its own; the suite's total is their sum.
            per_node = redis_client.info("commandstats", target_nodes=redis_client.PRIMARIES).values()
        else:
            per_node = [redis_client.info("commandstats")]
        total = Counter()
        for stats in per_node:
            total.update({name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()})
        return total

    class Tracker:
        def __init__(self):
            self.last = snapshot()

        def take(self) -> Counter:
            now = snapshot()
            delta = Counter({name: now[name] - self.last[name] for name in now if now[name] != self.last[name]})
            delta.pop("info", None)
            self.last = snapshot()
            return delta

    return Tracker()


@pytest.fixture
def redis_primaries(redis_client):
    """How many primaries the suite's Redis has (1 unless REDIS_URL is a cluster), and slots."""

    class Primaries:
        cluster = get_hero_cache().store.cluster
        count = len(redis_client.get_primaries()) if cluster else 1

        @staticmethod
        def slot(key: str) -> int:
            return redis_client.keyslot(key)

    return Primaries()


@pytest.fixture
def round_trips(monkeypatch, redis_client):
    """
    Count requests sent to Redis: one per command, one per whole pipeline.

    It wraps redis-py's real connection method and calls through, so the servers see
    exactly what they would without it.
    """
    from redis.connection import AbstractConnection

    counter = Counter()
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        counter["requests"] += 1
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return counter


@pytest.fixture
def make_heroes():
    """Create heroes through the ORM, without touching the cache."""

    def make(count: int = 1, **fields) -> list[Hero]:
        defaults = {"hero": True, "power": "flight", "xp": 10, "color": "red"}
        heroes = [
            Hero(name=fields.get("name", f"Hero {i}"), **{**defaults, **{k: v for k, v in fields.items() if k != "name"}})
            for i in range(count)
        ]
        Hero.objects.bulk_create(heroes)
        return heroes

    return make


@pytest.fixture
def record():
    def make(**fields) -> HeroRecord:
        values = {"name": "fireman", "hero": True, "power": "fire", "xp": 10, "color": "red"}
        values.update(fields)
        return HeroRecord(**values)

    return make


@pytest.fixture
def subprocess_env(transactional_db):
    """
    The environment for a child process that must see this test's committed data: the
    test database (pytest-django renamed it) and the suite's Redis database.
    """
    settings_dict = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    if connection.vendor == "mysql":
        env["DATABASE_URL"] = (
            f"mysql://{settings_dict['USER']}:{settings_dict['PASSWORD']}@{settings_dict['HOST']}:"
            f"{settings_dict['PORT'] or 3306}/{settings_dict['NAME']}"
        )
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def aws(monkeypatch) -> dict:
    """
    A local AWS (moto's server mode on 127.0.0.1), reached over HTTP by the real boto3:
    the environment points boto3 at it, as AWS_ENDPOINT_URL would on any machine.
    Returns those variables, for child processes.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    server.stop()


@pytest.fixture
def private_mariadb_factory(tmp_path):
    servers = []

    def make(*options: str) -> PrivateMariaDB:
        server = PrivateMariaDB(tmp_path / f"mariadb{len(servers)}", *options)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def run_python():
    """Run ``python ARGS`` in the project folder as a separate process."""

    def run(args: list[str], env: dict, input: str | None = None, timeout: float = 60):
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, input=input, capture_output=True, text=True, timeout=timeout
        )

    return run
