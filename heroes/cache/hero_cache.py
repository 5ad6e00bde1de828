"""
HeroCache: cache-aside reads and version-checked writes of heroes, and the failure
handling around every call to the store. docs/design.md describes the design; this module
is its one implementation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from zlib import crc32

from heroes.cache.breaker import Breaker
from heroes.cache.recovery import Debts, SettlementBusy
from heroes.cache.values import NOT_FOUND, RESIDUE, TOMBSTONE_VERSION, Unreadable, Write, open_value

logger = logging.getLogger("heroes.cache")

KEY_SCHEME = 2
RECENT_READS = 100
# Unreadable keys already logged, so a poisoned hot key is one log line, not one per read.
MAX_LOGGED_KEYS = 1000


class CacheUnavailable(Exception):
    """The cache could not be reached; the caller serves from the database."""


class SlotMapChanged(Exception):
    """A cluster failed over or resharded during a call."""


@dataclass(slots=True)
class ReadState:
    """
    What one read learnt from the cache on its way: ``markers``, the version each
    invalidation marker or tombstone says the row is at (a database row older than that has
    been replaced, e.g. on a lagging replica).
    """

    markers: dict[int, int] = field(default_factory=dict)


class HeroCache:
    def __init__(
        self,
        store,
        *,
        prefix: str,
        ttl: int,
        not_found_ttl: int,
        tombstone_ttl: int,
        retry_after: float,
        buckets: int = 16,
        lock_ttl_ms: int = 250,
        lock_wait_ms: int = 200,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 20,
        debts: Debts | None = None,
    ):
        self.store = store
        self.ttl = ttl
        self.not_found_ttl = not_found_ttl
        self.tombstone_ttl = tombstone_ttl
        self.lock_ttl_ms = lock_ttl_ms
        self.lock_wait_ms = lock_wait_ms
        # HERO_CACHE_WAIT_REPLICAS: how many replicas must have a write before it counts as
        # safe from a failover (0: do not ask).
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms
        # The hash tag names a bucket, not the id, so that on a cluster the ids of a read
        # fall in at most ``buckets`` slots (one MGET each) instead of one slot per id.
        prefixes = [f"{{{prefix}:hero:v{KEY_SCHEME}:{b}}}:" for b in range(buckets)]

        # Memoised: every read builds a key per id, and the hot ids repeat.
        @lru_cache(maxsize=1 << 16)
        def key(hero_id: int) -> str:
            return prefixes[hero_id % buckets] + str(hero_id)

        self.key = key
        self.pattern = f"{{{prefix}:hero:v{KEY_SCHEME}:*"
        self.stats: Counter[str] = Counter()
        # (hits, misses) of the most recent reads, for the hit-ratio chart.
        self.recent: deque[tuple[int, int]] = deque(maxlen=RECENT_READS)
        self.breaker = Breaker(retry_after=retry_after, stats=self.stats)
        self.debts = debts if debts is not None else Debts(durable=False)
        self._logged_unreadable: set[str] = set()
        self._log_lock = threading.Lock()

    @property
    def backend_name(self) -> str:
        return self.store.name

    @property
    def available(self) -> bool:
        return self.breaker.available

    def lock_key(self, hero_id: int) -> str:
        return self.key(hero_id) + ":lock"

    def reset(self) -> None:
        """Forget this process's counters, back-off and debts (tests start from a clean cache)."""
        self.stats.clear()
        self.recent.clear()
        self.breaker.reset()
        self.debts.reset()
        self._logged_unreadable.clear()

    # Reads ---------------------------------------------------------------------------

    def lookup(self, ids: list[int], seen: ReadState | None = None) -> dict[int, bytes | None]:
        """
        One multi-get for ``ids``. Returns, per id, the cached hero JSON, ``NOT_FOUND`` for
        an id cached as missing, or ``None`` for a miss (nothing, a marker, or an unreadable
        value). Raises CacheUnavailable.
        """
        found: dict[int, bytes | None] = {}
        for hero_id in self.read_into(found, ids, seen):
            found[hero_id] = None
        return {hero_id: found[hero_id] for hero_id in ids}

    def read_into(
        self, found: dict, ids: list[int], seen: ReadState | None = None, absent: list | None = None
    ) -> list[int]:
        """
        The read path's ``lookup``: one multi-get for distinct ``ids``, each hit's hero JSON
        put in ``found`` (and each id cached as missing in ``absent``, if given, else in
        ``found`` as ``NOT_FOUND``); returns the misses. Raises CacheUnavailable.
        """
        if not ids:
            return []
        values = self._call(self.store.get_many, list(map(self.key, ids)))
        misses = []
        miss = misses.append
        for hero_id, value in zip(ids, values):
            if value is None:
                miss(hero_id)
                continue
            # The hit path, inline (it runs once per id of every read): one CRC over the value.
            if crc32(value, hero_id) == RESIDUE and (payload := value[value.find(58) + 1 : -4]):
                if payload == NOT_FOUND and absent is not None:
                    absent.append(hero_id)
                else:
                    found[hero_id] = payload
                continue
            # A marker, or bytes not of this format.
            if (payload := self._open(hero_id, value, seen)) is None:
                miss(hero_id)
            else:
                found[hero_id] = payload
        return misses

    def claim(
        self, ids: list[int], seen: ReadState | None = None
    ) -> tuple[list[int], list[int], dict[int, bytes]]:
        """
        Take the short "I am loading this" lock for each missed id, in one round trip.

        Returns (ids whose lock this caller took, ids another caller is loading, and what
        the cache holds now for ids whose lock was taken). A stampede of readers for one
        uncached id thus sends one database query, not one per reader. The value is read
        with the lock, atomically: a loader writes its value before it releases its lock, so
        a caller that gets a just-released lock also sees the value and loads nothing. A
        lock expires after lock_ttl_ms, so a dead holder only delays.
        """
        pairs = [(self.lock_key(i), self.key(i)) for i in ids]
        replies = self._call(self.store.claim, pairs, self.lock_ttl_ms)
        taken, others, arrived = [], [], {}
        for hero_id, (ok, value) in zip(ids, replies):
            if not ok:
                others.append(hero_id)
                continue
            taken.append(hero_id)
            if value is not None and (payload := self._open(hero_id, value, seen)) is not None:
                arrived[hero_id] = payload
        return taken, others, arrived

    def await_loaded(self, ids: list[int]) -> dict[int, bytes]:
        """
        Re-read ``ids`` every few milliseconds, for at most lock_wait_ms, while others load
        them. Returns what appeared (hero JSON, or NOT_FOUND); the rest are the caller's to
        load, which is the bounded fallback when a lock holder is slow or gone.
        """
        found: dict[int, bytes] = {}
        waiting = list(ids)
        deadline = time.monotonic() + self.lock_wait_ms / 1000
        delay = 0.002
        while waiting and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
            for hero_id, payload in self.lookup(waiting).items():
                if payload is not None:
                    found[hero_id] = payload
            waiting = [hero_id for hero_id in waiting if hero_id not in found]
        return found

    def _open(self, hero_id: int, value: bytes, seen: ReadState | None) -> bytes | None:
        """A stored value's payload, or None for a marker (noted in ``seen``) or bad bytes."""
        try:
            version, payload = open_value(hero_id, value)
        except Unreadable as exc:
            self._note_unreadable(hero_id, value, str(exc))
            return None
        if version is not None and seen is not None:
            seen.markers[hero_id] = version
        return payload

    def _note_unreadable(self, hero_id: int, value: bytes, reason: str) -> None:
        # A miss, replaced by this read's write-back: never served, never a failure.
        self._log_unreadable(self.key(hero_id), reason, len(value))

    def _log_unreadable(self, key: str, reason: str, size: int) -> None:
        self.stats["unreadable"] += 1
        with self._log_lock:
            if key in self._logged_unreadable:
                return
            if len(self._logged_unreadable) >= MAX_LOGGED_KEYS:
                self._logged_unreadable.clear()
            self._logged_unreadable.add(key)
        logger.warning(
            "unreadable hero cache entry; read as a miss and replaced",
            extra={"key": key, "reason": reason, "bytes": size},
        )

    # Writes --------------------------------------------------------------------------

    def store_heroes(self, rows: Iterable[tuple[int, int, bytes]]) -> bool:
        """Write (id, version, JSON) through to the cache, keeping newer values."""
        return self._put([Write(hero_id, version, payload, self.ttl) for hero_id, version, payload in rows])

    def invalidate(self, versions: dict[int, int]) -> bool:
        """Mark cached data older than the given versions stale (a miss on next read)."""
        return self._put(
            [Write(hero_id, version, b"", self.tombstone_ttl) for hero_id, version in versions.items()]
        )

    def tombstone(self, ids: Iterable[int]) -> bool:
        """Evict deleted heroes so no racing read-miss can bring them back."""
        return self._put([Write(hero_id, TOMBSTONE_VERSION, b"", self.tombstone_ttl) for hero_id in ids])

    def write_back(
        self, *, found: list[tuple[int, int, bytes]], missing: list[int], release: list[int] = ()
    ) -> bool:
        """
        A read-miss's write-back: what the database returned (or that an id does not exist)
        and the release of the loading locks taken for it, in one round trip.
        """
        writes = [Write(i, version, payload, self.ttl) for i, version, payload in found]
        writes += [Write(i, 0, NOT_FOUND, self.not_found_ttl) for i in missing]
        # A read's write-back that fails leaves nothing stale behind; only writes owe.
        return self._put(writes, owe=False, release=[self.lock_key(i) for i in release])

    def _put(self, writes: list[Write], *, owe: bool = True, release: list[str] = ()) -> bool:
        if not writes and not release:
            return True
        # Only writes wait for replicas: a read's write-back that a failover loses leaves
        # nothing stale behind.
        replicas = self.wait_replicas if owe else 0
        try:
            unconfirmed, replaced = self._call(
                self.store.put,
                [(self.key(w.hero_id), w) for w in writes],
                release,
                replicas=replicas,
                timeout_ms=self.wait_timeout_ms,
            )
        except CacheUnavailable:
            if owe:
                self.debts.owe({w.hero_id: w.version for w in writes})
            return False
        for key in replaced:
            # Not a value of the cache's (another type, bad bytes), which this write replaced.
            self._log_unreadable(key, "not a value of the cache's format", 0)
        if unconfirmed:
            # On the primary but not (yet) on a replica: owed like a failed write, so that a
            # failover that loses them is made good after the next failure.
            self.stats["unreplicated"] += len(unconfirmed)
            self.debts.owe(
                {w.hero_id: w.version for w in writes if self.key(w.hero_id) in unconfirmed},
                settle_soon=False,
            )
        return True

    def _mark_stale(self, versions: dict[int, int], deleted: list[int]) -> set[int]:
        """
        Markers for ``versions`` and tombstones for ``deleted``, for the debts' settlement;
        returns the ids whose markers no replica confirmed (a failover could lose them too).
        """
        writes = [Write(i, v, b"", self.tombstone_ttl) for i, v in versions.items()]
        writes += [Write(i, TOMBSTONE_VERSION, b"", self.tombstone_ttl) for i in deleted]
        keys = {self.key(w.hero_id): w.hero_id for w in writes}
        unconfirmed, _ = self.store.put(
            list(zip(keys, writes)), replicas=self.wait_replicas, timeout_ms=self.wait_timeout_ms
        )
        return {keys[key] for key in unconfirmed}

    def settle_debts(self) -> int:
        """Settle every debt now (at process start). Raises CacheUnavailable if Redis fails."""
        # The settlement is the call: _call would otherwise run it first as well.
        return self._call(self.debts.settle, self._mark_stale, settling=True)

    def record_read(self, *, hits: int, misses: int) -> None:
        self.stats["hits"] += hits
        self.stats["misses"] += misses
        self.recent.append((hits, misses))

    # Operations for the status page and the admin ------------------------------------

    def ping(self) -> None:
        """Raise CacheUnavailable unless the cache answers."""
        self._call(self.store.ping)

    def cached_ids(self, ids: list[int]) -> set[int]:
        """The ids among ``ids`` that have a hero cached (not a marker, not "not found")."""
        entries = self.lookup(ids)
        return {hero_id for hero_id, value in entries.items() if value is not None and value != NOT_FOUND}

    def count_keys(self) -> int:
        """How many keys the hero namespace holds (markers and locks included). Walks the keyspace."""
        return self._call(lambda: sum(1 for _ in self.store.scan_keys(self.pattern)))

    def flush(self) -> int:
        """Delete every key of the hero namespace, and nothing else in the Redis database."""
        return self._call(self.store.delete_matching, self.pattern)

    def server_info(self) -> dict:
        return self._call(self.store.server_info)

    # Failure handling ----------------------------------------------------------------

    def _call(self, operation, *args, settling: bool = False, **kwargs):
        if not self.breaker.available:
            raise CacheUnavailable("cache is backing off after a failure")
        try:
            # Before the settlement: a failover during it must be noticed too.
            slot_map = self.store.slot_map_version()
            if self.debts.needed and not settling:
                # After a failure nothing the cache holds is trusted until what the failure
                # may have left stale is invalidated.
                self.debts.settle(self._mark_stale, if_needed=True)
            result = operation(*args, **kwargs)
            if self.store.slot_map_version() != slot_map:
                # The cluster client met a moved slot or a dead node and followed the new slot
                # map on its own. A failover may have lost writes its old primary had not
                # replicated, so this answer is not trusted, and the debts are settled (as
                # after any failure) before the cache is used again.
                raise SlotMapChanged("the cluster's slot map changed during the call")
            return result
        except SettlementBusy as exc:
            raise CacheUnavailable(str(exc)) from exc
        except (*self.store.errors, SlotMapChanged) as exc:
            self.debts.failed()
            self.breaker.trip(exc)
            raise CacheUnavailable(str(exc)) from exc
