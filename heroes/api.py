"""
The JSON endpoint: POST /api/events takes the same REQUEST/SQLS events as the Lambda
worker and returns the same response object, with the HTTP status of its statusCode.

Authentication is a bearer token (``Authorization: Bearer <key>``, see ApiToken) or a
signed-in session. Any account may read; writing is for staff with the add permission.
Token requests carry no cookies, so they need no CSRF token; session requests do, exactly
as Django's forms do, since a browser sends the cookie by itself.
Every answer, errors included (405, 413, a body nested too deeply), is the JSON error form.
"""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from heroes.events import error_response, serve_event
from heroes.permissions import may_change_heroes
from heroes.selectors import api_token_for_key
from heroes.services import record_api_token_use


@csrf_exempt  # checked below for session requests only
def events(request: HttpRequest) -> JsonResponse:
    # Every answer of this endpoint is its JSON error form, never one of Django's HTML pages.
    if request.method != "POST":
        reply = _respond(error_response(405, f"{request.method} is not allowed; send the event with POST"))
        reply["Allow"] = "POST"
        return reply
    try:
        return _serve(request)
    except RequestDataTooBig:
        # Raised when the body (or, for a form-encoded session request, the CSRF check's
        # read of it) is longer than DATA_UPLOAD_MAX_MEMORY_SIZE; read after authentication.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _respond(error_response(413, f"the request body is larger than {limit} bytes", field="body"))


def _serve(request: HttpRequest) -> JsonResponse:
    user, failure = _authenticate(request)
    if failure is not None:
        return failure
    try:
        event = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _respond(error_response(400, "the request body is not valid JSON", field="body"))
    except RecursionError:
        return _respond(error_response(400, "the request body is nested too deeply", field="body"))
    if isinstance(event, dict) and event.get("REQUEST") == "write" and not may_change_heroes(user, "add"):
        return _respond(
            error_response(403, "this account may not write heroes (staff with the add permission only)")
        )
    response, _ = serve_event(event)
    return _respond(response)


def _authenticate(request: HttpRequest):
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        token = api_token_for_key(key=key.strip()) if scheme.lower() == "bearer" and key.strip() else None
        if token is None:
            return None, _respond(error_response(401, "invalid API token"), challenge=True)
        record_api_token_use(token=token)
        return token.user, None
    if request.user.is_authenticated:
        reason = _CsrfCheck(lambda r: None).process_view(request, None, (), {})
        if reason:
            return None, _respond(error_response(403, f"CSRF check failed: {reason}"))
        return request.user, None
    return None, _respond(
        error_response(401, "authentication required: a bearer token or a session"), challenge=True
    )


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, returning the reason instead of a response."""

    def _reject(self, request, reason):
        return reason


def _respond(response: dict, *, challenge: bool = False) -> JsonResponse:
    reply = JsonResponse(response, status=response["statusCode"], json_dumps_params={"ensure_ascii": False})
    if challenge:
        reply["WWW-Authenticate"] = 'Bearer realm="heroapp"'
    return reply
