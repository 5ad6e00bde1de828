"""
The hero cache on a real Redis Cluster (heroapp/redis_cluster.py): three primaries, each
with a replica, on loopback ports, started for this module and removed after it.

The rest of the cache suite also runs on a cluster (``make test`` runs it a second time
with REDIS_URL pointing at one); these tests are about what only a cluster has: keys
spread over primaries, requests per primary, and failover.
"""

import threading
import time
from collections import Counter
from contextlib import contextmanager

import pytest
from django.test import override_settings
from redis.crc import key_slot

from heroapp.settings import redis_cache
from heroes.cache import get_hero_cache
from heroes.schema import HeroRecord
from heroes.selectors import get_heroes
from heroes.services import update_hero
from scripts.private_mariadb import free_port
from scripts.redis_cluster import RedisCluster

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # node timeout 1 s: a dead primary is declared failed, and its replica promoted, in
    # about two seconds instead of fifteen.
    nodes = RedisCluster(
        tmp_path_factory.mktemp("redis-cluster"), masters=3, replicas=1, node_timeout_ms=1000
    )
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture
def on_cluster(cluster):
    """The application's cache pointed at the cluster, emptied first."""
    with override_settings(
        CACHES={"default": redis_cache(cluster.url.split("?")[0], cluster=True)}, HERO_CACHE_RETRY_AFTER=0.2
    ):
        cache = get_hero_cache()
        assert cache.store.cluster
        cache.store.client.flushdb()
        yield cache


@pytest.fixture
def requests_per_node(monkeypatch):
    """Count what redis-py writes to each node's socket (a command, or a whole pipeline)."""
    from redis.connection import AbstractConnection

    counter = Counter()
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        counter[self.port] += 1
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return counter


@contextmanager
def repeating(step):
    """Run ``step()`` over and over in a thread until the block ends; re-raise its failure."""
    failures: list[BaseException] = []
    stop = threading.Event()

    def loop() -> None:
        from django.db import connection

        try:
            while not stop.is_set():
                step()
        except BaseException as exc:  # re-raised in the test's thread below
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
    if failures:
        raise failures[0]


def test_hero_keys_spread_over_every_primary(on_cluster, cluster, make_heroes):
    heroes = make_heroes(100)
    get_heroes(ids=[h.id for h in heroes])

    primaries = cluster.primaries()
    keys = {port: int(cluster.cli(port, "DBSIZE")) for port in primaries}
    assert len(primaries) == 3
    # Every primary holds a share (the heroes, and nothing else: locks are released).
    assert all(count >= 10 for count in keys.values()), keys
    assert sum(keys.values()) == 100


def test_a_read_of_100_ids_sends_one_request_per_primary_not_per_id(
    on_cluster, cluster, make_heroes, requests_per_node
):
    """Cold: MGET, locks, write-back each one request per primary. Warm: one per primary."""
    ids = [h.id for h in make_heroes(100)]
    get_heroes(ids=ids[:1])  # the client learns the slot map (and loads the script) first
    primaries = set(cluster.primaries())
    requests_per_node.clear()

    cold = get_heroes(ids=ids[1:])
    assert cold.misses == 99 and cold.db_queries == 1
    assert set(requests_per_node) == primaries
    assert all(count == 3 for count in requests_per_node.values()), requests_per_node

    requests_per_node.clear()
    warm = get_heroes(ids=ids)
    assert warm.hits == 100 and warm.db_queries == 0
    assert set(requests_per_node) == primaries
    assert all(count == 1 for count in requests_per_node.values()), requests_per_node


def test_a_cluster_that_cannot_be_reached_serves_from_the_database(make_heroes, tmp_path):
    """No node answers (not even to learn the slot map): reads and writes still work."""
    heroes = make_heroes(2)
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(CACHES={"default": redis_cache(dead, cluster=True)}):
        result = get_heroes(ids=[h.id for h in heroes])
        assert result.cache == "unavailable"
        assert [h["id"] for h in result.heroes] == [h.id for h in heroes]
        updated = update_hero(
            hero_id=heroes[0].id, record=HeroRecord(name="Kept", hero=True, power="", xp=1, color="")
        )
        assert updated.version == 2


