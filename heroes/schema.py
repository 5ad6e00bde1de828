"""
The shape of a hero record coming from outside (Lambda events, CSV rows), and its checks.

The Lambda worker and the CSV importer accept the same fields with the same limits, so
both clean their input here. A failed check raises ``RecordError`` naming the field,
which each interface turns into its own error report (a 400 body, a CSV line number).

One coercion rule for every field (docs/security.md, "Errors"): a value of the field's JSON
type, or a string holding its text form ("10", "yes"); nothing else is converted.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

MAX_NAME_LENGTH = 100
MAX_POWER_LENGTH = 100
MAX_COLOR_LENGTH = 50
# xp is stored as an unsigned 32-bit integer column on MySQL; SQLite has no such
# limit, so the check here is what keeps both databases accepting the same values.
MAX_XP = 2_147_483_647
MAX_ID = 2**63 - 1  # a signed BIGINT

# The palette: a hero's color is one of these or empty, in the web form, the admin, the
# Lambda worker's events and the CSV importer alike (clean_color is the one rule). A fixed
# list keeps "Blue" and "blue" one color, gives every color a swatch, and makes the color
# filters a constant instead of a SELECT DISTINCT over the whole table.
COLORS = (
    "red",
    "orange",
    "yellow",
    "green",
    "teal",
    "blue",
    "purple",
    "pink",
    "brown",
    "black",
    "gray",
    "white",
    "silver",
    "gold",
)
# Other spellings accepted on the way in and stored as the palette's.
COLOR_ALIASES = {"grey": "gray", "violet": "purple", "golden": "gold", "cyan": "teal"}
COLOR_CHOICES = [(color, color.capitalize()) for color in COLORS]

_TRUE_WORDS = {"yes", "y", "true", "1"}
_FALSE_WORDS = {"no", "n", "false", "0"}
# The words exactly as clean_bool accepts them after stripping and lowering.
_BOOL_WORDS = {**dict.fromkeys(_TRUE_WORDS, True), **dict.fromkeys(_FALSE_WORDS, False)}


class RecordError(ValueError):
    """A field of an incoming record is missing or invalid."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class HeroRecord:
    """
    A hero's fields, the one place they are spelled: the model's columns, the JSON form,
    the forms, the importer and the services all follow RECORD_FIELDS, so adding a field
    is an edit here (its check in ``clean_record``) and a migration.
    """

    name: str
    hero: bool
    power: str
    xp: int
    color: str
    id: int | None = None

    def values(self) -> dict[str, Any]:
        """The record's fields (without the id), by name."""
        return {name: getattr(self, name) for name in RECORD_FIELDS}


RECORD_FIELDS = tuple(f.name for f in fields(HeroRecord) if f.name != "id")
# Built once: every record (a million per large import) is checked against them.
_FIELDS = frozenset(RECORD_FIELDS)
_FIELDS_AND_ID = _FIELDS | {"id"}
_PALETTE_OR_NONE = frozenset((*COLORS, ""))


def clean_id(value: Any, *, field: str = "id") -> int:
    """A positive integer id (1 to 2^63-1): a JSON integer or a string of digits."""
    number = _integer(value, field, "a positive integer")
    if not 1 <= number <= MAX_ID:
        raise RecordError(field, f"must be a positive integer up to {MAX_ID}, not {describe(value)}")
    return number


