"""
Cache debts (heroes/cache/recovery.py): what a failed cache write owes is paid, all of it,
even when another failure comes while it is being paid.
"""

import threading

import pytest
from django.db import connection

from heroes.cache import build_hero_cache
from heroes.cache.values import encode
from heroes.models import CacheDebt, Hero
from heroes.selectors import get_heroes

pytestmark = [pytest.mark.django_db(transaction=True)]


class Down:
    """A store whose every command fails as a dead Redis does (connection refused)."""

    name = "redis"
    cluster = False

    def __init__(self, real):
        self.errors = real.errors

    def slot_map_version(self) -> int:
        return 0

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionRefusedError("Redis is down (test)")

        return fail


def bump_versions_behind_the_cache(ids: list[int]) -> None:
    """Change rows as a write whose cache update failed would have: version + 1."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE heroes_hero SET version = version + 1, power = 'changed' "
            f"WHERE id IN ({','.join(map(str, ids))})"
        )


def test_every_owed_id_is_settled_not_only_the_first_batch(make_heroes, hero_cache, redis_client):
    """
    10,050 debts in the database (left by processes that ended during an outage): one
    settlement at start pays them all, in batches, and leaves no cached value stale.
    """
    heroes = make_heroes(10_050)
    ids = [h.id for h in heroes]
    hero_cache.store_heroes([(h.id, 1, h.to_json()) for h in heroes])
    bump_versions_behind_the_cache(ids)
    CacheDebt.objects.bulk_create([CacheDebt(hero_id=i) for i in ids])

    build_hero_cache().settle_debts()  # what a new process does at start

    assert CacheDebt.objects.count() == 0
    sample = ids[:50] + ids[-50:]
    assert all(value is None for value in hero_cache.lookup(sample).values())
    assert {h["power"] for h in get_heroes(ids=sample).heroes} == {"changed"}


def test_a_failure_while_debts_are_being_settled_is_not_forgotten(
    make_heroes, hero_cache, redis_client, monkeypatch
):
    """
    Thread A settles the debts of an outage; while it writes its markers, a write by thread
    B finds the cache failing. After A finishes, B's hero must still be owed, and the next
    call pays it: B's old value is never served.
    """
    first, second = make_heroes(2)
    hero_cache.store_heroes([(first.id, 1, first.to_json()), (second.id, 1, second.to_json())])
    real = hero_cache.store
    # The outage: a write of ``first`` fails and is owed.
    hero_cache.store = Down(real)
    assert hero_cache.store_heroes([(first.id, 2, first.to_json())]) is False
    hero_cache.store = real
    hero_cache.breaker.reset()

    reached, release = threading.Event(), threading.Event()
    original_put = type(real).put
    calls_in_settlement = []

    def put_pausing_in_the_settlement(self, writes, *args, **kwargs):
        # Pause A on its last write of the settlement (the debts read from the database),
        # after the memory's have been paid and the database's list was read.
        if threading.current_thread() is settling:
            calls_in_settlement.append(writes)
            if len(calls_in_settlement) == 2:
                reached.set()
                assert release.wait(10), "never released"
        return original_put(self, writes, *args, **kwargs)

    def settle_in_thread():
        try:
            hero_cache.lookup([first.id])
        finally:
            connection.close()

    settling = threading.Thread(target=settle_in_thread)
    monkeypatch.setattr(type(real), "put", put_pausing_in_the_settlement)
    settling.start()
    assert reached.wait(10)
    # Meanwhile ``second`` is changed and its cache write fails.
    bump_versions_behind_the_cache([second.id])
    hero_cache.store = Down(real)
    try:
        assert hero_cache.store_heroes([(second.id, 2, b'{"id":0}')]) is False
    finally:
        hero_cache.store = real
        hero_cache.breaker.reset()
    release.set()
    settling.join(10)

    assert get_heroes(ids=[second.id]).heroes[0]["power"] == "changed"
    assert Hero.objects.get(pk=second.id).version == 2


def test_settled_debts_leave_markers_at_the_owed_versions(make_heroes, hero_cache, redis_client):
    (hero,) = make_heroes(1)
    hero_cache.store_heroes([(hero.id, 1, hero.to_json())])
    real = hero_cache.store
    hero_cache.store = Down(real)
    assert hero_cache.store_heroes([(hero.id, 2, hero.to_json())]) is False
    assert hero_cache.debts.pending() == {hero.id: 2}
    hero_cache.store = real
    hero_cache.breaker.reset()

    assert hero_cache.lookup([hero.id]) == {hero.id: None}
    assert redis_client.get(hero_cache.key(hero.id)) == b"2:"
    assert hero_cache.debts.pending() == {} and not hero_cache.debts.needed
    # A value at the owed version is accepted again, so caching resumes.
    hero_cache.store_heroes([(hero.id, 2, hero.to_json())])
    assert redis_client.get(hero_cache.key(hero.id)) == encode(hero.id, 2, hero.to_json())
