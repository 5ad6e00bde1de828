"""HeroQuerySet's statements that skip the ORM's compiler: what they read and write."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from heroes import schema
from heroes.models import Hero

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]


def test_cache_rows_are_the_rows_the_cache_stores_for_the_ids_that_exist(make_heroes):
    """One statement for any number of ids; missing ids are left out, repeated ones read once."""
    villain, hero = make_heroes(2, name="Ünïcode ☃", hero=False)
    hero.hero = True
    hero.save()

    with CaptureQueriesContext(connection) as queries:
        rows = Hero.objects.cache_rows([hero.id, 987654, villain.id, hero.id])

    assert len(queries) == 1
    by_id = {row[0]: row for row in rows}
    assert sorted(by_id) == sorted([villain.id, hero.id]) and len(rows) == 2
    for saved in (villain, hero):
        saved.refresh_from_db()
        row = by_id[saved.id]
        assert row[1] == saved.version
        # The bytes a miss writes back are the bytes the model itself would cache.
        assert schema.encode_hero(row[0], row[2:]) == saved.to_json()
    assert by_id[hero.id][1] == 2


def test_cache_rows_of_no_ids_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert Hero.objects.cache_rows([]) == []
    assert len(queries) == 0


def test_cache_rows_refuses_a_filtered_queryset(make_heroes):
    """It reads by id alone: a filter it would silently drop is an error instead."""
    (hero,) = make_heroes(1, color="red")
    with pytest.raises(TypeError, match="by id alone"):
        Hero.objects.filter(color="blue").cache_rows([hero.id])


def test_replace_stores_each_value_as_the_orm_would(make_heroes):
    """Text, booleans, numbers and the update time round-trip through the prepared UPDATE."""
    (hero,) = make_heroes(1)

    version, updated_at = Hero.objects.replace(
        hero.id, name="Zoë ✈ O'Brien", hero=False, power="", xp=4_294_967_295, color="blue"
    )

    stored = Hero.objects.get(pk=hero.id)
    assert (stored.name, stored.hero, stored.power, stored.xp, stored.color) == (
        "Zoë ✈ O'Brien",
        False,
        "",
        4_294_967_295,
        "blue",
    )
    assert stored.version == version == 2
    assert stored.updated_at == updated_at and updated_at.tzinfo is not None


def test_replace_of_a_missing_row_raises_and_changes_nothing(make_heroes):
    (hero,) = make_heroes(1)
    with pytest.raises(Hero.DoesNotExist):
        Hero.objects.replace(hero.id + 1000, name="ghost", hero=True, power="", xp=1, color="red")
    assert Hero.objects.get(pk=hero.id).version == 1
