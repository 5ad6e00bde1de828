"""
The Lambda worker: REQUEST/SQLS events served through the same selectors, services and
cache layer as the web app.

Django is set up once per container, when Lambda imports this module; warm invocations
reuse its database connection (CONN_MAX_AGE) and Redis pool. A direct invocation is not an
HTTP request, so Django's request signals that close stale connections never fire: the
handler calls ``close_old_connections`` itself at the start of each invocation.
"""

import json
import logging
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heroapp.settings")
django.setup()

from django.db import DatabaseError, DataError, IntegrityError, close_old_connections  # noqa: E402

from cache_worker.events import EventError, ReadRequest, parse_event  # noqa: E402
from heroes.selectors import get_heroes  # noqa: E402
from heroes.cache import get_hero_cache  # noqa: E402
from heroes.services import create_heroes  # noqa: E402

logger = logging.getLogger(__name__)

# Build the cache client (and import redis-py) while Lambda initialises the container,
# not during the first invocation. No connection is opened here.
get_hero_cache()


def lambda_handler(event, context=None) -> dict:
    started = time.perf_counter()
    # Only a known request kind is logged: the event is untrusted input.
    kind = event.get("REQUEST") if isinstance(event, dict) else None
    log = {"request": kind if kind in ("read", "write") else None}
    try:
        request = parse_event(event)
        log["count"] = len(request.ids if isinstance(request, ReadRequest) else request.records)
        close_old_connections()
        if isinstance(request, ReadRequest):
            result = get_heroes(ids=request.ids, use_cache=request.use_cache)
        else:
            result = create_heroes(records=request.records, write_through=request.use_cache)
        response = {"statusCode": 200, "body": result.json_array(), "meta": result.meta}
        log.update(_log_fields(result.meta))
    except EventError as exc:
        response = _error(400, exc.message, field=exc.field)
    except (IntegrityError, DataError) as exc:
        # The batch's transaction rolled back: nothing was written.
        response = _error(400, f"the database rejected the records: {exc.args[-1]}", field="SQLS")
    except DatabaseError as exc:
        logger.warning("database unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
        response = _error(503, "the database is unavailable; nothing was written, try again")
    except Exception:
        logger.exception("unhandled error in the worker")
        response = _error(500, "internal error")
    log["status"] = response["statusCode"]
    log["request_id"] = getattr(context, "aws_request_id", None)
    log["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
    logger.info("invocation", extra=log)
    return response


def _log_fields(meta: dict) -> dict:
    fields = {key: meta[key] for key in ("hits", "misses", "db_queries", "elapsed_ms", "cache") if key in meta}
    if "not_found" in meta:
        fields["not_found"] = len(meta["not_found"])
    if "created" in meta:
        fields["written"] = meta["created"]
    return fields


def _error(status: int, message: str, *, field: str | None = None) -> dict:
    body = {"error": message if field is None else f"{field}: {message}"}
    if field is not None:
        body["field"] = field
    return {"statusCode": status, "body": json.dumps(body, ensure_ascii=False)}
