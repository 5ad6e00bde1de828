import copy
import logging
import socket
import threading
import time
import zlib

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from heroes.cache import (
    TOMBSTONE_VERSION,
    CacheUnavailable,
    HeroCache,
    build_hero_cache,
)
from heroes.cache.values import PUT_SCRIPT
from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)


def payload(name: str) -> bytes:
    return b'{"name":"%s"}' % name.encode()


# Cache-aside reads -----------------------------------------------------------------


@pytest.mark.embedded
def test_first_read_misses_and_second_read_hits(make_heroes):
    """A read fills the cache; the same read again is answered from it, with no SQL."""
    heroes = make_heroes(3)
    ids = [h.id for h in heroes]

    first = get_heroes(ids=ids)
    second = get_heroes(ids=ids)

    assert (first.hits, first.misses, first.db_queries) == (0, 3, 1)
    assert (second.hits, second.misses, second.db_queries) == (3, 0, 0)
    assert second.heroes == first.heroes
    assert [h["id"] for h in second.heroes] == ids


@pytest.mark.embedded
def test_heroes_come_back_in_request_order_with_missing_ids_reported(make_heroes):
    """Order follows the request, duplicates included; unknown ids are listed as not found."""
    a, b = make_heroes(2)
    missing = b.id + 1000

    result = get_heroes(ids=[b.id, missing, a.id, b.id])

    assert [h["id"] for h in result.heroes] == [b.id, a.id, b.id]
    assert result.not_found == [missing]
    assert result.json_array().startswith(f'[{{"id":{b.id},')


def test_a_read_of_100_ids_costs_one_mget_one_query_and_one_pipelined_write_back(
    make_heroes, redis_commands, round_trips, redis_primaries, hero_cache, django_assert_num_queries
):
    """
    Cold: an MGET, one script taking the 100 loading locks, one IN (...) query, one
    script writing back and releasing the locks. Warm: one MGET and nothing else.
    On a Redis Cluster each of those is one request per primary, with one MGET and one
    script per hash slot the keys fall in (HERO_CACHE_KEY_BUCKETS at most).
    """
    ids = [h.id for h in make_heroes(100)]
    mgets = len({redis_primaries.slot(hero_cache.key(i)) for i in ids}) if redis_primaries.cluster else 1
    redis_commands.take()
    round_trips.clear()

    with django_assert_num_queries(1) as captured:
        cold = get_heroes(ids=ids)

    assert " IN (" in captured.captured_queries[0]["sql"]
    assert cold.db_queries == 1 and cold.misses == 100
    # The MGET, the lock pipeline, the write-back pipeline.
    assert round_trips["requests"] == 3 * redis_primaries.count
    # One claim script and one write script per hash slot (one slot on a single node):
    # inside them, Redis counts 100 SET NX locks and an MGET of the entries locked, then an
    # MGET of the current values, 100 version-checked SETs, and one DEL releasing the locks.
    assert redis_commands.take() == {"mget": 3 * mgets, "set": 200, "evalsha": 2 * mgets, "del": mgets}

    round_trips.clear()
    with django_assert_num_queries(0):
        warm = get_heroes(ids=ids)
    assert warm.hits == 100 and warm.db_queries == 0
    assert round_trips["requests"] == redis_primaries.count
    assert redis_commands.take() == {"mget": mgets}


def test_missing_ids_are_cached_briefly_so_repeats_skip_the_database(
    make_heroes, redis_client, hero_cache, django_assert_num_queries
):
    """A not-found id is remembered for HERO_CACHE_NOT_FOUND_TTL, not for the full TTL."""
    (hero,) = make_heroes(1)
    missing = hero.id + 1000
    get_heroes(ids=[missing])

    with django_assert_num_queries(0):
        again = get_heroes(ids=[missing])

    assert again.not_found == [missing] and again.hits == 1
    ttl_ms = redis_client.pttl(hero_cache.key(missing))
    assert 0 < ttl_ms <= hero_cache.not_found_ttl * 1000 < hero_cache.ttl * 1000


