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
# How long a call waits for another thread's settlement before it is served from the database.
SETTLEMENT_WAIT = 0.1
# Bounded, so an outage under heavy write load cannot grow memory without end; the
# database's list has every id.
MAX_IN_MEMORY = 100_000

# Writes markers: (versions of live rows, ids of deleted rows); returns the ids whose markers
# no replica confirmed (HERO_CACHE_WAIT_REPLICAS). Raises the store's errors.
MarkStale = Callable[[dict[int, int], list[int]], set[int]]


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

    def settle(self, mark_stale: MarkStale, *, if_needed: bool = False) -> int:
        """
        Pay every debt, in batches, until none remain. Raises the store's errors (the debts
        not yet paid stay owed) and SettlementBusy if another thread is still settling after
        a short wait. A marker no replica confirmed stays owed, to be paid after the next
        failure (as an unconfirmed write is). ``if_needed``: only if a failure left the
        cache untrusted (a caller that waited for another thread's settlement finds it done).
        """
        # Callers that arrive during a settlement wait for it (it is usually one round trip)
        # rather than each owing its write and starting the next settlement.
        if not self._settling.acquire(timeout=SETTLEMENT_WAIT):
            raise SettlementBusy("another thread is settling the cache's debts")
        try:
            if if_needed and not self.needed:
                return 0
            with self._lock:
                epoch = self.epoch
            paid, complete = self._settle_memory(mark_stale), True
            if self.durable:
                paid_from_database, complete = self._settle_database(mark_stale)
                paid += paid_from_database
            with self._lock:
                # A failure while this ran, or debts the database could not give: not clean.
                if self.epoch == epoch and complete:
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
        with self._lock:
            owed = list(self._owed.items())
        paid = 0
        for start in range(0, len(owed), BATCH):
            batch = dict(owed[start : start + BATCH])
            unconfirmed = mark_stale(batch, [])
            with self._lock:
                for hero_id, version in batch.items():
                    # Owed again meanwhile at a newer version, or a marker no replica has yet:
                    # that debt stays.
                    if self._owed.get(hero_id) == version and hero_id not in unconfirmed:
                        del self._owed[hero_id]
            paid += len(batch) - len(unconfirmed)
        return paid

    def _settle_database(self, mark_stale: MarkStale) -> tuple[int, bool]:
        """Pay the database's debts; returns how many, and whether the database answered."""
        CacheDebt, Hero = apps.get_model("heroes", "CacheDebt"), apps.get_model("heroes", "Hero")
        writer = router.db_for_write(Hero)
        # Rows recorded after this moment belong to failures after it; they are left for the
        # settlement those failures start, so this loop ends.
        cutoff = timezone.now()
        paid, after = 0, 0
        try:
            while True:
                owed = CacheDebt.objects.using(writer).filter(recorded_at__lte=cutoff, hero_id__gt=after)
                ids = list(owed.order_by("hero_id").values_list("hero_id", flat=True)[:BATCH])
                if not ids:
                    return paid, True
                versions = dict(Hero.objects.using(writer).filter(id__in=ids).values_list("id", "version"))
                unconfirmed = mark_stale(versions, [i for i in ids if i not in versions])
                settled = [i for i in ids if i not in unconfirmed]
                CacheDebt.objects.using(writer).filter(hero_id__in=settled, recorded_at__lte=cutoff).delete()
                paid += len(settled)
                after = ids[-1]
        except DatabaseError as exc:
            # The rows stay: the next call, process start-up or settlement pays them.
            logger.warning("cache debts in the database not settled", extra={"error": str(exc)})
            return paid, False


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
