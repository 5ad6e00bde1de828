import io

import boto3
import pytest
from django.core.management import CommandError, call_command

from heroes.importer import SourceError, import_heroes
from heroes.models import Hero
from heroes.sample import SAMPLE_CSV, generate_rows
from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "id,name,hero,power,xp,color\n"


@pytest.mark.embedded
def test_the_sample_data_imports_cleanly():
    report = import_heroes(source=str(SAMPLE_CSV), batch_size=64)
    assert (report.rows, report.created, report.updated, report.invalid) == (300, 300, 0, 0)
    assert Hero.objects.count() == 300
    assert get_heroes(ids=[1, 300]).not_found == []


def test_rows_with_ids_are_upserted_and_stale_cache_entries_replaced(csv_file):
    """A re-import replaces changed rows in place, bumps versions, and reads see it."""
    import_heroes(source=csv_file(HEADER + "10,Old Name,yes,fire,1,red\n11,Other,no,ice,2,blue\n"))
    assert get_heroes(ids=[10]).heroes[0]["name"] == "Old Name"  # now cached

    report = import_heroes(source=csv_file(HEADER + "10,New Name,no,ice,5,blue\n12,Third,yes,speed,3,gold\n"))

    assert (report.created, report.updated) == (1, 1)
    assert Hero.objects.get(pk=10).version == 2
    after = get_heroes(ids=[10, 11, 12])
    assert [h["name"] for h in after.heroes] == ["New Name", "Other", "Third"]
    assert after.heroes[0]["hero"] == "no" and after.heroes[0]["xp"] == 5


def test_rows_without_ids_are_created_and_the_last_row_for_an_id_wins(csv_file):
    text = "name,hero,power,xp,color\nA,yes,fire,1,red\nB,no,ice,2,blue\n"
    assert import_heroes(source=csv_file(text)).created == 2
    text = HEADER + "5,First,yes,fire,1,red\n5,Second,yes,fire,1,red\n"
    report = import_heroes(source=csv_file(text, "dupes.csv"))
    assert Hero.objects.get(pk=5).name == "Second" and report.created == 1


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_kept(csv_file):
    text = (
        HEADER
        + "1,Good One,yes,fire,1,red\n"
        + "2,,yes,fire,1,red\n"  # line 3: empty name
        + "3,Bad Xp,yes,fire,-4,red\n"  # line 4
        + '4,"Multi\nline name",yes,fire,1,red\n'  # lines 5-6, valid
        + "5,Bad Hero,maybe,fire,1,red\n"  # line 7
        + "6,Too,few\n"  # line 8
    )
    report = import_heroes(source=csv_file(text))

    assert [(e.line, e.field) for e in report.errors] == [(3, "name"), (4, "xp"), (7, "hero"), (8, "row")]
    assert report.invalid == 4 and report.created == 2
    assert set(Hero.objects.values_list("id", flat=True)) == {1, 4}


def test_strict_mode_writes_nothing_when_any_row_is_bad(csv_file, hero_cache):
    rows = "".join(f"{i},Hero {i},yes,fire,{i},red\n" for i in range(1, 51))
    report = import_heroes(
        source=csv_file(HEADER + rows + "51,Bad,yes,fire,lots,red\n"), strict=True, batch_size=10
    )

    assert report.committed is False and report.invalid == 1 and report.errors[0].line == 52
    assert Hero.objects.count() == 0
    assert hero_cache.lookup([1, 50]) == {1: None, 50: None}


def test_warm_cache_stores_every_imported_hero(csv_file):
    rows = "".join(f"{i},Hero {i},yes,fire,{i},red\n" for i in range(1, 21))
    import_heroes(source=csv_file(HEADER + rows), warm_cache=True, batch_size=7)
    result = get_heroes(ids=list(range(1, 21)))
    assert result.hits == 20 and result.db_queries == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("name,hero,power,xp\n", "missing: color"),
        ("name,hero,power,xp,color,alias\n", "unknown: alias"),
    ],
)
def test_a_bad_header_is_refused_before_anything_is_written(csv_file, text, message):
    with pytest.raises(SourceError, match=message):
        import_heroes(source=csv_file(text))


def test_the_command_reports_counts_and_errors(csv_file):
    out, err = io.StringIO(), io.StringIO()
    path = csv_file(HEADER + "1,A,yes,fire,1,red\n2,B,yes,fire,x,red\n")
    call_command("import_heroes", path, "--no-progress", stdout=out, stderr=err)
    assert "1 created, 0 updated, 1 invalid" in out.getvalue()
    assert "line 3: xp: must be a non-negative integer" in err.getvalue()


def test_the_command_fails_clearly_for_a_missing_file_or_a_strict_failure(csv_file, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_heroes", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_heroes", csv_file(HEADER + "1,A,yes,fire,x,red\n"), "--strict", stderr=io.StringIO()
        )


# S3, through moto's server mode over HTTP ------------------------------------------


@pytest.fixture
def s3_server(aws):
    return boto3.client("s3")


def test_import_from_s3_streams_the_object_through_boto3(s3_server):
    s3_server.create_bucket(Bucket="hero-imports")
    s3_server.put_object(Bucket="hero-imports", Key="batch/heroes.csv", Body=SAMPLE_CSV.read_bytes())

    out = io.StringIO()
    call_command("import_heroes", "s3://hero-imports/batch/heroes.csv", "--no-progress", stdout=out)

    assert "300 created" in out.getvalue()
    assert Hero.objects.count() == 300


def test_a_missing_s3_object_is_a_clear_error(s3_server):
    s3_server.create_bucket(Bucket="hero-imports")
    with pytest.raises(SourceError, match="NoSuchKey"):
        import_heroes(source="s3://hero-imports/missing.csv")
    with pytest.raises(SourceError, match="s3://bucket/key"):
        import_heroes(source="s3://hero-imports")


def test_csv_colors_follow_the_palette_rule(csv_file):
    """The importer normalises colors as the form and the worker do, and reports the rest by line."""
    text = HEADER + "1,Upper,yes,fire,1,Blue\n2,Grey,yes,fire,1,grey\n3,Described,yes,fire,1,dark blue\n"
    report = import_heroes(source=csv_file(text))
    assert dict(Hero.objects.values_list("name", "color")) == {"Upper": "blue", "Grey": "gray"}
    assert [str(error) for error in report.errors] == [
        "line 4: color: must be one of red, orange, yellow, green, teal, blue, purple, pink, brown, black, "
        'gray, white, silver, gold (or empty), not "dark blue"'
    ]


def test_the_sample_data_has_distinct_names_and_palette_colors():
    """No "Atomic Arrow" three times: every generated name is different, every color a palette one."""
    import csv

    from heroes.schema import COLORS

    with open(SAMPLE_CSV, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len({row["name"] for row in rows}) == len(rows) == 300
    assert {row["color"] for row in rows} <= set(COLORS)
    many = [row[1] for row in generate_rows(1200)]
    assert len(set(many)) == 1200
