"""
The shape of a hero record coming from outside (Lambda events, CSV rows), and its checks.

The Lambda worker and the CSV importer accept the same fields with the same limits, so
both clean their input here. A failed check raises ``RecordError`` naming the field,
which each interface turns into its own error report (a 400 body, a CSV line number).
"""

import json
from dataclasses import dataclass
from typing import Any

MAX_NAME_LENGTH = 100
MAX_POWER_LENGTH = 100
MAX_COLOR_LENGTH = 50
# xp is stored as an unsigned 32-bit integer column on MySQL; SQLite has no such
# limit, so the check here is what keeps both databases accepting the same values.
MAX_XP = 2_147_483_647

RECORD_FIELDS = ("name", "hero", "power", "xp", "color")
# Built once: every record (a million per large import) is checked against them.
_FIELDS = frozenset(RECORD_FIELDS)
_FIELDS_AND_ID = _FIELDS | {"id"}
_HERO_TRUE = {"yes", "y", "true", "1"}
_HERO_FALSE = {"no", "n", "false", "0"}


class RecordError(ValueError):
    """A field of an incoming record is missing or invalid."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class HeroRecord:
    name: str
    hero: bool
    power: str
    xp: int
    color: str
    id: int | None = None


def clean_id(value: Any, *, field: str = "id") -> int:
    """A positive integer id, given as a JSON number or a string of digits."""
    # bool is a subclass of int in Python, but true is not an id.
    if isinstance(value, bool):
        raise RecordError(field, "must be a positive integer, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        number = int(value.strip())
    else:
        raise RecordError(field, f"must be a positive integer, not {_describe(value)}")
    if not 1 <= number <= 2**63 - 1:
        raise RecordError(field, "must be a positive integer")
    return number


def clean_record(data: Any, *, allow_id: bool = False) -> HeroRecord:
    """Check one incoming hero record and return it with typed values."""
    if not isinstance(data, dict):
        raise RecordError("record", f"must be an object, not {_describe(data)}")
    allowed = _FIELDS_AND_ID if allow_id else _FIELDS
    if not data.keys() <= allowed:
        unknown = sorted(str(key) for key in data if key not in allowed)
        raise RecordError(unknown[0], "is not a hero field (expected: " + ", ".join(sorted(allowed)) + ")")
    return HeroRecord(
        name=_clean_text(data, "name", MAX_NAME_LENGTH, required=True),
        hero=_clean_hero(data),
        power=_clean_text(data, "power", MAX_POWER_LENGTH),
        xp=_clean_xp(data),
        color=_clean_text(data, "color", MAX_COLOR_LENGTH),
        id=_clean_optional_id(data) if allow_id else None,
    )


def _clean_text(data: dict, field: str, max_length: int, *, required: bool = False) -> str:
    if field not in data:
        raise RecordError(field, "is required")
    value = data[field]
    if not isinstance(value, str):
        raise RecordError(field, f"must be a string, not {_describe(value)}")
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
    value = data["hero"]
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _HERO_TRUE:
            return True
        if word in _HERO_FALSE:
            return False
    raise RecordError("hero", f'must be "yes" or "no", not {_describe(value)}')


def _clean_xp(data: dict) -> int:
    if "xp" not in data:
        raise RecordError("xp", "is required")
    value = data["xp"]
    if isinstance(value, bool):
        raise RecordError("xp", "must be a non-negative integer, not a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
    if not isinstance(value, int) or value < 0:
        raise RecordError("xp", f"must be a non-negative integer, not {_describe(value)}")
    if value > MAX_XP:
        raise RecordError("xp", f"must be at most {MAX_XP}")
    return value


def _clean_optional_id(data: dict) -> int | None:
    value = data.get("id")
    if value is None or value == "":
        return None
    return clean_id(value)


def _describe(value: Any) -> str:
    """A short description of a bad value for an error message, never the whole value."""
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:20] + "..."
        return f"{shown!r}"
    if isinstance(value, (int, float)):
        return repr(value)
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


def encode_hero(*, id: int, name: str, hero: bool, power: str, xp: int, color: str) -> bytes:
    """
    The hero's JSON as the API returns it (the keys of the original event contract).

    The cache stores exactly these bytes, so a cache hit is spliced into a response as is.
    """
    return _encoder(
        {"id": id, "name": name, "hero": "yes" if hero else "no", "power": power, "xp": xp, "color": color}
    ).encode()


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
