"""
Lambda SnapStart: the container is initialised once, when a version is published, and
each new execution environment starts from a snapshot of its memory (docs/snapstart.md).

A snapshot must not carry what is only valid in one environment, so around it:

* before the snapshot, the database connections and the Redis pool are closed (a socket
  in a snapshot would be shared by every environment restored from it, then dead);
* after each restore, both are made anew on first use (any left over are dropped), the
  ``random`` module is re-seeded (restored environments would otherwise all draw the same
  numbers), and the cache-debt settlement that a plain start runs at import
  (heroes/cache/recovery.py) runs now: at snapshot time its work would be done once, months
  before the debts it is meant to find.

The runtime calls the hooks registered with ``snapshot_restore_py``, a module the Lambda
Python runtime provides (and the tests install from PyPI).
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable

logger = logging.getLogger(__name__)


def snapshotting() -> bool:
    """Whether this initialisation is the one a SnapStart snapshot is taken of."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


def register(*, on_restore: Callable[[], None] | None = None) -> bool:
    """
    Register the hooks with the runtime, and load now what every restored environment
    would otherwise load on its first request. Returns False where there is no runtime
    hook API (not on Lambda's SnapStart runtime); nothing is registered then.
    """
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    warm_up()
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore, on_restore)
    return True


def warm_up() -> None:
    """Import what web and Zappa events need: in the snapshot it costs nothing at restore."""
    import zappa.handler  # noqa: F401
    from django.urls import get_resolver

    # The allow-list of Zappa's events: the handler imports it on a Zappa event's first use.
    import cache_worker.invocations  # noqa: F401

    get_resolver().url_patterns  # noqa: B018 (loads the URLconf: views, forms, the admin)


def before_snapshot() -> None:
    _close_database_connections()
    _close_redis_connections()


def after_restore(on_restore: Callable[[], None] | None = None) -> None:
    # Connections from before the snapshot (there should be none) are dead: drop them, and
    # let the first query and the first cache call connect.
    _close_database_connections()
    _close_redis_connections()
    random.seed()  # from os.urandom: differs in every restored environment
    if on_restore is not None:
        on_restore()
    from heroes.cache import settle_at_start

    settle_at_start()


def _close_database_connections() -> None:
    from django.db import DatabaseError, connections

    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DatabaseError as exc:  # a socket that died with the snapshot
            logger.info("database connection dropped", extra={"alias": connection.alias, "error": str(exc)})


def _close_redis_connections() -> None:
    from django.core.cache import caches

    backend = caches["default"]
    if not type(backend).__module__.startswith("django_redis"):
        return
    from django_redis import get_redis_connection

    client = get_redis_connection("default")
    if hasattr(client, "disconnect_connection_pools"):  # a cluster: one pool per node
        client.disconnect_connection_pools()
    else:
        client.connection_pool.disconnect()
