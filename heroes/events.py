"""
The REQUEST/SQLS event contract, served the same way to every caller.

The Lambda worker (cache_worker/handler.py) and the JSON endpoint (heroes/api.py) both
call ``serve_event``, so direct invokers and HTTP clients see one contract:

    {"REQUEST": "read",  "SQLS": [1, 2, 3], "USE_CACHE": "True"}
    {"REQUEST": "write", "SQLS": [{"name": ..., "hero": "yes", "power": ..., "xp": 10, "color": ...}],
     "USE_CACHE": "True"}

USE_CACHE is optional (default true) and may be "True"/"False" in any case or a JSON boolean.
Values follow one rule (heroes/schema.py, docs/security.md): a field's JSON type, or a string
holding its text form ("10", "yes"); no other conversion (1.0 is not an integer, 1 not a boolean).
A read takes at most HERO_MAX_READ_IDS ids; a write at most HERO_MAX_WRITE_RECORDS records.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError

from heroes.schema import MAX_ID, HeroRecord, RecordError, clean_bool, clean_id, clean_record, describe
from heroes.selectors import get_heroes
from heroes.services import create_heroes

logger = logging.getLogger(__name__)


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
        raise EventError("event", f"must be a JSON object, not {describe(event)}")
    if "REQUEST" not in event:
        raise EventError("REQUEST", 'is required ("read" or "write")')
    kind = event["REQUEST"]
    if kind not in ("read", "write"):
        raise EventError("REQUEST", f'must be "read" or "write", not {describe(kind)}')
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
        # A JSON integer in range is an id as it is: checked inline, since every read checks
        # each of its ids; anything else takes clean_id's full rules and error message.
        ids = [
            value if type(value) is int and 0 < value <= MAX_ID else _id(value, i)
            for i, value in enumerate(items)
        ]
        return ReadRequest(ids=ids, use_cache=use_cache)
    limit = settings.HERO_MAX_WRITE_RECORDS
    if len(items) > limit:
        raise EventError("SQLS", f"has {len(items)} records; a write takes at most {limit}")
    return WriteRequest(records=[_record(value, i) for i, value in enumerate(items)], use_cache=use_cache)


def _id(value: Any, index: int) -> int:
    try:
        return clean_id(value, field=f"SQLS[{index}]")
    except RecordError as exc:
        raise EventError(exc.field, exc.message) from None


def _record(value: Any, index: int) -> HeroRecord:
    try:
        return clean_record(value)
    except RecordError as exc:
        # "record" is the item itself; anything else is one of its keys, "id" included.
        field = f"SQLS[{index}]" if exc.field == "record" else f"SQLS[{index}].{exc.field}"
        raise EventError(field, exc.message) from None


def _use_cache(event: dict) -> bool:
    value = event.get("USE_CACHE", True)
    if value is True or value == "True":  # the default and the contract's own spelling
        return True
    try:
        return clean_bool(value, field="USE_CACHE", expected='"True" or "False"')
    except RecordError as exc:
        raise EventError(exc.field, exc.message) from None


def serve_event(event: Any) -> tuple[dict, dict]:
    """
    Serve one event. Returns the response ({"statusCode", "body"[, "meta"]}) and the
    fields worth logging about it. Never raises: every failure is a response.
    """
    # Only a known request kind is logged: the event is untrusted input.
    kind = event.get("REQUEST") if isinstance(event, dict) else None
    log: dict = {"request": kind if kind in ("read", "write") else None}
    try:
        request = parse_event(event)
        if isinstance(request, ReadRequest):
            log["count"] = len(request.ids)
            result = get_heroes(ids=request.ids, use_cache=request.use_cache)
        else:
            log["count"] = len(request.records)
            result = create_heroes(records=request.records, write_through=request.use_cache)
        meta = result.meta
        response = {"statusCode": 200, "body": result.json_array(), "meta": meta}
        log.update(_log_fields(meta))
    except EventError as exc:
        response = error_response(400, exc.message, field=exc.field)
    except (IntegrityError, DataError) as exc:
        # The batch's transaction rolled back: nothing was written.
        response = error_response(400, f"the database rejected the records: {exc.args[-1]}", field="SQLS")
    except DatabaseError as exc:
        logger.warning("database unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
        # A batch is all or nothing, but if the connection died during COMMIT nobody can
        # know which: the caller is told so rather than promised that nothing was written.
        message = "the database is unavailable; try again"
        if log.get("request") == "write":
            message += " (the batch was not confirmed: it is either fully written or not at all)"
        response = error_response(503, message)
    except Exception:
        logger.exception("unhandled error serving an event")
        response = error_response(500, "internal error")
    log["status"] = response["statusCode"]
    return response, log


def error_response(status: int, message: str, *, field: str | None = None) -> dict:
    body = {"error": message if field is None else f"{field}: {message}"}
    if field is not None:
        body["field"] = field
    return {"statusCode": status, "body": json.dumps(body, ensure_ascii=False)}


def _log_fields(meta: dict) -> dict:
    fields = {
        key: meta[key] for key in ("hits", "misses", "db_queries", "elapsed_ms", "cache") if key in meta
    }
    if "not_found" in meta:
        fields["not_found"] = len(meta["not_found"])
    if "created" in meta:
        fields["written"] = meta["created"]
    return fields
