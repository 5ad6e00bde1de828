"""Stale database connections around a direct invocation (cache_worker/connections.py)."""

import json
import time

import pytest
from django.db import close_old_connections, connection

from cache_worker.connections import close_stale_connections
from cache_worker.handler import lambda_handler
from tests.cache_worker.events import LambdaContext

pytestmark = pytest.mark.django_db(transaction=True)


def expire(conn) -> None:
    """The connection has outlived CONN_MAX_AGE (as after a container sat frozen)."""
    conn.close_at = time.monotonic() - 1


def leave_a_transaction_open(conn) -> None:
    conn.set_autocommit(False)


def fail_with_a_working_connection(conn) -> None:
    conn.errors_occurred = True


def fail_with_a_broken_connection(conn, kill) -> None:
    kill(conn)  # the server side is gone: the ping fails
    conn.errors_occurred = True


def nothing(conn) -> None:
    pass


STATES = [
    nothing,
    expire,
    leave_a_transaction_open,
    fail_with_a_working_connection,
    fail_with_a_broken_connection,
]


def state_after(close, make_state, kill) -> tuple:
    connection.close()
    connection.ensure_connection()
    connection.health_check_done = True
    if make_state is fail_with_a_broken_connection:
        make_state(connection, kill)
    else:
        make_state(connection)
    close()
    return connection.connection is None, connection.health_check_done, connection.errors_occurred


@pytest.mark.parametrize("make_state", STATES, ids=lambda f: f.__name__)
def test_a_connection_is_closed_or_kept_exactly_as_django_does_around_a_request(
    make_state, kill_database_connection
):
    """
    The same outcome as Django's close_old_connections: closed when too old, outside
    autocommit or broken; kept otherwise, and health-checked again before its next query.
    """
    django = state_after(close_old_connections, make_state, kill_database_connection)
    ours = state_after(close_stale_connections, make_state, kill_database_connection)

    assert ours == django
    # And the outcome is the one the rule promises.
    closed = make_state in (expire, leave_a_transaction_open, fail_with_a_broken_connection)
    assert ours[0] is closed
    connection.close()


def test_a_connection_past_its_age_is_replaced_at_the_start_of_an_invocation(make_heroes):
    """A warm container's connection older than CONN_MAX_AGE is not reused for the next event."""
    [hero] = make_heroes(1)
    connection.ensure_connection()
    old = connection.connection
    expire(connection)

    response = lambda_handler({"REQUEST": "read", "SQLS": [hero.id], "USE_CACHE": "False"}, LambdaContext())

    assert response["statusCode"] == 200 and json.loads(response["body"])[0]["id"] == hero.id
    assert connection.connection is not None and connection.connection is not old


def test_an_all_hit_read_closes_a_connection_that_conn_max_age_0_allows_no_longer(monkeypatch, make_heroes):
    """
    With DATABASE_CONN_MAX_AGE=0, a connection something else opened is closed by the next
    invocation even when that invocation never touches the database (an all-hit read).
    """
    [hero] = make_heroes(1)
    event = {"REQUEST": "read", "SQLS": [hero.id]}
    lambda_handler(event, LambdaContext())  # now cached
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    connection.close()
    connection.ensure_connection()  # opened with CONN_MAX_AGE=0: obsolete at once

    response = lambda_handler(event, LambdaContext())

    assert response["meta"]["hits"] == 1 and response["meta"]["db_queries"] == 0
    assert connection.connection is None


def test_a_connection_kept_across_invocations_is_health_checked_before_its_next_query(
    make_heroes, kill_database_connection
):
    """Within its age the connection is kept, but pinged before reuse, as after a request."""
    [hero] = make_heroes(1)
    event = {"REQUEST": "read", "SQLS": [hero.id], "USE_CACHE": "False"}
    lambda_handler(event, LambdaContext())
    kept = connection.connection
    # The server dropped it while the container was frozen (wait_timeout, a failover).
    kill_database_connection(connection)

    response = lambda_handler(event, LambdaContext())

    assert response["statusCode"] == 200 and json.loads(response["body"])[0]["id"] == hero.id
    assert connection.connection is not None and connection.connection is not kept


def test_a_task_event_handed_to_zappa_gets_a_dropped_connection_replaced(
    make_heroes, kill_database_connection, zappa_settings
):
    """
    S3 imports, their continuations and tasks are no HTTP requests either: a connection the
    server dropped between invocations is health-checked and replaced before they use it.
    """
    make_heroes(3)
    lambda_handler({"command": "cache_worker.tasks.warm_cache"}, LambdaContext())
    kept = connection.connection
    kill_database_connection(connection)

    answer = lambda_handler({"command": "cache_worker.tasks.warm_cache"}, LambdaContext())

    assert answer == {"warmed": 3}
    assert connection.connection is not None and connection.connection is not kept
