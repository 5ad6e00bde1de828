"""
The cache layer when Redis fails: partitioned in the middle of a run, or out of memory.

Zero failed reads, zero lost writes, no waiting on a dead server, caching back on its own
within a couple of seconds, and no stale value served afterwards.
"""

import copy
import json
import os
import random
import shutil
import subprocess
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import override_settings

from bench.proxy import CuttableProxy
from heroes.cache import get_hero_cache
from heroes.models import Hero
from heroes.schema import HeroRecord
from heroes.selectors import get_heroes
from heroes.services import update_hero
from scripts.private_mariadb import free_port, wait_for_port

# Each test puts something in front of one Redis server (a proxy, a memory limit); on a
# cluster, tests/heroes/test_cache_cluster.py fails a node instead.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.outage, pytest.mark.single_redis]


def caches_at(location: str) -> dict:
    setting = copy.deepcopy(settings.CACHES)
    setting["default"]["LOCATION"] = location
    return setting


@pytest.fixture
def partition(redis_client):
    proxy = CuttableProxy(("127.0.0.1", redis_client.connection_pool.connection_kwargs["port"]))
    db = redis_client.connection_pool.connection_kwargs["db"]
    with override_settings(
        CACHES=caches_at(f"redis://127.0.0.1:{proxy.port}/{db}"), HERO_CACHE_RETRY_AFTER=0.2
    ):
        yield proxy
    proxy.close()


def test_a_partition_mid_run_loses_nothing_and_serves_nothing_stale(partition, make_heroes, redis_client):
    heroes = make_heroes(30)
    ids = [h.id for h in heroes]
    rng = random.Random(2026)
    assert get_heroes(ids=ids).misses == 30  # all cached now, through the proxy
    failed = lost = 0
    written: dict[int, str] = {}

    def operate(count: int) -> list[str]:
        nonlocal failed
        modes = []
        for _ in range(count):
            hero_id = rng.choice(ids)
            try:
                if rng.random() < 0.3:
                    power = f"power-{rng.randrange(10**6)}"
                    update_hero(
                        hero_id=hero_id,
                        record=HeroRecord(name=f"Hero {hero_id}", hero=True, power=power, xp=1, color="red"),
                    )
                    written[hero_id] = power
                else:
                    result = get_heroes(ids=rng.sample(ids, 5))
                    modes.append(result.cache)
                    assert len(result.heroes) == 5
            except Exception:  # counted: the test's claim is that there are none
                failed += 1
        return modes

    operate(100)
    partition.cut()
    started = time.monotonic()
    during = operate(300)
    outage_seconds = time.monotonic() - started
    partition.heal()

    # Back to caching on its own, within a couple of seconds.
    deadline = time.monotonic() + 2.0
    while get_heroes(ids=ids[:1]).cache != "redis":
        assert time.monotonic() < deadline, "caching did not resume within 2 s"
        time.sleep(0.05)
    after = operate(200)

    assert failed == 0
    assert "unavailable" in during and set(during) <= {"unavailable", "redis"}
    assert after.count("redis") == len(after)
    # No waiting on the dead link: at most one connection try (and its retry) per back-off period.
    assert partition.attempts_while_cut <= 2 * (outage_seconds / 0.2 + 2)
    # Every committed write is in the database, and nothing stale is cached or served.
    for hero_id, power in written.items():
        lost += Hero.objects.get(pk=hero_id).power != power
    assert lost == 0
    cache = get_hero_cache()
    rows = {h.id: h for h in Hero.objects.filter(id__in=ids)}
    for hero_id, cached in cache.lookup(ids).items():
        assert cached is None or cached == rows[hero_id].to_json(), f"stale cache entry for hero {hero_id}"
    assert [h["power"] for h in get_heroes(ids=ids).heroes] == [rows[i].power for i in ids]


@pytest.fixture
def small_redis(tmp_path):
    """A Redis of the test's own with very little memory, for each eviction policy."""
    servers = []

    def start(policy: str) -> str:
        port = free_port()
        process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory",
                "1mb",
                "--maxmemory-policy",
                policy,
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        servers.append(process)
        wait_for_port(port)
        return f"redis://127.0.0.1:{port}/0"

    yield start
    for process in servers:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-ttl", "noeviction"])
def test_a_full_redis_still_gives_correct_answers(small_redis, make_heroes, policy):
    """With 1 MB for 3,000 heroes Redis evicts (or refuses writes); reads stay correct."""
    heroes = make_heroes(3000, name="A name long enough to take some room in the cache " * 2)
    ids = [h.id for h in heroes]
    rng = random.Random(7)
    with override_settings(CACHES=caches_at(small_redis(policy)), HERO_CACHE_RETRY_AFTER=0.05):
        for _ in range(40):
            get_heroes(ids=rng.sample(ids, 100))
        changed = rng.sample(ids, 50)
        for hero_id in changed:
            update_hero(
                hero_id=hero_id,
                record=HeroRecord(name="Changed", hero=False, power="new", xp=2, color="blue"),
            )
        used = get_hero_cache().store.client.info("memory")["used_memory"]
        for _ in range(20):
            sample = rng.sample(ids, 100)
            expected = {h.id: h.to_json() for h in Hero.objects.filter(id__in=sample)}
            result = get_heroes(ids=sample)
            assert {i: result.found[i] for i in sample} == expected
    assert used < 2 * 1024 * 1024


UPDATE_DURING_OUTAGE = """
import sys, django
django.setup()
from heroes.schema import HeroRecord
from heroes.services import update_hero
update_hero(hero_id=int(sys.argv[1]),
            record=HeroRecord(name="Changed", hero=True, power="written in the outage", xp=1, color="red"))
"""

READ_POWER = """
import json, sys
from cache_worker.handler import lambda_handler
response = lambda_handler({"REQUEST": "read", "SQLS": [int(sys.argv[1])]})
print("RESULT " + json.dumps(json.loads(response["body"])[0]["power"]))
"""


@pytest.mark.parametrize("who_settles", ["a new process at start", "a process that saw the outage"])
def test_a_writer_that_ends_during_the_outage_leaves_nothing_stale(
    partition, make_heroes, subprocess_env, run_python, who_settles
):
    """The in-memory list of ids to invalidate dies with its process; the database's does not."""
    (hero,) = make_heroes(1, power="before")
    assert get_heroes(ids=[hero.id]).misses == 1  # cached, through the proxy
    partition.cut()
    env = {
        **subprocess_env,
        "REDIS_URL": f"redis://127.0.0.1:{partition.port}{urlsplit(os.environ['REDIS_URL']).path}",
        "HERO_CACHE_RETRY_AFTER": "0.2",
    }
    done = run_python(["-c", UPDATE_DURING_OUTAGE, str(hero.id)], env)
    assert done.returncode == 0, done.stderr[-2000:]
    if who_settles == "a process that saw the outage":
        assert get_heroes(ids=[hero.id]).cache == "unavailable"  # this process sees the outage too
    partition.heal()  # the writer has ended; Redis still holds "before"

    if who_settles == "a new process at start":
        read = run_python(["-c", READ_POWER, str(hero.id)], env)
        assert read.returncode == 0, read.stderr[-2000:]
        assert json.loads(read.stdout.split("RESULT ", 1)[1]) == "written in the outage"
    else:
        time.sleep(0.25)  # past the back-off
        assert get_heroes(ids=[hero.id]).heroes[0]["power"] == "written in the outage"
    assert get_heroes(ids=[hero.id]).heroes[0]["power"] == "written in the outage"
