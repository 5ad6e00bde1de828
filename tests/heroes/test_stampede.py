"""One database query for a stampede of reads of the same uncached hero."""

import threading

import pytest

from heroes.cache import get_hero_cache
from heroes.schema import HeroRecord
from heroes.selectors import get_heroes
from heroes.services import update_hero
from heroes.signals import manual_cache_writes

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def patient_locks(settings):
    """
    Lock times long enough for 100 threads sharing one interpreter on two cores.

    There the lock holder's few round trips wait behind 99 other threads for the GIL and
    take around 300 ms, longer than the default lock (250 ms) and wait (200 ms), so other
    readers would rightly give up on it. Separate workers (Lambda containers, gunicorn
    processes) do not queue behind each other like that. These tests count how many
    readers query the database, so they give the holder the time it needs here.
    """
    settings.HERO_CACHE_LOCK_TTL_MS = 3000
    settings.HERO_CACHE_LOCK_WAIT_MS = 2000


def read_concurrently(hero_id: int, readers: int) -> list:
    from django.db import connection

    start = threading.Barrier(readers)
    results = [None] * readers

    def read(index: int) -> None:
        try:
            # Each reader is a warm worker: its database connection is open before the
            # stampede, as a warm container's is, so the race is over the cache alone.
            connection.ensure_connection()
            start.wait()
            results[index] = get_heroes(ids=[hero_id])
        finally:
            connection.close()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.embedded
def test_100_concurrent_reads_of_an_uncached_hero_send_one_query(make_heroes, patient_locks):
    (hero,) = make_heroes(1, name="Popular")

    results = read_concurrently(hero.id, 100)

    assert all(r.heroes and r.heroes[0]["name"] == "Popular" for r in results)
    # One reader went to the database (its count includes opening its thread's
    # connection); the other 99 were answered by the cache.
    assert sum(1 for r in results if r.db_queries) == 1
    assert sum(r.misses for r in results) == 1 and sum(r.hits for r in results) == 99


def test_100_concurrent_reads_of_an_invalidated_hero_send_one_query(make_heroes, patient_locks):
    """The classic stampede: a hot key has just been invalidated by a write."""
    (hero,) = make_heroes(1)
    get_heroes(ids=[hero.id])
    with manual_cache_writes():  # a write that does not write through: it only invalidates
        renamed = update_hero(
            hero_id=hero.id, record=HeroRecord(name="Renamed", hero=True, power="", xp=1, color="")
        )
    get_hero_cache().invalidate({hero.id: renamed.version})

    results = read_concurrently(hero.id, 100)

    assert all(r.heroes[0]["name"] == "Renamed" for r in results)
    assert sum(1 for r in results if r.db_queries) == 1 and sum(r.misses for r in results) == 1


def test_a_lock_whose_holder_died_delays_readers_only_briefly(
    make_heroes, hero_cache, redis_client, settings
):
    (hero,) = make_heroes(1, name="Orphaned")
    # A reader took the lock and died before loading: nobody will ever release it.
    redis_client.set(hero_cache.lock_key(hero.id), b"1", px=60_000)

    result = get_heroes(ids=[hero.id])

    # It waited its bounded time, then loaded the row itself.
    assert result.heroes[0]["name"] == "Orphaned" and result.db_queries == 1
    assert hero_cache.lock_wait_ms <= result.elapsed_ms < hero_cache.lock_wait_ms + 1000
    assert get_heroes(ids=[hero.id]).hits == 1  # and cached it for everyone else
