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
from django.db.backends.base.base import BaseDatabaseWrapper


def close_stale_connections(databases: list[BaseDatabaseWrapper] | None = None) -> None:
    """
    Close this thread's database connections that Django would close after a request:
    past their CONN_MAX_AGE (with 0, any open connection), left outside autocommit, or
    broken after an error. The ones kept are health-checked again before their next query
    (CONN_HEALTH_CHECKS), as after ``close_old_connections``. ``databases``: this thread's
    connection wrappers, if the caller has them already.
    """
    for connection in databases if databases is not None else [connections[alias] for alias in connections]:
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


class stale_connections_closed:  # noqa: N801 (used as a function: with stale_connections_closed(): ...)
    """
    ``close_stale_connections`` on entering and on leaving the block, as Django does at a
    request's start and end. The thread's connection wrappers are looked up once (through
    asgiref's Local, the larger part of a check's cost): a block cannot replace them.
    """

    __slots__ = ("databases",)

    def __enter__(self) -> None:
        self.databases = [connections[alias] for alias in connections]
        close_stale_connections(self.databases)

    def __exit__(self, *exc_info) -> None:
        close_stale_connections(self.databases)
