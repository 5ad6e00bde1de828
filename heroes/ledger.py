"""
The durable list of heroes whose cache entries may be stale after a Redis outage.

HeroCache records an id here when a write could not reach Redis, and settles the list
(invalidating each entry at the row's current version, which is at least as new as any
write made during the outage) when Redis answers again after a failure. Process start-up
settles it too (cache_worker/handler.py, heroapp/wsgi.py), so entries left by a process
that ended during the outage are settled by the next one.
"""

import logging

from django.db import DatabaseError, connection
from django.utils import timezone

logger = logging.getLogger(__name__)

SETTLE_BATCH = 10_000


class Ledger:
    def record(self, ids: list[int]) -> None:
        from heroes.models import CacheDebt

        # An id already owed gets a fresh time, so a settle that began before this failure
        # (and deletes only rows recorded before it began) leaves it for the next one.
        target = {"unique_fields": ["hero_id"]} if connection.features.supports_update_conflicts_with_target else {}
        try:
            CacheDebt.objects.bulk_create(
                [CacheDebt(hero_id=i) for i in ids], update_conflicts=True, update_fields=["recorded_at"], **target
            )
        except DatabaseError as exc:
            logger.warning("could not record cache debts", extra={"error": str(exc), "ids": len(ids)})

    def settle(self, cache) -> int:
        """Invalidate the recorded heroes' entries; returns how many were settled."""
        from heroes.models import CacheDebt, Hero

        cutoff = timezone.now()
        ids = list(CacheDebt.objects.filter(recorded_at__lte=cutoff).values_list("hero_id", flat=True)[:SETTLE_BATCH])
        if not ids:
            return 0
        versions = dict(Hero.objects.from_writer().filter(id__in=ids).values_list("id", "version"))
        deleted = [i for i in ids if i not in versions]
        # Raises the store's error if Redis fails again: the rows then stay for next time.
        cache.mark_stale_direct(versions, deleted)
        CacheDebt.objects.filter(hero_id__in=ids, recorded_at__lte=cutoff).delete()
        logger.info("settled cache debts", extra={"ids": len(ids)})
        return len(ids)


def settle_at_start() -> None:
    """Settle debts left by earlier processes; never stops a process from starting."""
    from heroes.cache import get_hero_cache

    try:
        get_hero_cache().settle_debts()
    except Exception as exc:  # the database or Redis may be down, or not allowed yet (tests)
        logger.info("cache debts not settled at start", extra={"error": f"{type(exc).__name__}: {exc}"})
