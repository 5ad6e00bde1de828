"""Counting what a call did: the SQL queries it sent and the time it took."""

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections


@dataclass(slots=True)
class CallStats:
    db_queries: int = 0
    started: float = field(default_factory=time.perf_counter)
    elapsed_ms: float = 0.0


@contextmanager
def measure() -> Iterator[CallStats]:
    """
    Count the SQL statements sent on every database connection and time the block.

    Counting happens in an execute wrapper around each real connection, so every statement
    the ORM sends is counted, on the writer and on a read replica alike, including
    BEGIN-less ones such as savepoints, and nothing is guessed from the code's structure.
    """
    stats = CallStats()

    def count(execute, sql, params, many, context):
        stats.db_queries += 1
        return execute(sql, params, many, context)

    with ExitStack() as wrappers:
        for alias in settings.DATABASES:
            wrappers.enter_context(connections[alias].execute_wrapper(count))
        try:
            yield stats
        finally:
            stats.elapsed_ms = round((time.perf_counter() - stats.started) * 1000, 3)
