"""measure(): the SQL statements a block sent, on any connection, and its time."""

import contextvars
import threading

import pytest
from django.db import connections

from heroes.metrics import measure
from heroes.models import Hero

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_block_counts_its_own_statements_and_nested_blocks_count_theirs():
    Hero.objects.count()  # outside any block: counted by none
    with measure() as outer:
        Hero.objects.count()
        with measure() as inner:
            Hero.objects.count()
            Hero.objects.exists()
    Hero.objects.count()

    assert (outer.db_queries, inner.db_queries) == (3, 2)
    assert outer.elapsed_ms >= inner.elapsed_ms > 0


def test_a_connection_opened_inside_another_execute_wrapper_is_counted_and_keeps_its_counter():
    """
    The counter joins each connection when it opens, which may be inside someone else's
    ``execute_wrapper`` block: that block's end removes its own wrapper, not the counter.
    """
    connections["default"].close()
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(spy), measure() as during:
        Hero.objects.count()  # opens the connection (and runs its set-up statements)
    opened_with = len(seen)
    with measure() as after:
        Hero.objects.count()

    # The counter saw what the block's own wrapper saw; after the block, only the counter.
    assert during.db_queries == opened_with >= 1
    assert after.db_queries == 1 and len(seen) == opened_with


def test_a_connection_first_opened_inside_a_block_counts_the_statements_that_set_it_up():
    """
    A thread's first connection (a new connection object) sends set-up statements before
    the block's own query: they are statements the block sent, and counted as such.
    """
    result = {}

    def work():
        seen = []

        def spy(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        try:
            with connections["default"].execute_wrapper(spy), measure() as stats:
                Hero.objects.count()
            result.update(counted=stats.db_queries, seen=len(seen))
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert result["counted"] == result["seen"] >= 1


def test_a_block_left_in_another_context_than_it_was_entered_in_closes_cleanly():
    """A generator resumed in a copied context may leave a block there: no error, no stale count."""
    Hero.objects.count()  # the connection is open before the blocks
    block = measure()
    stats = block.__enter__()
    contextvars.copy_context().run(block.__exit__, None, None, None)
    block_in_copy_closed = stats.elapsed_ms > 0
    # In this context the token still stands; leaving again here closes it for good.
    block.__exit__(None, None, None)
    with measure() as after:
        Hero.objects.count()

    assert block_in_copy_closed
    assert stats.db_queries == 0 and after.db_queries == 1
