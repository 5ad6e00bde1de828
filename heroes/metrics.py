"""Counting what a call did: the SQL queries it sent and the time it took."""

import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connections


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
    including BEGIN-less ones such as savepoints and those that set up a connection opened
    in the block, and nothing is guessed from the code's structure. The wrapper is put on
    each of the thread's connections once and stays, counting for the blocks open in the
    context: entering and leaving a wrapper on every connection per block cost 8 µs, a
    sixth of a cached read's own work. Nested blocks each count their statements.
    """

    __slots__ = ("stats", "_token")

    def __enter__(self) -> CallStats:
        for alias in connections:
            wrappers = connections[alias].execute_wrappers
            if _count not in wrappers:
                # First, not last: Django's ``execute_wrapper`` blocks pop the last one.
                wrappers.insert(0, _count)
        self.stats = CallStats()
        self._token = _open.set((*_open.get(), self.stats))
        return self.stats

    def __exit__(self, *exc_info) -> None:
        try:
            _open.reset(self._token)
        except ValueError:
            # Left in another context than it was entered in (a generator resumed in a
            # copied context): the token belongs to that one, so drop this block by hand.
            _open.set(tuple(stats for stats in _open.get() if stats is not self.stats))
        self.stats.elapsed_ms = round((time.perf_counter() - self.stats.started) * 1000, 3)


def _count(execute, sql, params, many, context):
    for stats in _open.get():
        stats.db_queries += 1
    return execute(sql, params, many, context)
