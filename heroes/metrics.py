"""Counting what a call did: the SQL queries it sent and the time it took."""

import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(slots=True)
class CallStats:
    db_queries: int = 0
    started: float = field(default_factory=time.perf_counter)
    elapsed_ms: float = 0.0


# The stats of the measure() blocks open in this thread or task, innermost last.
_open: ContextVar[tuple[CallStats, ...]] = ContextVar("heroes_measure", default=())


class measure:  # noqa: N801 (used as a function: with measure() as stats: ...)
    """
    Count the SQL statements sent on every database connection and time the block.

    Counting happens in an execute wrapper around each real connection, so every statement
    the ORM or a cursor sends is counted, on the writer and on a read replica alike,
    including BEGIN-less ones such as savepoints, and nothing is guessed from the code's
    structure. The wrapper stays on each connection (``count_queries``, connected when the
    app loads): entering it on every connection per block cost 8 µs, a sixth of a cached
    read's own work. Nested blocks each count their statements.
    """

    __slots__ = ("stats", "_token")

    def __enter__(self) -> CallStats:
        self.stats = CallStats()
        self._token = _open.set((*_open.get(), self.stats))
        return self.stats

    def __exit__(self, *exc_info) -> None:
        _open.reset(self._token)
        self.stats.elapsed_ms = round((time.perf_counter() - self.stats.started) * 1000, 3)


def _count(execute, sql, params, many, context):
    for stats in _open.get():
        stats.db_queries += 1
    return execute(sql, params, many, context)


def count_queries(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    """``connection_created`` receiver: put the counting wrapper on the connection, once."""
    if _count not in connection.execute_wrappers:
        # First, not last: a connection made inside a ``with connection.execute_wrapper(w):``
        # block gets this one while ``w`` is on, and the block's end pops the last wrapper.
        connection.execute_wrappers.insert(0, _count)
