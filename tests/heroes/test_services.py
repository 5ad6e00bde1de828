import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from heroes.models import Hero
from heroes.selectors import get_heroes
from heroes.services import create_heroes, delete_hero, update_hero

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.embedded
def test_created_heroes_are_written_through_and_read_back_as_hits(record):
    result = create_heroes(records=[record(name="fireman"), record(name="iceman", power="ice")])

    ids = [h.id for h in result.heroes]
    read = get_heroes(ids=ids)
    assert read.hits == 2 and read.db_queries == 0
    assert [h["name"] for h in read.heroes] == ["fireman", "iceman"]
    assert result.cache in ("redis", "local")


def test_a_batch_insert_is_one_statement_and_returns_ids(record):
    # The first write on a connection also asks the server its version, once.
    create_heroes(records=[record(name="warm-up")])
    result = create_heroes(records=[record(name=f"hero {i}") for i in range(100)])
    assert len({h.id for h in result.heroes}) == 100
    assert result.db_queries == 1
    assert Hero.objects.count() == 101


def test_without_write_through_new_ids_are_invalidated_not_cached(record, hero_cache):
    """A write with USE_CACHE off still replaces a cached "not found" for its new id."""
    next_id = create_heroes(records=[record()]).heroes[0].id + 1
    assert get_heroes(ids=[next_id]).not_found == [next_id]  # cached as missing

    result = create_heroes(records=[record(name="late arrival")], write_through=False)

    assert result.heroes[0].id == next_id and result.cache == "off"
    assert hero_cache.lookup([next_id]) == {next_id: None}
    assert get_heroes(ids=[next_id]).heroes[0]["name"] == "late arrival"


@pytest.mark.embedded
def test_a_failing_batch_writes_nothing_and_caches_nothing(record, hero_cache):
    good = record(name="good")
    bad = record(name="")  # passes no validation here; the database constraint rejects it
    with pytest.raises(IntegrityError):
        create_heroes(records=[good, bad])
    assert Hero.objects.count() == 0
    assert hero_cache.stats["failures"] == 0


def test_without_insert_returning_each_row_is_inserted_and_cached(record, monkeypatch):
    """MySQL and Aurora MySQL cannot return ids from a multi-row insert."""
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    create_heroes(records=[record(name="warm-up")])  # the first write also asks the server version
    result = create_heroes(records=[record(name="a"), record(name="b")])
    ids = [h.id for h in result.heroes]
    assert all(ids) and result.db_queries == 2
    assert get_heroes(ids=ids).hits == 2


@pytest.mark.embedded
def test_update_and_delete_services_keep_the_cache_consistent(record):
    (hero,) = create_heroes(records=[record(name="before")]).heroes
    update_hero(hero_id=hero.id, record=record(name="after", xp=99))
    assert get_heroes(ids=[hero.id]).heroes[0] | {"id": 0} == {
        "id": 0,
        "name": "after",
        "hero": "yes",
        "power": "fire",
        "xp": 99,
        "color": "red",
    }
    assert delete_hero(hero_id=hero.id) is True
    assert get_heroes(ids=[hero.id]).not_found == [hero.id]
    assert delete_hero(hero_id=hero.id) is False


def test_an_update_is_one_statement_that_takes_the_next_version(record, hero_cache):
    """
    On MySQL and MariaDB an update is one UPDATE (no lock-and-read first, no transaction of
    its own), and the version it reports is the row's: the value written through is a hit.
    """
    (hero,) = create_heroes(records=[record(name="before")]).heroes
    with CaptureQueriesContext(connection) as queries:
        updated = update_hero(hero_id=hero.id, record=record(name="after"))

    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]
    assert updated.version == 2 == Hero.objects.get(pk=hero.id).version
    read = get_heroes(ids=[hero.id])
    assert read.hits == 1 and read.heroes[0]["name"] == "after"
    assert updated.updated_at == Hero.objects.get(pk=hero.id).updated_at
    # What the update did not write is loaded on demand.
    assert updated.created_at == hero.created_at


@pytest.mark.embedded
def test_updating_a_hero_that_does_not_exist_raises_and_caches_nothing(record, hero_cache):
    with pytest.raises(Hero.DoesNotExist):
        update_hero(hero_id=424242, record=record(name="ghost"))
    assert hero_cache.lookup([424242]) == {424242: None}


def test_warming_fills_the_cache_without_counting_as_reads(make_heroes, hero_cache):
    """warm_heroes and warm_all_heroes store heroes but leave the hit-ratio statistics alone."""
    from heroes.services import warm_all_heroes, warm_heroes

    heroes = make_heroes(3)
    assert warm_all_heroes() == 3 and warm_heroes(ids=[heroes[0].id]) == 1
    assert hero_cache.stats["hits"] == hero_cache.stats["misses"] == 0 and list(hero_cache.recent) == []
    assert get_heroes(ids=[h.id for h in heroes]).hits == 3
    assert (hero_cache.stats["hits"], hero_cache.stats["misses"]) == (3, 0)
