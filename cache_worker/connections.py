"""
Closing stale database connections around a direct invocation, as Django does around a request.

A direct invocation is no HTTP request, so the request signals whose receiver,
``close_old_connections``, closes connections past CONN_MAX_AGE, in a bad state or broken
never fire: the handler calls ``close_stale_connections`` at the start and the end of each
invocation instead. It applies Django's own rule (``close_if_unusable_or_obsolete``) to
the same connections, but only to one that has something to check: most invocations meet a
healthy connection within its age, or none, and then Django's call costs several
microseconds (connection lookups through asgiref's Local, ``ensure_connection``'s
event-loop check), about a twentieth of an all-hit read each time.
"""

import time

from django.db import connections


def close_stale_connections() -> None:
    """
    Close this thread's database connections that Django would close after a request:
    past their CONN_MAX_AGE (with 0, any open connection), left outside autocommit, or
    broken after an error. The ones kept are health-checked again before their next query
    (CONN_HEALTH_CHECKS), as after ``close_old_connections``.
    """
    for alias in connections:
        connection = connections[alias]
        if connection.connection is None:
            continue
        if (
            connection.errors_occurred
            or connection.autocommit != connection.settings_dict["AUTOCOMMIT"]
            or (connection.close_at is not None and time.monotonic() >= connection.close_at)
        ):
            # Something to check: Django decides, by the rule close_old_connections applies.
            connection.close_if_unusable_or_obsolete()
        else:
            # What close_if_unusable_or_obsolete does to a connection it keeps.
            connection.health_check_done = False
