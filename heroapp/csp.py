"""The Content-Security-Policy middleware: django-csp's, with the admin's own scripts allowed."""

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.urls import reverse


class CSPMiddleware(BaseCSPMiddleware):
    """
    The site's policy allows no scripts (its templates have none); Django's admin loads
    script files from this origin (its dark-mode switch, the change list's actions), so its
    pages get script-src 'self'. Still no inline scripts anywhere.
    """

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(reverse("admin:index")):
            parts.replace = {**(parts.replace or {}), "script-src": ["'self'"]}
        return parts
