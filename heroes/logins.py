"""
One JSON log line per failed login and per lockout (django-axes counts them and locks).

The lines carry the username tried, the client's address and the path (the site's login or
the admin's), so CloudWatch Logs Insights can count failures per user or per address; the
password is never logged.
"""

import logging

logger = logging.getLogger("heroes.logins")


def _client(request) -> dict:
    if request is None:
        return {"ip": None, "path": None}
    return {
        "ip": getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR"),
        "path": request.path,
    }


def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    if getattr(request, "axes_locked_out", False):
        return  # user_locked_out below logs it, once
    logger.warning(
        "login failed",
        extra={
            "username": credentials.get("username"),
            **_client(request),
            "failures": getattr(request, "axes_failures_since_start", None),
        },
    )


def login_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    logger.warning("login locked out", extra={"username": username, **_client(request), "ip": ip_address})
