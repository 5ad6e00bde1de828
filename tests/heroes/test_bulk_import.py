"""The importer's bulk path on MariaDB (heroes/bulk_import.py): staging table, merge, cache."""

import pytest
from django.db import connection

from heroes import bulk_import
from heroes.importer import import_heroes
from heroes.models import Hero
from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "id,name,hero,power,xp,color\n"


def test_values_with_tabs_backslashes_and_newlines_arrive_unchanged(csv_file):
    """The staging file's escaping is undone by the server: the stored text is the CSV's."""
    name = 'Back\\slash\tTab "quoted"\r\nnext'
    import_heroes(source=csv_file(HEADER + '1,"Back\\slash\tTab ""quoted""\r\nnext",yes,x\\y\tz,1,red\n'))
    hero = Hero.objects.get(pk=1)
    assert (hero.name, hero.power, hero.color) == (name.strip(), "x\\y\tz", "red")


def test_rows_without_ids_get_ids_in_file_order_across_chunks(csv_file):
    rows = "".join(f"Hero {i},yes,fire,{i},red\n" for i in range(25))
    report = import_heroes(source=csv_file("name,hero,power,xp,color\n" + rows), batch_size=4)
    assert report.created == 25
    assert list(Hero.objects.order_by("id").values_list("xp", flat=True)) == list(range(25))


def test_an_id_cached_as_missing_is_served_fresh_after_the_import_creates_it(csv_file, hero_cache):
    """A "not found" cached before the import must not outlive it, for given and new ids."""
    assert get_heroes(ids=[7, 8]).not_found == [7, 8]  # now cached as missing
    import_heroes(source=csv_file(HEADER + "7,Seven,yes,fire,7,red\n,Auto,no,ice,1,blue\n"))
    new_id = Hero.objects.get(name="Auto").pk
    result = get_heroes(ids=[7, new_id])
    assert [h["name"] for h in result.heroes] == ["Seven", "Auto"] and result.not_found == []


def test_versions_follow_each_committed_change_and_the_cache_is_refused_older_data(csv_file, hero_cache):
    import_heroes(source=csv_file(HEADER + "3,V1,yes,fire,1,red\n"), warm_cache=True)
    import_heroes(source=csv_file(HEADER + "3,V2,yes,fire,1,red\n"))
    assert Hero.objects.get(pk=3).version == 2
    # A late write-back of version 1 (a read that began before the second import) is refused.
    hero_cache.store_heroes([(3, 1, b'{"id":3,"name":"V1"}')])
    assert get_heroes(ids=[3]).heroes[0]["name"] == "V2"


def test_a_strict_import_that_fails_in_a_later_chunk_writes_nothing(csv_file, hero_cache):
    rows = "".join(f"{i},Hero {i},yes,fire,{i},red\n" for i in range(1, 30))
    report = import_heroes(source=csv_file(HEADER + rows + "30,,yes,fire,1,red\n"), strict=True, batch_size=5)
    assert report.committed is False and Hero.objects.count() == 0


def test_the_app_connection_keeps_local_infile_off():
    """Only the importer's own connection may let the server ask for client files."""
    assert "local_infile" not in connection.get_connection_params()


def test_a_chunk_of_new_ids_is_loaded_without_the_staging_merge(csv_file, hero_cache):
    """New heroes go straight into the table (the fast path); existing ones are merged."""
    assert get_heroes(ids=[2]).not_found == [2]  # now cached as missing
    report = import_heroes(source=csv_file(HEADER + "1,One,yes,fire,1,red\n2,Two,no,ice,2,blue\n"))
    assert (report.created, report.updated, report.timings["merge"]) == (2, 0, 0.0)
    assert get_heroes(ids=[2]).heroes[0]["name"] == "Two"  # the marker at version 1 took effect

    report = import_heroes(source=csv_file(HEADER + "2,Two again,no,ice,2,blue\n3,Three,yes,fire,3,red\n"))
    assert (report.created, report.updated) == (1, 1) and report.timings["merge"] > 0
    assert Hero.objects.get(pk=2).version == 2


def test_a_hero_created_after_the_range_check_is_merged_not_skipped(csv_file, hero_cache, monkeypatch):
    """
    LOAD DATA LOCAL skips a duplicate id; a hero created between the range check and the
    load must still be updated (version 2), and the chunk's other rows created once.
    """
    import_heroes(source=csv_file(HEADER + "2,Before,yes,fire,1,red\n"))
    assert get_heroes(ids=[2]).heroes[0]["name"] == "Before"  # now cached at version 1
    monkeypatch.setattr(bulk_import, "ANY_IN_RANGE", "SELECT %s > %s")  # sees nothing, as in the race

    report = import_heroes(
        source=csv_file(HEADER + "1,One,yes,fire,1,red\n2,Two,no,ice,2,blue\n3,Three,yes,x,3,red\n")
    )

    assert (report.created, report.updated) == (2, 1)
    assert dict(Hero.objects.values_list("id", "version")) == {1: 1, 2: 2, 3: 1}
    assert get_heroes(ids=[2]).heroes[0]["name"] == "Two"
