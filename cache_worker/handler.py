"""
The Lambda entry point for the whole deployment (zappa_settings.json: "lambda_handler").

One function serves two kinds of traffic:

* REQUEST/SQLS events from direct invokers, through the same selectors, services and
  cache layer as the web app (the contract lives in heroes/events.py);
* everything Zappa knows (API Gateway and function URL requests, ``zappa manage``,
  ``zappa invoke`` commands, keep-warm pings, S3 notifications), handed to Zappa's handler
  if cache_worker/invocations.py allows it: events that would run other code get a 400.

Zappa's handler returns nothing for an event it does not recognise, so a misspelt direct
event would vanish silently; here anything that is neither kind gets a 400 naming REQUEST.
``data_handler`` is the entry point of a data-only function, which serves the first kind
alone (docs/security.md).

Django is set up once per container, when Lambda imports this module; warm invocations
reuse its database connection (CONN_MAX_AGE) and Redis pool. A direct invocation is not an
HTTP request, so Django's request signals that close stale connections never fire: the
handler closes them itself at the start and end of each invocation, as Django does around
a request (cache_worker/connections.py). With DATABASE_CONN_MAX_AGE=0 a container therefore holds
a database connection only while it serves an invocation (docs/scaling.md).
"""

import gc

# No garbage collection while the container initialises: it allocates hundreds of
# thousands of long-lived objects (modules, classes, Django's app registry) and nothing to
# collect, and the full collections it would trigger cost about a tenth of a cold start.
# At the end of initialisation they are frozen, so later collections skip them too.
gc.disable()

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import django  # noqa: E402
import orjson  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heroapp.settings")
django.setup()

from django.conf import settings  # noqa: E402

from cache_worker import snapstart  # noqa: E402
from cache_worker.connections import stale_connections_closed  # noqa: E402
from heroes.cache import get_hero_cache, settle_at_start  # noqa: E402
from heroes.events import error_response, serve_event  # noqa: E402

logger = logging.getLogger(__name__)

# The invocation's log line is also a CloudWatch Embedded Metric Format document: its
# "_aws" block tells CloudWatch which of the line's own fields are metrics, so one line
# per invocation is both searchable log and metrics, with no API call. (aws-lambda-
# powertools' Metrics did this as a second line, at about 100 us per invocation, a third
# of an all-hit read, and 13 ms of import at cold start; docs/benchmarks.md.)
METRICS_NAMESPACE = os.environ.get("METRICS_NAMESPACE", "heroapp")
METRICS = [
    {"Name": "total_ms", "Unit": "Milliseconds"},
    {"Name": "hits", "Unit": "Count"},
    {"Name": "misses", "Unit": "Count"},
    {"Name": "db_queries", "Unit": "Count"},
    {"Name": "errors", "Unit": "Count"},
    {"Name": "cold_start", "Unit": "Count"},
]
_cold_start = True

# Build the cache client (and import redis-py) while Lambda initialises the container,
# not during the first invocation, and settle cache entries that a container which ended
# during a Redis outage could not (heroes/cache/recovery.py). Neither may stop the container.
# Under SnapStart this initialisation is snapshotted: settling waits for each restore.
get_hero_cache()


def _restored() -> None:
    global _cold_start
    _cold_start = True  # a restored environment's first invocation is its cold start


if not (snapstart.snapshotting() and snapstart.register(on_restore=_restored)):
    settle_at_start()
gc.freeze()
gc.enable()

# The top-level keys by which Zappa's handler recognises its events (zappa/handler.py).
ZAPPA_EVENT_KEYS = frozenset(
    {
        "httpMethod",
        "requestContext",
        "stageVariables",
        "rawPath",
        "detail-type",
        "command",
        "manage",
        "Records",
        "bot",
        "triggerSource",
        "awslogs",
        "raw_command",
    }
)


def lambda_handler(event, context=None):
    if is_zappa_event(event):
        return _hand_to_zappa(event, context)
    return serve_direct_event(event, context)


def is_zappa_event(event) -> bool:
    """
    An event Zappa's handler would act on: no REQUEST, and one of Zappa's keys with a
    value. Zappa tests the values, not the keys ({"Records": null} is nothing to it), so an
    event with only empty ones is ours, and gets a 400 rather than silence.
    """
    return (
        isinstance(event, dict) and "REQUEST" not in event and any(event.get(key) for key in ZAPPA_EVENT_KEYS)
    )