def clean_bool(value: Any, *, field: str, expected: str) -> bool:
    """
    A JSON boolean, or a string holding one of the words CSV files and the original
    events use (yes/no, true/false, y/n, 1/0, in any case). A number is not a boolean.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise RecordError(field, f"must be {expected} (or a JSON boolean), not {describe(value)}")


def _integer(value: Any, field: str, expected: str) -> int:
    """
    The one coercion rule for integers (docs/security.md): a JSON integer, or a string of
    ASCII digits (a CSV cell, the original events' "xp": "10"). Never a float, not even
    1.0: a float cannot hold every id exactly (2^53 + 1 is not one), so taking integral
    floats would make some requests silently name another row. Never a boolean.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        digits = value.strip()
        if digits.isdigit() and digits.isascii():
            return int(digits)
    raise RecordError(field, f"must be {expected}, not {describe(value)}")


def clean_record(data: Any, *, allow_id: bool = False) -> HeroRecord:
    """Check one incoming hero record and return it with typed values."""
    if not isinstance(data, dict):
        raise RecordError("record", f"must be an object, not {describe(data)}")
    allowed = _FIELDS_AND_ID if allow_id else _FIELDS
    if not data.keys() <= allowed:
        unknown = sorted(str(key) for key in data if key not in allowed)
        raise RecordError(unknown[0], "is not a hero field (expected: " + ", ".join(sorted(allowed)) + ")")
    return HeroRecord(
        name=_clean_text(data, "name", MAX_NAME_LENGTH, required=True),
        hero=_clean_hero(data),
        power=_clean_text(data, "power", MAX_POWER_LENGTH),
        xp=_clean_xp(data),
        color=clean_color(_clean_text(data, "color", MAX_COLOR_LENGTH)),
        id=_clean_optional_id(data) if allow_id else None,
    )


def row_cleaner(columns: Sequence[str]) -> Callable[[Sequence[str]], HeroRecord]:
    """
    ``clean_record(dict(zip(columns, values)), allow_id=True)`` for rows of strings in
    one column order (a CSV's), with the same result or the same RecordError.

    A large import checks a million rows, and the generic checks were a fifth of its
    time. Values that are plainly valid as they come (ASCII text within its limit, an
    exact yes/no word, a palette color, up to 9 or 18 ASCII digits) are checked inline;
    any other row goes through clean_record, which converts it or names the bad field.
    """
    at = {name: index for index, name in enumerate(columns)}
    name_at, hero_at, power_at, xp_at, color_at = (at[name] for name in RECORD_FIELDS)
    id_at = at.get("id")

    def clean(values: Sequence[str]) -> HeroRecord:
        name = values[name_at].strip()
        power = values[power_at].strip()
        hero = _BOOL_WORDS.get(values[hero_at])
        xp = values[xp_at]
        color = values[color_at]
        hero_id = None if id_at is None else values[id_at]
        if (
            name
            and len(name) <= MAX_NAME_LENGTH
            and name.isascii()
            and "\x00" not in name
            and len(power) <= MAX_POWER_LENGTH
            and power.isascii()
            and "\x00" not in power
            and hero is not None
            and xp.isdigit()
            and xp.isascii()
            and len(xp) <= 9  # below MAX_XP
            and color in _PALETTE_OR_NONE
            and (not hero_id or (hero_id.isdigit() and hero_id.isascii() and len(hero_id) <= 18))
        ):
            number = int(hero_id) if hero_id else None
            if number != 0:  # "0" (or "000") is not an id: clean_record says so
                return HeroRecord(name=name, hero=hero, power=power, xp=int(xp), color=color, id=number)
        return clean_record(dict(zip(columns, values)), allow_id=True)

    return clean


def clean_color(value: str) -> str:
    """
    A palette color (or "" for none) from any case and spacing: " Blue " is "blue", "grey"
    is "gray"; anything else ("dark blue", "#00f") is an error listing the palette.
    """
    color = " ".join(value.split()).lower()
    color = COLOR_ALIASES.get(color, color)
    if color and color not in COLORS:
        raise RecordError("color", f"must be one of {', '.join(COLORS)} (or empty), not {describe(value)}")
    return color


def _clean_text(data: dict, field: str, max_length: int, *, required: bool = False) -> str:
    if field not in data:
        raise RecordError(field, "is required")
    value = data[field]
    if not isinstance(value, str):
        raise RecordError(field, f"must be a string, not {describe(value)}")
    value = value.strip()
    if required and not value:
        raise RecordError(field, "must not be empty")
    if len(value) > max_length:
        raise RecordError(field, f"must be at most {max_length} characters (got {len(value)})")
    # MySQL's utf8mb4 stores any Unicode scalar value, but a NUL byte is almost always
    # a sign of binary junk, and lone surrogates cannot be encoded at all.
    if "\x00" in value:
        raise RecordError(field, "must not contain NUL characters")
    if not value.isascii():  # ASCII always encodes: most values skip building the bytes
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(field, "must be valid Unicode text") from None
    return value


def _clean_hero(data: dict) -> bool:
    if "hero" not in data:
        raise RecordError("hero", "is required")
    return clean_bool(data["hero"], field="hero", expected='"yes" or "no"')


def _clean_xp(data: dict) -> int:
    if "xp" not in data:
        raise RecordError("xp", "is required")
    value = _integer(data["xp"], "xp", "a non-negative integer")
    if value < 0:
        raise RecordError("xp", f"must be a non-negative integer, not {describe(data['xp'])}")
    if value > MAX_XP:
        raise RecordError("xp", f"must be at most {MAX_XP}, not {describe(data['xp'])}")
    return value


def _clean_optional_id(data: dict) -> int | None:
    value = data.get("id")
    if value is None or value == "":
        return None
    return clean_id(value)


def describe(value: Any) -> str:
    """
    A bad value for an error message, in JSON's spelling (null, true, "text", ["read"]),
    cut to a few dozen characters. Never fails: a value nested too deeply to encode (a
    body of 3,000 "[") or a number too long to print is described by its type.
    """
    try:
        text = json.dumps(value, ensure_ascii=False)
        # A lone surrogate (valid in a JSON escape, not in UTF-8) is shown escaped.
        if not text.isascii() and not _encodable(text):
            text = json.dumps(value)
    except (RecursionError, ValueError, TypeError):
        return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


_SHOWN = 40


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encode_hero(hero_id: int, values: Sequence[Any]) -> bytes:
    """
    The hero's JSON as the API returns it (the keys of the original event contract), from
    its id and its RECORD_FIELDS ``values`` in that order.

    The cache stores exactly these bytes, so a cache hit is spliced into a response as is.
    """
    data = {"id": hero_id, **dict(zip(RECORD_FIELDS, values))}
    data["hero"] = "yes" if data["hero"] else "no"
    return _encoder(data).encode()


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
