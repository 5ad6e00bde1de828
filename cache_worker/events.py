"""
The event contract of the Lambda worker, and its checks.

    {"REQUEST": "read",  "SQLS": [1, 2, 3], "USE_CACHE": "True"}
    {"REQUEST": "write", "SQLS": [{"name": ..., "hero": "yes", "power": ..., "xp": 10, "color": ...}],
     "USE_CACHE": "True"}

USE_CACHE is optional (default true) and may be "True"/"False" in any case or a JSON boolean.
A read takes at most HERO_MAX_READ_IDS ids; a write at most HERO_MAX_WRITE_RECORDS records.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from heroes.schema import HeroRecord, RecordError, clean_id, clean_record


class EventError(RecordError):
    """The event does not follow the contract; ``field`` names the offending part."""


@dataclass(frozen=True, slots=True)
class ReadRequest:
    ids: list[int]
    use_cache: bool


@dataclass(frozen=True, slots=True)
class WriteRequest:
    records: list[HeroRecord]
    use_cache: bool


def parse_event(event: Any) -> ReadRequest | WriteRequest:
    if not isinstance(event, dict):
        raise EventError("event", "must be a JSON object")
    if "REQUEST" not in event:
        raise EventError("REQUEST", 'is required ("read" or "write")')
    kind = event["REQUEST"]
    if kind not in ("read", "write"):
        raise EventError("REQUEST", f'must be "read" or "write", not {_short(kind)}')
    use_cache = _use_cache(event)
    if "SQLS" not in event:
        raise EventError("SQLS", "is required")
    items = event["SQLS"]
    if not isinstance(items, list):
        raise EventError("SQLS", "must be a list")
    if kind == "read":
        limit = settings.HERO_MAX_READ_IDS
        if len(items) > limit:
            raise EventError("SQLS", f"has {len(items)} ids; a read takes at most {limit}")
        return ReadRequest(ids=[_item(clean_id, value, i) for i, value in enumerate(items)], use_cache=use_cache)
    limit = settings.HERO_MAX_WRITE_RECORDS
    if len(items) > limit:
        raise EventError("SQLS", f"has {len(items)} records; a write takes at most {limit}")
    return WriteRequest(records=[_item(clean_record, value, i) for i, value in enumerate(items)], use_cache=use_cache)


def _item(clean, value, index: int):
    try:
        return clean(value)
    except RecordError as exc:
        field = f"SQLS[{index}]" if exc.field in ("id", "record") else f"SQLS[{index}].{exc.field}"
        raise EventError(field, exc.message) from None


def _use_cache(event: dict) -> bool:
    value = event.get("USE_CACHE", True)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise EventError("USE_CACHE", f'must be "True" or "False", not {_short(value)}')


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."