def test_a_hit_costs_no_decoding_the_cached_bytes_are_the_response(make_heroes, redis_client, hero_cache):
    """
    What Redis holds for a hero is its version, exactly the JSON the API returns, and four
    bytes of checksum over both.
    """
    (hero,) = make_heroes(1, name="Storm")
    result = get_heroes(ids=[hero.id])

    stored = redis_client.get(hero_cache.key(hero.id))

    checksum = zlib.crc32(b"1:" + result.found[hero.id], hero.id).to_bytes(4, "little")
    assert stored == b"1:" + result.found[hero.id] + checksum
    assert result.json_array() == "[" + result.found[hero.id].decode() + "]"


def test_keys_follow_the_documented_versioned_scheme(hero_cache, settings):
    """Scheme 2: the hash tag names one of HERO_CACHE_KEY_BUCKETS buckets (id modulo their number)."""
    buckets = settings.HERO_CACHE_KEY_BUCKETS
    assert hero_cache.key(42) == f"{{{settings.HERO_CACHE_KEY_PREFIX}:hero:v2:{42 % buckets}}}:42"
    assert hero_cache.lock_key(42) == hero_cache.key(42) + ":lock"


def test_use_cache_false_reads_only_the_database(make_heroes, redis_commands):
    """The database-only path sends nothing to Redis and reports the cache as off."""
    (hero,) = make_heroes(1)
    redis_commands.take()

    result = get_heroes(ids=[hero.id], use_cache=False)

    assert result.cache == "off" and result.db_queries == 1 and len(result.heroes) == 1
    assert redis_commands.take() == {}


# The version rule ------------------------------------------------------------------


@pytest.mark.embedded
def test_an_older_version_never_replaces_a_newer_one(hero_cache):
    """Two updates whose cache writes land out of order leave the newer value."""
    hero_cache.store_heroes([(7, 3, payload("v3"))])
    hero_cache.store_heroes([(7, 2, payload("v2"))])

    assert hero_cache.lookup([7]) == {7: payload("v3")}


@pytest.mark.embedded
def test_a_read_miss_write_back_loses_to_a_write_that_landed_first(hero_cache):
    """The classic race: a read fetched version 1, a write stored version 2 meanwhile."""
    hero_cache.store_heroes([(7, 2, payload("new"))])
    hero_cache.write_back(found=[(7, 1, payload("old"))], missing=[])

    assert hero_cache.lookup([7]) == {7: payload("new")}


@pytest.mark.embedded
def test_a_tombstone_keeps_a_deleted_hero_out_of_the_cache(hero_cache):
    """After a delete no write-back, of any version, brings the row back; reads miss."""
    hero_cache.store_heroes([(7, 4, payload("alive"))])
    hero_cache.tombstone([7])
    hero_cache.write_back(found=[(7, 4, payload("alive"))], missing=[])
    hero_cache.store_heroes([(7, 5, payload("later"))])

    assert hero_cache.lookup([7]) == {7: None}


@pytest.mark.embedded
def test_an_invalidation_marker_accepts_only_data_at_or_above_its_version(hero_cache):
    hero_cache.store_heroes([(7, 4, payload("v4"))])
    hero_cache.invalidate({7: 5})
    assert hero_cache.lookup([7]) == {7: None}

    hero_cache.write_back(found=[(7, 4, payload("v4"))], missing=[])
    assert hero_cache.lookup([7]) == {7: None}

    hero_cache.write_back(found=[(7, 5, payload("v5"))], missing=[])
    assert hero_cache.lookup([7]) == {7: payload("v5")}


@pytest.mark.embedded
def test_a_not_found_marker_gives_way_to_a_created_row(hero_cache):
    hero_cache.write_back(found=[], missing=[7])
    hero_cache.store_heroes([(7, 1, payload("created"))])

    assert hero_cache.lookup([7]) == {7: payload("created")}


def test_tombstones_outrank_every_real_version(redis_client, hero_cache):
    hero_cache.tombstone([7])
    stored = redis_client.get(hero_cache.key(7))
    assert stored == b"%d:" % TOMBSTONE_VERSION
    assert 0 < redis_client.pttl(hero_cache.key(7)) <= hero_cache.tombstone_ttl * 1000


def test_the_script_is_reloaded_after_redis_loses_it(hero_cache, redis_client):
    """A restarted or failed-over Redis has no scripts; the write still lands."""
    redis_client.script_flush()
    assert hero_cache.store_heroes([(7, 1, payload("after flush"))])
    assert hero_cache.lookup([7]) == {7: payload("after flush")}


