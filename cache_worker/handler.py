"""
The Lambda worker: REQUEST/SQLS events served through the same selectors, services and
cache layer as the web app (the contract lives in heroes/events.py).

Django is set up once per container, when Lambda imports this module; warm invocations
reuse its database connection (CONN_MAX_AGE) and Redis pool. A direct invocation is not an
HTTP request, so Django's request signals that close stale connections never fire: the
handler calls ``close_old_connections`` itself at the start of each invocation.
"""

import logging
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heroapp.settings")
django.setup()

from django.db import close_old_connections  # noqa: E402

from heroes.cache import get_hero_cache  # noqa: E402
from heroes.events import serve_event  # noqa: E402

logger = logging.getLogger(__name__)

# Build the cache client (and import redis-py) while Lambda initialises the container,
# not during the first invocation. No connection is opened here.
get_hero_cache()


def lambda_handler(event, context=None) -> dict:
    started = time.perf_counter()
    close_old_connections()
    response, log = serve_event(event)
    log["request_id"] = getattr(context, "aws_request_id", None)
    log["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
    logger.info("invocation", extra=log)
    return response
