"""
Cache debts: entries that may be stale because a write could not reach Redis, and their
settlement.

A write whose cache update failed (or that no replica confirmed) owes an invalidation of
its entries. ``Debts.owe`` records it in this process's memory and in the database
(``CacheDebt``), because this process may end (a Lambda container recycled) before Redis
returns. ``Debts.settle`` pays them all, in batches, until none remain: a marker at the
owed version for the ones in memory, and at the row's current version for the ones in
the database. It runs on the first call that reaches Redis after a failure, and at process
start (``settle_at_start``), so debts left by a process that ended are settled by the
next one.

A failure that happens while debts are being settled is never lost: every failure bumps
``epoch``, and a settlement clears ``needed`` only if no failure came while it ran.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.apps import apps
from django.db import DatabaseError, connections, router
from django.utils import timezone

logger = logging.getLogger("heroes.cache")

BATCH = 1000
# Bounded, so an outage under heavy write load cannot grow memory without end; the
# database's list has every id.
MAX_IN_MEMORY = 100_000

# Writes markers: (versions of live rows, ids of deleted rows). Raises the store's errors.
MarkStale = Callable[[dict[int, int], list[int]], None]


class SettlementBusy(Exception):
    """Another thread is settling the debts; until it is done the cache is not trusted."""


class Debts:
    def __init__(self, *, durable: bool = True):
        self.durable = durable
        self.needed = False
        self.epoch = 0
        self._owed: dict[int, int] = {}
        self._lock = threading.Lock()
        self._settling = threading.Lock()

    def failed(self) -> None:
        """The cache failed: whatever it holds may be stale until the debts are settled."""
        with self._lock:
            self.epoch += 1
            self.needed = True

    def owe(self, versions: dict[int, int], *, settle_soon: bool = True) -> None:
        """
        Record that the entries of ``versions`` (id: the version written) may be stale.
        ``settle_soon`` is False for writes that reached Redis but no replica: they are paid
        after the next failure (a failover), not on the next call, which would only evict them.
        """
        if not versions:
            return
        with self._lock:
            for hero_id, version in versions.items():
                if hero_id in self._owed or len(self._owed) < MAX_IN_MEMORY:
                    self._owed[hero_id] = max(version, self._owed.get(hero_id, 0))
            if settle_soon:
                self.epoch += 1
                self.needed = True
        if self.durable:
            _record(sorted(versions))

    def pending(self) -> dict[int, int]:
        """The debts held in this process's memory (id: version owed)."""
        with self._lock:
            return dict(self._owed)

    def settle_if_needed(self, mark_stale: MarkStale) -> None:
        if self.needed:
            self.settle(mark_stale)

    def settle(self, mark_stale: MarkStale) -> int:
        """
        Pay every debt, in batches, until none remain. Raises the store's errors (the debts
        not yet paid stay owed) and SettlementBusy if another thread is settling.
        """
        if not self._settling.acquire(blocking=False):
            raise SettlementBusy("another thread is settling the cache's debts")
        try:
            with self._lock:
                epoch = self.epoch
            paid = self._settle_memory(mark_stale)
            if self.durable:
                paid += self._settle_database(mark_stale)
            with self._lock:
                if self.epoch == epoch:
                    self.needed = False
            if paid:
                logger.info("settled cache debts", extra={"ids": paid})
            return paid
        finally:
            self._settling.release()

    def reset(self) -> None:
        """Forget every debt held in memory (for tests that start from a clean cache)."""
        with self._lock:
            self._owed.clear()
            self.needed = False

    def _settle_memory(self, mark_stale: MarkStale) -> int:
        paid = 0
        while True:
            with self._lock:
                batch = dict(list(self._owed.items())[:BATCH])
            if not batch:
                return paid
            mark_stale(batch, [])
            with self._lock:
                for hero_id, version in batch.items():
                    # Owed again meanwhile, at a newer version: that debt stays.
                    if self._owed.get(hero_id) == version:
                        del self._owed[hero_id]
            paid += len(batch)

    def _settle_database(self, mark_stale: MarkStale) -> int:
        CacheDebt, Hero = apps.get_model("heroes", "CacheDebt"), apps.get_model("heroes", "Hero")
        writer = router.db_for_write(Hero)
        # Rows recorded after this moment belong to failures after it; they are left for the
        # settlement those failures start, so this loop ends.
        cutoff = timezone.now()
        paid = 0
        try:
            while True:
                owed = CacheDebt.objects.using(writer).filter(recorded_at__lte=cutoff)
                ids = list(owed.order_by("hero_id").values_list("hero_id", flat=True)[:BATCH])
                if not ids:
                    return paid
                versions = dict(Hero.objects.using(writer).filter(id__in=ids).values_list("id", "version"))
                mark_stale(versions, [i for i in ids if i not in versions])
                CacheDebt.objects.using(writer).filter(hero_id__in=ids, recorded_at__lte=cutoff).delete()
                paid += len(ids)
        except DatabaseError as exc:
            # The rows stay: process start-up or the next settlement pays them.
            logger.warning("cache debts in the database not settled", extra={"error": str(exc)})
            return paid


def _record(ids: list[int]) -> None:
    CacheDebt = apps.get_model("heroes", "CacheDebt")
    writer = router.db_for_write(CacheDebt)
    # An id already owed gets a fresh time, so a settlement that began before this failure
    # (and deletes only rows recorded before it began) leaves it for the next one.
    target = (
        {"unique_fields": ["hero_id"]}
        if connections[writer].features.supports_update_conflicts_with_target
        else {}
    )
    try:
        CacheDebt.objects.using(writer).bulk_create(
            [CacheDebt(hero_id=i) for i in ids],
            update_conflicts=True,
            update_fields=["recorded_at"],
            **target,
        )
    except DatabaseError as exc:
        logger.warning("could not record cache debts", extra={"error": str(exc), "ids": len(ids)})
