"""WSGI entry point: gunicorn, mod_wsgi, and Zappa's handler all load ``application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heroapp.settings")

application = get_wsgi_application()

# Settle cache entries left stale by a process that ended during a Redis outage.
from heroes.cache import settle_at_start  # noqa: E402

settle_at_start()