@pytest.mark.single_redis
def test_a_pooled_connection_the_server_dropped_costs_a_reconnect_not_a_failure(hero_cache, redis_client):
    """
    Redis closed an idle pooled connection (its timeout passed while a Lambda was frozen):
    the next read and write reconnect once and are answered, with no failure and no back-off.
    """
    hero_cache.store_heroes([(7, 1, payload("kept"))])
    pooled = redis_client.client_id()  # the pool's one idle connection, which the cache uses next
    with redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]) as admin:
        assert admin.client_kill_filter(_id=pooled) == 1

    assert hero_cache.lookup([7]) == {7: payload("kept")}
    redis_client.client_kill_filter(_id=redis_client.client_id(), skipme=False)
    assert hero_cache.store_heroes([(7, 2, payload("rewritten"))])

    assert hero_cache.lookup([7]) == {7: payload("rewritten")}
    assert hero_cache.stats["failures"] == 0 and hero_cache.available


# Redis unavailable -----------------------------------------------------------------


@pytest.fixture
def silent_server():
    """
    A TCP server that accepts connections and never answers, like a hung Redis.

    ``accepted`` counts the connections made to it, which is how the tests see whether
    the cache kept trying while it should have been backing off.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    state = {"accepted": 0, "sockets": []}
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            state["accepted"] += 1
            state["sockets"].append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    state["port"] = listener.getsockname()[1]
    yield state
    stop.set()
    thread.join()
    for conn in state["sockets"]:
        conn.close()
    listener.close()


def broken_cache(port: int, *, retry_after: float = 60.0) -> HeroCache:
    """A HeroCache built from the settings, with REDIS_URL pointing at ``port``."""
    caches_setting = copy.deepcopy(settings.CACHES)
    # A cluster has only database 0.
    caches_setting["default"]["LOCATION"] = f"redis://127.0.0.1:{port}/{0 if settings.REDIS_CLUSTER else 15}"
    with override_settings(CACHES=caches_setting, HERO_CACHE_RETRY_AFTER=retry_after):
        return build_hero_cache()


@pytest.fixture(autouse=True)
def _needs_redis_for_outage_tests(request):
    if (
        "outage" in request.keywords
        and settings.CACHES["default"]["BACKEND"] != "django_redis.cache.RedisCache"
    ):
        pytest.skip("simulates a Redis outage")


@pytest.mark.outage
def test_a_hung_redis_is_tried_once_then_skipped_while_backing_off(silent_server):
    """Callers do not each wait for a socket timeout: after one failure the cache is skipped."""
    cache = broken_cache(silent_server["port"])
    with pytest.raises(CacheUnavailable):
        cache.lookup([1, 2, 3])
    first_call_connections = silent_server["accepted"]

    for _ in range(20):
        with pytest.raises(CacheUnavailable):
            cache.lookup([1, 2, 3])
        assert cache.store_heroes([(1, 1, payload("x"))]) is False

    # One failing call connects at most twice (one immediate retry), and then no more.
    assert 1 <= first_call_connections <= 2
    assert silent_server["accepted"] == first_call_connections
    assert not cache.available


@pytest.mark.outage
def test_a_read_from_a_silent_redis_waits_one_socket_timeout_then_is_served_from_the_database(
    silent_server, make_heroes, monkeypatch
):
    """
    Redis accepts the connection and never answers: the read gives up after one socket
    timeout (no retry of a timeout), is answered from the database, and the reads after it
    do not touch Redis while the back-off lasts.
    """
    heroes = make_heroes(3)
    cache = broken_cache(silent_server["port"])
    monkeypatch.setattr("heroes.selectors.get_hero_cache", lambda: cache)
    timeout = settings.CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"]

    started = time.monotonic()
    first = get_heroes(ids=[h.id for h in heroes])
    waited = time.monotonic() - started
    second = get_heroes(ids=[h.id for h in heroes])

    assert first.cache == second.cache == "unavailable"
    assert [h["id"] for h in first.heroes] == [h.id for h in heroes] == [h["id"] for h in second.heroes]
    assert silent_server["accepted"] == 1, "a timed-out command was sent again on a new connection"
    assert timeout <= waited < 1.5 * timeout


@pytest.mark.outage
def test_the_cache_is_tried_again_after_the_back_off(silent_server):
    cache = broken_cache(silent_server["port"], retry_after=0.05)
    with pytest.raises(CacheUnavailable):
        cache.lookup([1])
    first_call_connections = silent_server["accepted"]
    time.sleep(0.1)
    with pytest.raises(CacheUnavailable):
        cache.lookup([1])
    assert silent_server["accepted"] > first_call_connections


@pytest.mark.outage
def test_the_failure_is_logged_once_per_interval_not_once_per_call(caplog):
    """With no back-off at all, 50 failing calls still log one warning."""
    cache = broken_cache(port=1, retry_after=0)
    with caplog.at_level(logging.WARNING, logger="heroes.cache"):
        for _ in range(50):
            with pytest.raises(CacheUnavailable):
                cache.lookup([1])
    warnings = [r for r in caplog.records if r.name == "heroes.cache"]
    assert len(warnings) == 1
    assert "Connection refused" in warnings[0].error


@pytest.mark.outage
def test_reads_fall_back_to_the_database_when_redis_is_down(make_heroes, monkeypatch):
    """Redis refusing connections: the read is served from the database and says so."""
    heroes = make_heroes(3)
    monkeypatch.setattr("heroes.selectors.get_hero_cache", lambda: broken_cache(port=1))

    result = get_heroes(ids=[h.id for h in heroes])

    assert result.cache == "unavailable"
    assert [h["id"] for h in result.heroes] == [h.id for h in heroes]
    assert result.db_queries == 1


@pytest.mark.outage
def test_writes_that_failed_during_an_outage_are_invalidated_when_redis_returns(
    hero_cache, redis_client, make_heroes
):
    """A stale value that survived an outage (a partition, say) is not served afterwards."""
    (hero,) = make_heroes(1)
    hero_cache.store_heroes([(hero.id, 1, payload("before the outage"))])
    real_store = hero_cache.store
    down = broken_cache(port=1)
    hero_cache.store = down.store
    try:
        assert hero_cache.store_heroes([(hero.id, 2, payload("during the outage"))]) is False
    finally:
        hero_cache.store = real_store
        hero_cache.breaker.reset()

    # The next call that reaches Redis first invalidates what could not be written.
    assert hero_cache.lookup([hero.id]) == {hero.id: None}
    assert redis_client.get(hero_cache.key(hero.id)) == b"2:"


def test_the_cache_can_be_switched_off_for_reads(make_heroes, settings, redis_commands):
    (hero,) = make_heroes(1)
    settings.HERO_CACHE_ENABLED = False
    redis_commands.take()
    result = get_heroes(ids=[hero.id])
    assert result.cache == "off" and result.db_queries == 1
    assert redis_commands.take() == {}


def test_writes_wait_for_a_replica_when_asked_and_are_owed_when_none_confirms(
    settings, make_heroes, redis_commands
):
    """
    HERO_CACHE_WAIT_REPLICAS=1: each cache write is followed by WAIT on its primary. The
    suite's Redis has no replica, so the write is unconfirmed, and it is owed (remembered
    in memory and in the ledger) like a write that failed; reads' write-backs never wait.
    """
    from heroes.cache import get_hero_cache
    from heroes.models import CacheDebt

    settings.HERO_CACHE_WAIT_REPLICAS = 1
    settings.HERO_CACHE_WAIT_TIMEOUT_MS = 5
    cache = get_hero_cache()
    (hero,) = make_heroes(1)
    cache.store.client.script_load(PUT_SCRIPT)  # so the write is one attempt, one WAIT
    redis_commands.take()

    assert cache.store_heroes([(hero.id, 2, payload("written"))]) is True
    assert cache.lookup([hero.id])[hero.id] == payload("written")  # the write itself landed
    assert redis_commands.take()["wait"] == 1
    assert cache.stats["unreplicated"] == 1
    assert cache.debts.pending() == {hero.id: 2}
    assert list(CacheDebt.objects.values_list("hero_id", flat=True)) == [hero.id]

    get_heroes(ids=[hero.id + 1000])  # a miss and its write-back
    assert "wait" not in redis_commands.take()


def test_writes_do_not_wait_for_replicas_by_default(make_heroes, hero_cache, redis_commands):
    (hero,) = make_heroes(1)
    redis_commands.take()
    hero_cache.store_heroes([(hero.id, 2, payload("written"))])
    assert "wait" not in redis_commands.take()
    assert hero_cache.stats["unreplicated"] == 0
