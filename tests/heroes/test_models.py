"""The hero model's statements that skip the ORM's compiler: what they read and write."""

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.db.transaction import TransactionManagementError
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


def test_cache_rows_takes_ids_as_the_orm_does(make_heroes):
    """Ids are made integers first: a string that is no integer is an error, not a cast by MySQL."""
    (hero,) = make_heroes(1)
    assert [row[0] for row in Hero.objects.cache_rows([str(hero.id)])] == [hero.id]
    with pytest.raises(ValueError):
        Hero.objects.cache_rows([f"{hero.id}abc"])


def test_cache_rows_reads_as_many_ids_as_asked(make_heroes):
    """Beyond the 128 ids whose statement texts are kept, the text is built for the call."""
    heroes = make_heroes(300)
    rows = Hero.objects.cache_rows([h.id for h in heroes], from_writer=True)
    assert sorted(row[0] for row in rows) == sorted(h.id for h in heroes)


def test_replace_round_trips_each_kind_of_value(make_heroes):
    """Text, booleans, the largest xp and the update time are stored as given."""
    (hero,) = make_heroes(1)

    version, updated_at = Hero.objects.replace(
        hero.id, name="Zoë ✈ O'Brien 100%s", hero=False, power="", xp=schema.MAX_XP, color="blue"
    )

    stored = Hero.objects.get(pk=hero.id)
    assert (stored.name, stored.hero, stored.power, stored.xp, stored.color) == (
        "Zoë ✈ O'Brien 100%s",
        False,
        "",
        schema.MAX_XP,
        "blue",
    )
    assert stored.version == version == 2
    assert stored.updated_at == updated_at and updated_at.tzinfo is not None


def test_a_failed_replace_inside_a_transaction_lets_nothing_of_it_commit(make_heroes):
    """
    On MySQL, as with QuerySet.update(): the error marks the transaction for rollback, so a
    caller that catches it cannot go on to commit the transaction's other writes (after a
    deadlock the server has already rolled back what came before).
    """
    if connection.vendor != "mysql":
        pytest.skip("elsewhere replace() runs in a savepoint of its own, which takes the failure")
    (hero,) = make_heroes(1)
    with pytest.raises(TransactionManagementError), transaction.atomic():
        Hero.objects.create(name="written before the failure")
        with pytest.raises(IntegrityError):
            Hero.objects.replace(hero.id, name="", hero=True, power="", xp=1, color="red")
        Hero.objects.create(name="written after it")
    assert list(Hero.objects.values_list("id", flat=True)) == [hero.id]


def test_replace_refuses_expressions_it_would_store_as_text(make_heroes):
    if connection.vendor != "mysql":
        pytest.skip("elsewhere replace() is the ORM's update, which takes expressions")
    (hero,) = make_heroes(1)
    with pytest.raises(TypeError, match="plain values"):
        Hero.objects.replace(hero.id, name="x", hero=True, power="", xp=models.F("xp") + 1, color="red")


def test_replace_of_a_missing_row_raises_and_changes_nothing(make_heroes):
    (hero,) = make_heroes(1)
    with pytest.raises(Hero.DoesNotExist):
        Hero.objects.replace(hero.id + 1000, name="ghost", hero=True, power="", xp=1, color="red")
    assert Hero.objects.get(pk=hero.id).version == 1
