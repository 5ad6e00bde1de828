import pytest

from heroes.schema import COLORS, HeroRecord, RecordError, clean_color, clean_id, clean_record, encode_hero
from tests.conftest import ROOT


def test_a_record_accepts_the_original_events_strings_and_json_types():
    record = clean_record({"hero": "Yes", "name": " fireman ", "power": "fire", "color": "red", "xp": "10"})
    assert record == HeroRecord(name="fireman", hero=True, power="fire", xp=10, color="red")
    assert clean_record({"hero": False, "name": "x", "power": "", "color": "", "xp": 3.0}).xp == 3


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
    encoded = encode_hero(id=1, name='Ünï "quoted" <b>', hero=True, power="", xp=0, color="")
    assert encoded.decode() == '{"id":1,"name":"Ünï \\"quoted\\" <b>","hero":"yes","power":"","xp":0,"color":""}'


@pytest.mark.parametrize(
    "given, stored",
    [("blue", "blue"), (" Blue ", "blue"), ("BLUE", "blue"), ("grey", "gray"), ("Light  Grey", None), ("", "")],
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