def serve_direct_event(event, context=None) -> dict:
    global _cold_start
    cold_start, _cold_start = _cold_start, False
    started = time.perf_counter()
    with stale_connections_closed():
        response, log = serve_event(event)
    log["request"] = log["request"] or "invalid"
    log["request_id"] = getattr(context, "aws_request_id", None)
    log["cold_start"] = int(cold_start)
    log["errors"] = int(response["statusCode"] >= 400)
    log.setdefault("hits", 0)
    log.setdefault("misses", 0)
    log.setdefault("db_queries", 0)
    log["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
    _log_invocation(log)
    return response


def _log_invocation(fields: dict) -> None:
    """
    Write the invocation's line: the same JSON object heroapp.logging.JSONFormatter makes,
    built directly, because this line is written on every invocation and the logging
    module's record, formatter and handler cost about a tenth of an all-hit read. The
    logger's level still decides, and the line goes to the configured stream.

    Only ``fields`` are encoded per line, by orjson (0.3 µs where the json module's C
    encoder took 2.3 µs): the constant parts (level, logger, message, the "_aws" block but
    its timestamp) are text encoded once, and the time's date and seconds are formatted
    once per second (docs/benchmarks.md, "Profiling the Lambda entry").
    """
    global _second_text
    if not logger.isEnabledFor(logging.INFO):
        return
    micros = round(time.time() * 1_000_000)
    second, fraction = divmod(micros, 1_000_000)
    if second != _second_text[0]:
        _second_text = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    body = orjson.dumps(fields, default=str).decode()[1:-1]
    stream = getattr(sys, settings.LOG_STREAM)
    stream.write(
        f'{{"time":"{_second_text[1]}.{fraction // 1000:03d}+00:00"{_HEAD}{"," if body else ""}{body}'
        f',"_aws":{{"Timestamp":{micros // 1000}{_EMF_TAIL}'
    )
    stream.flush()


def _compact(value) -> str:
    # The json module, ASCII-escaped: these parts are encoded once, and METRICS_NAMESPACE
    # comes from the environment, so the line stays writable to a stream of any encoding.
    return json.dumps(value, separators=(",", ":"))


_HEAD = "," + _compact({"level": "INFO", "logger": logger.name, "message": "invocation"})[1:-1]
_EMF_TAIL = (
    ',"CloudWatchMetrics":'
    + _compact([{"Namespace": METRICS_NAMESPACE, "Dimensions": [["request"]], "Metrics": METRICS}])
    + "}}\n"
)
# The second the last line was written in, and its date and time as text.
_second_text: tuple[int, str] = (-1, "")


def data_handler(event, context=None):
    """
    The entry point of a data-only function (docs/security.md, "least privilege"): the
    same package, serving REQUEST/SQLS events and nothing else. Zappa never sees an
    event here, so nothing an invoker sends can run a command; keep-warm pings are
    answered without work. Data services get invoke permission on this function only.
    """
    # Not imported at module level, where lambda_handler's direct events would pay for it;
    # after the first call this is a lookup in sys.modules.
    from cache_worker.invocations import is_keep_warm

    if is_keep_warm(event):
        return None
    return serve_direct_event(event, context)


def _hand_to_zappa(event: dict, context):
    # Imported on first use: direct events never pay for Zappa's WSGI machinery, nor for
    # the allow-list and the tasks it names (cache_worker/invocations.py and tasks.py).
    from zappa.handler import LambdaHandler
    from zappa.handler import lambda_handler as zappa_lambda_handler

    from cache_worker.invocations import refusal

    # Zappa runs code for several event kinds, and the services allowed to invoke this
    # function for data are not admins: only the allow-listed ones pass (invocations.py).
    # LambdaHandler() is Zappa's per-container singleton, the one it dispatches with.
    refused = refusal(event, LambdaHandler())
    if refused is not None:
        logger.warning("invocation refused", extra={"field": refused.field, "error": refused.message})
        return error_response(400, refused.message, field=refused.field)
    if _is_http(event):
        # Django's request signals close stale connections around a request.
        return zappa_lambda_handler(event, context)
    # Anything else (S3 imports and their continuations, tasks, manage commands) is no
    # request: stale connections are closed around it as around a direct event.
    with stale_connections_closed():
        return zappa_lambda_handler(event, context)


def _is_http(event: dict) -> bool:
    """An API Gateway or function URL request, which Zappa serves through Django's WSGI handler."""
    return bool(event.get("httpMethod") or event.get("rawPath") or event.get("requestContext"))
