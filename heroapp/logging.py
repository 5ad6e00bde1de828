"""Log records as one JSON object per line, the shape CloudWatch Logs Insights queries."""

import json
import logging
from datetime import UTC, datetime

from django.http import HttpRequest

from heroapp.request_id import request_id

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and
# belongs in the JSON object as a field of its own.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            # A request object is never written whole: its headers may hold credentials.
            if key not in _STANDARD_ATTRS and not isinstance(value, HttpRequest):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestFilter(logging.Filter):
    """
    Django's request loggers pass the request object (``extra={"request": ...}``); the
    line gets what identifies it: its id (heroapp/request_id.py), method and path.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            record.request_id = request_id(request)
            record.method = request.method
            record.path = request.path
        return True
