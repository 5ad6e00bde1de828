"""Saves and deletes from anywhere (ORM, admin, bulk update) keep the cache consistent."""

import threading

import pytest
from django.db import connection, transaction

from heroes.models import Hero
from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)


def cached_names(hero_cache, *ids):
    return {hero_id: (value and value.decode()) for hero_id, value in hero_cache.lookup(list(ids)).items()}


@pytest.mark.embedded
def test_an_orm_update_writes_the_new_value_through(make_heroes):
    """After hero.save() commits, a read is a cache hit that shows the new value."""
    (hero,) = make_heroes(1, name="Before")
    get_heroes(ids=[hero.id])  # cached at version 1

    hero.name = "After"
    hero.save()
    result = get_heroes(ids=[hero.id])

    assert result.hits == 1 and result.db_queries == 0
    assert result.heroes[0]["name"] == "After"
    assert Hero.objects.get(pk=hero.id).version == 2


@pytest.mark.embedded
def test_the_cache_is_written_only_after_the_commit(make_heroes, hero_cache):
    (hero,) = make_heroes(1, name="Before")
    with transaction.atomic():
        hero.name = "Uncommitted"
        hero.save()
        assert hero_cache.lookup([hero.id]) == {hero.id: None}
    assert b'"name":"Uncommitted"' in hero_cache.lookup([hero.id])[hero.id]


@pytest.mark.embedded
def test_a_rolled_back_transaction_leaves_the_cache_untouched(make_heroes, hero_cache):
    (hero,) = make_heroes(1, name="Kept")
    get_heroes(ids=[hero.id])
    before = hero_cache.lookup([hero.id])

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            hero.name = "Rolled back"
            hero.save()
            raise RuntimeError("abort")

    assert hero_cache.lookup([hero.id]) == before
    assert get_heroes(ids=[hero.id]).heroes[0]["name"] == "Kept"


@pytest.mark.embedded
def test_a_delete_evicts_and_a_racing_read_cannot_bring_the_hero_back(make_heroes, hero_cache):
    (hero,) = make_heroes(1)
    stale = get_heroes(ids=[hero.id])  # what a read that started before the delete fetched
    hero_id = hero.id

    hero.delete()
    hero_cache.write_back(found=[(hero_id, 1, stale.found[hero_id])], missing=[])

    result = get_heroes(ids=[hero_id])
    assert result.not_found == [hero_id] and result.heroes == []


@pytest.mark.embedded
def test_queryset_update_bumps_versions_and_invalidates(make_heroes, hero_cache):
    """QuerySet.update sends no signals; Hero's queryset invalidates the rows itself."""
    heroes = make_heroes(3, color="red")
    ids = [h.id for h in heroes]
    get_heroes(ids=ids)

    assert Hero.objects.filter(id__in=ids[:2]).update(color="blue") == 2

    result = get_heroes(ids=ids)
    assert [h["color"] for h in result.heroes] == ["blue", "blue", "red"]
    assert result.misses == 2 and result.hits == 1
    assert list(Hero.objects.filter(id__in=ids).values_list("version", flat=True)) == [2, 2, 1]


def test_saving_a_new_object_over_an_existing_id_still_bumps_the_version(make_heroes):
    (hero,) = make_heroes(1, name="Original")
    get_heroes(ids=[hero.id])

    Hero(id=hero.id, name="Replacement", hero=False, power="ice", xp=1, color="white").save()

    assert Hero.objects.get(pk=hero.id).version == 2
    assert get_heroes(ids=[hero.id]).heroes[0]["name"] == "Replacement"


def test_concurrent_updates_leave_the_last_committed_value_in_the_cache(make_heroes, hero_cache):
    """Two threads updating one hero 20 times each: cache and database agree at the end."""
    (hero,) = make_heroes(1)
    errors = []

    def update(tag):
        try:
            for i in range(20):
                h = Hero.objects.get(pk=hero.id)
                h.power = f"{tag}-{i}"
                h.save()
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=update, args=(tag,)) for tag in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    row = Hero.objects.get(pk=hero.id)
    assert row.version == 41
    assert hero_cache.lookup([hero.id])[hero.id] == row.to_json()


def test_a_save_of_some_fields_from_a_stale_instance_never_caches_what_was_not_saved(make_heroes):
    """
    save(update_fields=[...]) writes only those columns: the instance's other fields may be
    old (another save changed them) or unsaved edits, so the cache is invalidated, not filled.
    """
    from heroes.models import Hero
    from heroes.selectors import get_heroes

    (hero,) = make_heroes(1, name="Before", xp=1)
    stale = Hero.objects.get(pk=hero.id)
    fresh = Hero.objects.get(pk=hero.id)
    fresh.xp = 500
    fresh.save()
    stale.name = "Renamed"
    stale.xp = 999  # an edit that is not saved
    stale.save(update_fields=["name"])

    served = get_heroes(ids=[hero.id]).heroes[0]
    assert (served["name"], served["xp"]) == ("Renamed", 500)
    assert get_heroes(ids=[hero.id]).heroes[0]["xp"] == 500