def test_reads_keep_working_through_a_primary_failover_and_caching_resumes(on_cluster, cluster, make_heroes):
    """
    A primary is killed during a read loop. Every read still returns every hero (from the
    database while its slots are down); once its replica has taken over, reads are
    served from the cache again, including the keys of the failed primary's slots.
    """
    heroes = make_heroes(100, name="Durable")
    ids = [h.id for h in heroes]
    get_heroes(ids=ids)
    victim = next(port for port in cluster.primaries() if cluster.replica_of(port))
    [successor] = cluster.replica_of(victim)

    outcomes: list[tuple[float, str, int, int]] = []

    def read() -> None:
        result = get_heroes(ids=ids)
        assert [h["id"] for h in result.heroes] == ids
        assert all(h["name"] == "Durable" for h in result.heroes)
        outcomes.append((time.monotonic(), result.cache, result.hits, result.misses))
        time.sleep(0.01)

    with repeating(read):
        time.sleep(0.3)
        killed_at = time.monotonic()
        cluster.kill(victim)
        # The replica is promoted once the others agree the primary has failed.
        cluster.wait_for_promotion(successor)
        # Caching resumes: a read answered entirely by the cache, after the promotion.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            at > killed_at and cache == "redis" and hits == 100 for at, cache, hits, _ in outcomes[-5:]
        ):
            time.sleep(0.1)

    after_kill = [o for o in outcomes if o[0] > killed_at]
    assert after_kill, "no read completed after the primary was killed"
    # The failover was felt (some reads could not use the cache) but never failed a read...
    assert any(cache == "unavailable" for _, cache, _, _ in after_kill)
    # ...and the cache is back, answering every id, the promoted replica's share included.
    assert after_kill[-1][1:] == ("redis", 100, 0)
    assert int(cluster.cli(successor, "DBSIZE")) > 0
    assert get_hero_cache().stats["failures"] >= 1


def test_writes_during_a_primary_failover_leave_nothing_stale(on_cluster, cluster, make_heroes):
    """
    Heroes are updated while a primary dies and its replica takes over. Updates whose cache
    writes fail are remembered and invalidated when the cache answers again, so afterwards
    every hero read through the cache is the one in the database.
    """
    import random

    from heroes.models import Hero

    heroes = make_heroes(60)
    ids = [h.id for h in heroes]
    get_heroes(ids=ids)
    victim = next(port for port in cluster.primaries() if cluster.replica_of(port))
    [successor] = cluster.replica_of(victim)
    written = Counter()
    rng = random.Random(7)

    def write() -> None:
        hero_id = rng.choice(ids)
        written[hero_id] += 1
        update_hero(
            hero_id=hero_id,
            record=HeroRecord(name=f"Hero {hero_id}", hero=True, power="", xp=written[hero_id], color=""),
        )

    with repeating(write):
        time.sleep(0.3)
        cluster.kill(victim)
        cluster.wait_for_promotion(successor)
        time.sleep(0.5)  # writes go on against the promoted replica too

    assert get_hero_cache().stats["failures"] >= 1, "the failover was not felt by the writer"
    # The first read that reaches the cache settles what the outage left behind.
    deadline = time.monotonic() + 10
    while get_heroes(ids=ids[:1]).cache != "redis" and time.monotonic() < deadline:
        time.sleep(0.1)
    in_database = {h.id: h.xp for h in Hero.objects.filter(id__in=ids)}
    through_cache = get_heroes(ids=ids)
    assert through_cache.cache == "redis"
    assert {h["id"]: h["xp"] for h in through_cache.heroes} == in_database
    assert sum(written.values()) > 100


