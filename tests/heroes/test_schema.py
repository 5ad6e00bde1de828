import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heroes import schema
from heroes.schema import (
    COLORS,
    HeroRecord,
    RecordError,
    clean_bool,
    clean_color,
    clean_id,
    clean_record,
    encode_hero,
    row_cleaner,
)
from tests.conftest import ROOT


def test_a_record_accepts_the_original_events_strings_and_json_types():
    record = clean_record({"hero": "Yes", "name": " fireman ", "power": "fire", "color": "red", "xp": "10"})
    assert record == HeroRecord(name="fireman", hero=True, power="fire", xp=10, color="red")
    assert clean_record({"hero": False, "name": "x", "power": "", "color": "", "xp": 3}).xp == 3


# One coercion rule for every field: its JSON type, or a string holding its text form;
# nothing else converts (docs/security.md, "Errors").


def clean_xp(value):
    return clean_record({"hero": "no", "name": "x", "power": "", "color": "", "xp": value}).xp


def clean_hero(value):
    return clean_record({"hero": value, "name": "x", "power": "", "color": "", "xp": 1}).hero


def clean_use_cache(value):
    return clean_bool(value, field="USE_CACHE", expected='"True" or "False"')


INTEGER_FIELDS = [clean_id, clean_xp]
BOOLEAN_FIELDS = [clean_hero, clean_use_cache]


@pytest.mark.parametrize("clean", INTEGER_FIELDS)
@pytest.mark.parametrize("value, expected", [(7, 7), ("7", 7), (" 7 ", 7)])
def test_integers_are_json_integers_or_digit_strings(clean, value, expected):
    assert clean(value) == expected


@pytest.mark.parametrize("clean", INTEGER_FIELDS)
@pytest.mark.parametrize(
    "value", [1.0, 7.0, 1.5, 1e3, True, False, "1.0", "1e3", "+7", "٧", None, [7], {"v": 7}]
)
def test_integers_are_never_floats_booleans_or_other_strings(clean, value):
    with pytest.raises(RecordError):
        clean(value)


def test_a_float_id_would_name_another_row_so_none_is_taken():
    """Why 1.0 is refused too: a float cannot hold every id (2^53 + 1 parses as 2^53)."""
    assert int(float(2**53 + 1)) == 2**53
    with pytest.raises(RecordError):
        clean_id(float(2**53 + 1))


@pytest.mark.parametrize("clean", BOOLEAN_FIELDS)
@pytest.mark.parametrize(
    "value, expected",
    [
        (True, True),
        (False, False),
        ("yes", True),
        ("No", False),
        ("TRUE", True),
        ("false", False),
        ("y", True),
        ("n", False),
        ("1", True),
        ("0", False),
    ],
)
def test_booleans_are_json_booleans_or_yes_no_words(clean, value, expected):
    assert clean(value) is expected


@pytest.mark.parametrize("clean", BOOLEAN_FIELDS)
@pytest.mark.parametrize("value", [1, 0, 1.0, None, "", "maybe", ["yes"]])
def test_booleans_are_never_numbers_or_other_values(clean, value):
    with pytest.raises(RecordError):
        clean(value)


@pytest.mark.parametrize("field", ["name", "power", "color"])
@pytest.mark.parametrize("value", [1, 1.5, True, None, ["x"]])
def test_text_is_only_json_strings(field, value):
    data = {"hero": "no", "name": "x", "power": "", "color": "", "xp": 1, field: value}
    with pytest.raises(RecordError) as error:
        clean_record(data)
    assert error.value.field == field


@pytest.mark.parametrize("value", ["10.5", 10.5, "1e3", "", None, [], "٣"])
def test_xp_must_be_a_whole_non_negative_number(value):
    with pytest.raises(RecordError) as error:
        clean_record({"hero": "no", "name": "x", "power": "", "color": "", "xp": value})
    assert error.value.field == "xp"


def test_text_fields_refuse_nul_characters_and_lone_surrogates():
    for bad in ("a\x00b", "\ud800"):
        with pytest.raises(RecordError, match="name"):
            clean_record({"hero": "no", "name": bad, "power": "", "color": "", "xp": 1})


def test_ids_are_positive_and_fit_a_bigint():
    assert clean_id("42") == 42
    for bad in (-1, 2**63, "4 2", "0x10"):
        with pytest.raises(RecordError):
            clean_id(bad)


def test_the_json_form_keeps_unicode_and_escapes_what_json_must():
    encoded = encode_hero(1, ['Ünï "quoted" <b>', True, "", 0, ""])
    assert (
        encoded.decode() == '{"id":1,"name":"Ünï \\"quoted\\" <b>","hero":"yes","power":"","xp":0,"color":""}'
    )


