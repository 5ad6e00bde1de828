"""
The Lambda entry point for the whole deployment (zappa_settings.json: "lambda_handler").

One function serves two kinds of traffic:

* REQUEST/SQLS events from direct invokers, through the same selectors, services and
  cache layer as the web app (the contract lives in heroes/events.py);
* everything Zappa knows (API Gateway and function URL requests, ``zappa manage``,
  ``zappa invoke`` commands, keep-warm pings, S3 notifications), handed to Zappa's handler.

Zappa's handler returns nothing for an event it does not recognise, so a misspelt direct
event would vanish silently; here anything that is neither kind gets a 400 naming REQUEST.

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

from aws_lambda_powertools import Metrics  # noqa: E402
from aws_lambda_powertools.metrics import MetricUnit  # noqa: E402
from django.db import close_old_connections  # noqa: E402

from heroes.cache import get_hero_cache  # noqa: E402
from heroes.events import error_response, serve_event  # noqa: E402

logger = logging.getLogger(__name__)

# CloudWatch metrics in Embedded Metric Format: one JSON line on stdout per invocation,
# which CloudWatch turns into metrics without an API call (powertools, about 13 ms of
# import on top of Django's set-up; measured in the README).
metrics = Metrics(namespace=os.environ.get("METRICS_NAMESPACE", "heroapp"), service="cache_worker")
_cold_start = True

# Build the cache client (and import redis-py) while Lambda initialises the container,
# not during the first invocation. No connection is opened here.
get_hero_cache()

# The top-level keys by which Zappa's handler recognises its events (zappa/handler.py).
ZAPPA_EVENT_KEYS = frozenset(
    {"httpMethod", "requestContext", "stageVariables", "rawPath", "detail-type", "command", "manage", "Records",
     "bot", "triggerSource", "awslogs", "raw_command"}
)


def lambda_handler(event, context=None):
    if isinstance(event, dict) and "REQUEST" not in event and ZAPPA_EVENT_KEYS.intersection(event):
        return _hand_to_zappa(event, context)
    return serve_direct_event(event, context)


def serve_direct_event(event, context=None) -> dict:
    global _cold_start
    cold_start, _cold_start = _cold_start, False
    started = time.perf_counter()
    close_old_connections()
    response, log = serve_event(event)
    log["request_id"] = getattr(context, "aws_request_id", None)
    log["cold_start"] = cold_start
    log["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
    logger.info("invocation", extra=log)
    _emit_metrics(log, cold_start=cold_start)
    return response


def _emit_metrics(log: dict, *, cold_start: bool) -> None:
    metrics.add_dimension(name="Request", value=log.get("request") or "invalid")
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=log["total_ms"])
    metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=log.get("hits", 0))
    metrics.add_metric(name="CacheMisses", unit=MetricUnit.Count, value=log.get("misses", 0))
    metrics.add_metric(name="DbQueries", unit=MetricUnit.Count, value=log.get("db_queries", 0))
    metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=int(log["status"] >= 400))
    if cold_start:
        metrics.add_metric(name="ColdStart", unit=MetricUnit.Count, value=1)
    if log.get("request_id"):
        metrics.add_metadata(key="request_id", value=log["request_id"])
    metrics.flush_metrics()


def _hand_to_zappa(event: dict, context):
    # raw_command executes the event's text as Python. Zappa leaves it to IAM to keep
    # it from non-admins, but the services allowed to invoke this function for data are
    # not admins: it is off unless the operator turns it on for a session.
    if "raw_command" in event and os.environ.get("HEROAPP_ALLOW_RAW_COMMAND") != "1":
        return error_response(400, "raw_command is disabled (set HEROAPP_ALLOW_RAW_COMMAND=1 to allow it)",
                              field="raw_command")
    # Imported on first use: direct events never pay for Zappa's WSGI machinery.
    from zappa.handler import lambda_handler as zappa_lambda_handler

    return zappa_lambda_handler(event, context)