def test_a_write_no_replica_confirmed_is_made_good_after_a_failover_loses_it(
    on_cluster, cluster, make_heroes, settings
):
    """
    Redis replicates asynchronously, so a failover can lose a write its primary acknowledged.
    With HERO_CACHE_WAIT_REPLICAS=1 the write's WAIT times out (its replica is frozen), the
    write is owed like a failed one, and after the replica (without it) takes over, the
    stale value it still holds is invalidated instead of served.
    """
    settings.HERO_CACHE_WAIT_REPLICAS = 1
    cache = get_hero_cache()
    victim = next(port for port in cluster.primaries() if cluster.replica_of(port))
    [successor] = cluster.replica_of(victim)
    client = cache.store.client
    hero = next(h for h in make_heroes(60) if client.get_node_from_key(cache.key(h.id)).port == victim)
    assert get_heroes(ids=[hero.id]).misses == 1  # cached at version 1, on the victim
    time.sleep(0.2)  # and on its replica

    # The replica is frozen and its link cut, so it cannot receive what comes next; on
    # loopback a live link replicates too fast for any failover to lose a write.
    cluster.pause(successor)
    cluster.cli(victim, "CLIENT", "KILL", "TYPE", "replica")
    try:
        update_hero(hero_id=hero.id, record=HeroRecord(name="After", hero=True, power="", xp=99, color=""))
        assert cache.stats["unreplicated"] == 1
        cluster.kill(victim)
    finally:
        cluster.resume(successor)
    cluster.wait_for_promotion(successor)
    # The promoted replica never received version 2: it holds "1:{...Hero...}".
    assert cluster.cli(successor, "GET", cache.key(hero.id)).startswith("1:")

    deadline = time.monotonic() + 10
    while (result := get_heroes(ids=[hero.id])).cache != "redis" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert result.cache == "redis" and result.heroes[0]["xp"] == 99
    assert get_heroes(ids=[hero.id]).heroes[0]["xp"] == 99


def test_a_read_after_its_slot_moved_to_another_primary_is_answered_and_caching_follows(
    on_cluster, cluster, make_heroes
):
    """
    Resharding moves the slot of one key bucket, keys and all, to another primary while
    the client still holds the old slot map. The next read meets MOVED: it is answered in
    full, and the change is noticed as a failover is (the map changed under the call); after
    the back-off the cache answers every id again, that bucket from its new primary.
    """
    heroes = make_heroes(40, name="Moving")
    ids = [h.id for h in heroes]
    get_heroes(ids=ids)
    assert get_heroes(ids=ids).hits == 40
    slot = key_slot(on_cluster.key(ids[0]).encode())
    source = cluster.owner(slot)
    target = next(port for port in cluster.primaries() if port != source)
    failures = on_cluster.stats["failures"]

    cluster.move_slot(slot, target)
    moved = get_heroes(ids=ids)

    assert [h["id"] for h in moved.heroes] == ids and all(h["name"] == "Moving" for h in moved.heroes)
    assert on_cluster.stats["failures"] == failures + 1
    assert cluster.owner(slot) == target
    time.sleep(0.3)  # HERO_CACHE_RETRY_AFTER is 0.2 s here
    again = get_heroes(ids=ids)
    # (Its one query is the settlement's look at the debts table, as after any failure.)
    assert (again.cache, again.hits, again.misses) == ("redis", 40, 0)


def test_reads_get_past_a_primary_that_stops_answering_once_its_replica_takes_over(
    on_cluster, cluster, make_heroes
):
    """
    A primary that hangs (frozen: it neither answers nor refuses) instead of dying. Every
    read is still answered (from the database while the cache cannot be), and once the
    replica is promoted the reads find it: the cache answers every id again.
    """
    cluster.revive()  # earlier tests killed primaries: every primary gets a replica again
    heroes = make_heroes(100, name="Patient")
    ids = [h.id for h in heroes]
    get_heroes(ids=ids)
    victim = next(port for port in cluster.primaries() if cluster.replica_of(port))
    replicas = set(cluster.replica_of(victim))

    cluster.pause(victim)
    try:
        deadline = time.monotonic() + 30
        while not replicas & set(cluster.primaries()) and time.monotonic() < deadline:
            time.sleep(0.1)
        cluster.wait_until_ok()
        deadline = time.monotonic() + 20
        # Until a read is answered entirely by the cache (the first ones after the promotion
        # may miss what the replica had not received yet, and load it again).
        while ((result := get_heroes(ids=ids)).cache, result.hits) != ("redis", 100) and (
            time.monotonic() < deadline
        ):
            assert [h["name"] for h in result.heroes] == ["Patient"] * 100
            time.sleep(0.1)
    finally:
        cluster.resume(victim)
        cluster.wait_until_ok()

    assert (result.cache, result.hits) == ("redis", 100)
    assert get_hero_cache().stats["failures"] >= 1