def test_the_hero_fields_are_spelled_once_and_the_model_the_json_and_the_record_agree():
    """RECORD_FIELDS comes from HeroRecord; the model's data columns and the JSON keys follow it."""
    import json

    from heroes.models import Hero
    from heroes.schema import RECORD_FIELDS, HeroRecord, encode_hero

    bookkeeping = {"id", "version", "created_at", "updated_at"}
    assert {f.name for f in Hero._meta.get_fields() if f.concrete} - bookkeeping == set(RECORD_FIELDS)
    record = HeroRecord(name="Ada", hero=False, power="math", xp=7, color="red")
    assert list(record.values()) == list(RECORD_FIELDS)
    encoded = json.loads(encode_hero(5, list(record.values().values())))
    assert list(encoded) == ["id", *RECORD_FIELDS]
    assert encoded == {"id": 5, "name": "Ada", "hero": "no", "power": "math", "xp": 7, "color": "red"}
    assert Hero(id=5, **record.values()).to_json() == encode_hero(5, list(record.values().values()))


@pytest.mark.parametrize(
    "given, stored",
    [
        ("blue", "blue"),
        (" Blue ", "blue"),
        ("BLUE", "blue"),
        ("grey", "gray"),
        ("Light  Grey", None),
        ("", ""),
    ],
)
def test_colors_are_palette_colors_in_any_case_or_empty(given, stored):
    """One rule for every way in: "Blue" and "blue" are one color; a description is an error."""
    data = {"hero": "yes", "name": "x", "power": "", "xp": 1, "color": given}
    if stored is None:
        with pytest.raises(RecordError) as error:
            clean_record(data)
        assert error.value.field == "color" and "must be one of red, orange" in error.value.message
    else:
        assert clean_record(data).color == stored
        assert clean_color(given) == stored


def test_every_palette_color_has_a_swatch_in_the_stylesheet():
    """The list and detail pages draw a swatch per palette color; none may be missing."""
    css = (ROOT / "heroes" / "static" / "heroes" / "site.css").read_text()
    assert [color for color in COLORS if f".swatch-{color} " not in css] == []


# Cells a CSV may hold: the fast path's edges (limits, digit counts, exact words, palette
# colors) and what only clean_record converts or refuses (case, spaces, non-ASCII, NUL,
# lone surrogates, zero ids, numbers past the limits).
EDGE_CELLS = [
    *["", " ", "0", "000", "007", "1", "-1", "1.0", " 5", "\u0665"],
    *["yes", "no", "Yes", " no", "y", "TRUE", "false", "2"],
    *[*COLORS, "grey", " Blue ", "dark blue", "#00f"],
    *["9" * 9, "9" * 10, str(2**31 - 1), str(2**31), "1" * 18, "1" * 19, str(2**63 - 1), str(2**63)],
    *["a" * 100, "a" * 101, " " + "a" * 100 + " ", "\u00fc" * 100, "x\x00y", "\ud800", "\u2003Name\u2003"],
]
CSV_COLUMNS = ["color", "xp", "name", "power", "hero", "id"]
PLAIN_ROW = ["red", "10", "Ace", "fire", "yes", "7"]


def assert_cleaned_alike(columns, values):
    try:
        expected = clean_record(dict(zip(columns, values)), allow_id=True)
    except RecordError as exc:
        with pytest.raises(RecordError) as raised:
            row_cleaner(columns)(values)
        assert (raised.value.field, raised.value.message) == (exc.field, exc.message)
    else:
        assert row_cleaner(columns)(values) == expected


@pytest.mark.parametrize("column", range(len(CSV_COLUMNS)))
def test_the_csv_row_cleaner_agrees_with_clean_record_on_every_edge(column):
    """The importer's fast path accepts, converts and refuses exactly as clean_record does."""
    for cell in EDGE_CELLS:
        values = [*PLAIN_ROW[:column], cell, *PLAIN_ROW[column + 1 :]]
        assert_cleaned_alike(CSV_COLUMNS, values)
        assert_cleaned_alike(CSV_COLUMNS[:5], values[:5])


@settings(max_examples=2000, deadline=None)
@given(
    row=st.tuples(
        *(st.one_of(st.just(cell), st.sampled_from(EDGE_CELLS), st.text(max_size=8)) for cell in PLAIN_ROW)
    )
)
def test_the_csv_row_cleaner_agrees_with_clean_record_on_mixed_rows(row):
    assert_cleaned_alike(CSV_COLUMNS, list(row))


def test_the_csv_row_cleaner_takes_plain_rows_without_the_generic_checks(monkeypatch):
    """A row of ordinary values never reaches clean_record (the import's speed depends on it)."""
    monkeypatch.setattr(schema, "clean_record", None)
    record = row_cleaner(["id", "name", "hero", "power", "xp", "color"])(
        ["7", " Ace ", "yes", "fire", "10", "red"]
    )
    assert record == HeroRecord(name="Ace", hero=True, power="fire", xp=10, color="red", id=7)
