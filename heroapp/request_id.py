"""
One id per web request, to find its log lines: on Lambda the invocation's AWS request id
(Zappa puts the Lambda context in the WSGI environ), else a caller's X-Request-ID, else a
new one. The response carries it in X-Request-ID, so a user reporting an error page can
name the line that holds its traceback.
"""

import re
import uuid

from django.http import HttpRequest

HEADER = "X-Request-ID"
# A caller's id goes into log lines and a response header: only a plain token is kept.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(request: HttpRequest) -> str:
    known = getattr(request, "request_id", None)
    if known:
        return known
    aws_request_id = getattr(request.META.get("lambda.context"), "aws_request_id", None)
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if aws_request_id:
        value = aws_request_id
    elif _ACCEPTED.fullmatch(given):
        value = given
    else:
        value = uuid.uuid4().hex
    request.request_id = value
    return value


class RequestIdMiddleware:
    """First in MIDDLEWARE: every response, a 500 included, names its request's id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        value = request_id(request)
        response = self.get_response(request)
        response[HEADER] = value
        return response
