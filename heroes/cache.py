"""
The hero cache: the one module that talks to Redis.

Every path that reads or changes heroes (the Lambda worker, the web views, the admin,
the importer, a shell) goes through ``HeroCache``, so there is one key scheme, one value
format and one set of consistency rules.

Key scheme
    ``{HERO_CACHE_KEY_PREFIX}:hero:v{SCHEMA_VERSION}:{id}``, one key per hero id. The
    ``v1`` segment names the value format: a release that changes the format bumps it, and
    old and new code never read each other's values.

Value format
    ``b"{version}:{payload}"``. ``version`` is the row's ``Hero.version``; ``payload`` is
    the hero's JSON exactly as the API returns it, so a hit is spliced into a response
    without decoding. Two payloads are special:

    * ``null`` (version 0): the id does not exist. Cached for HERO_CACHE_NOT_FOUND_TTL so
      repeated lookups of a missing id do not reach the database.
    * empty: a marker, read as a miss. ``{v}:`` says "data older than version v is stale"
      and is left by writes that invalidate instead of writing through. A delete leaves
      ``{TOMBSTONE_VERSION}:``, higher than any real version, for HERO_CACHE_TOMBSTONE_TTL.

Consistency rule
    Every write to a key goes through one Lua script that replaces the value only if the
    incoming version is newer (or equal, when a marker replaces data or data a marker). A read-miss that
    fetched version 5 and reaches Redis after a write stored version 6 is dropped; two
    updates whose cache writes land out of order leave the newer one; a read racing a
    delete cannot bring the row back. The script touches one key, so it is valid on a Redis
    Cluster (heroapp/redis_cluster.py), where multi-key reads and write batches are split
    by hash slot and sent as one pipelined request per primary.

Stampedes
    Misses take a short lock per id (``{{prefix}:hero:v1:{id}}:lock``, SET NX PX, one round
    trip for all of them). The holder queries the database and releases the locks with its
    write-back; other readers of the same ids re-read the cache for up to
    HERO_CACHE_LOCK_WAIT_MS before loading the rows themselves. A lock outlives a dead
    holder by at most HERO_CACHE_LOCK_TTL_MS. The braces are a Redis Cluster hash tag
    naming the value's key, so a lock lives in its value's slot, on the same node: the
    ordering the scheme relies on (a holder's value lands before its lock is released; a
    lock is taken before the value is read) is the order of commands on one connection,
    on a cluster too.

Failures
    Any Redis error makes the cache "unavailable": reads go to the database and writes still
    commit. After a failure the cache is not tried again for HERO_CACHE_RETRY_AFTER seconds,
    so callers do not each wait for a socket timeout, and the failure is logged once per
    LOG_INTERVAL, not once per call. Ids whose cache writes failed are remembered, in this
    process and in the database (heroes/ledger.py), and invalidated as soon as Redis answers
    again, by this process or, if it has ended, by the next one to recover or start.

Failovers
    A primary acknowledges a write before its replica has it, so a failover can lose it.
    With HERO_CACHE_WAIT_REPLICAS, writes are followed by WAIT, and a write no replica
    confirmed is owed like a failed one. A cluster client that reloaded its slot map during
    a call (it followed a failover by itself) makes the call count as failed, so the debts
    are settled before the cache is trusted again.
"""

from __future__ import annotations

import contextvars
import enum
import hashlib
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TOMBSTONE_VERSION = 2**62
NOT_FOUND = b"null"
LOG_INTERVAL = 30.0
RECENT_READS = 100
# Ids whose cache write failed while Redis was unreachable, kept for invalidation when it
# returns. Bounded so an outage under heavy write load cannot grow memory without end.
MAX_PENDING_INVALIDATIONS = 100_000

# Replace the value at KEYS[1] with ARGV[1] .. ":" .. ARGV[2] and a TTL of ARGV[3] ms,
# only if no newer version is held. At an equal version a marker and data may replace
# each other (an eviction, a refill), but a value never replaces its own kind: that
# would only rewrite the same bytes.
CAS_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, ':', 1, true)
  if sep then
    local held = tonumber(string.sub(current, 1, sep - 1))
    local incoming = tonumber(ARGV[1])
    if held and held > incoming then return 0 end
    if held == incoming and ((sep < #current) == (ARGV[2] ~= '')) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
"""
CAS_SCRIPT_SHA = hashlib.sha1(CAS_SCRIPT.encode()).hexdigest()


class SaveMode(enum.Enum):
    """What an ORM save or delete of a Hero does to the cache (see heroes/signals.py)."""

    # Store the new value (creates and updates) or leave a tombstone (deletes).
    WRITE_THROUGH = "write-through"
    # Only mark the old value stale: the row must not be served stale, but the caller
    # (a write event with USE_CACHE "False") did not ask for it to be cached.
    INVALIDATE = "invalidate"
    # The caller updates the cache itself, in one round trip for many rows (bulk paths).
    MANUAL = "manual"


_save_mode: contextvars.ContextVar[SaveMode] = contextvars.ContextVar(
    "hero_cache_save_mode", default=SaveMode.WRITE_THROUGH
)


@contextmanager
def save_mode(mode: SaveMode) -> Iterator[None]:
    token = _save_mode.set(mode)
    try:
        yield
    finally:
        _save_mode.reset(token)


def current_save_mode() -> SaveMode:
    return _save_mode.get()


def _payload(value: bytes | None) -> bytes | None:
    """What a stored value says: the hero JSON, ``NOT_FOUND``, or None for nothing/a marker."""
    if value is None:
        return None
    # A marker ("{version}:") has an empty payload: nothing to serve, a miss.
    return value.partition(b":")[2] or None


def _note_marker(hero_id: int, value: bytes | None, markers: dict[int, int] | None) -> None:
    """Record in ``markers`` the version a marker (or tombstone) says the row is at, at least."""
    if markers is not None and value and value.endswith(b":"):
        markers[hero_id] = int(value[:-1])


@dataclass(frozen=True, slots=True)
class Put:
    """One conditional write: the value for ``hero_id`` at ``version``."""

    hero_id: int
    version: int
    payload: bytes
    ttl: int


class CacheUnavailable(Exception):
    """The cache could not be reached; the caller serves from the database."""


class SlotMapChanged(Exception):
    """A cluster failed over or resharded during a call (see HeroCache._call)."""


class _RedisStore:
    """Raw redis-py calls: one MGET per read, one pipeline of scripts per write batch."""

    name = "redis"

    def __init__(self, connect, *, cluster: bool = False):
        from redis.exceptions import NoScriptError, RedisClusterException, RedisError

        self._connect = connect
        self._client = None
        self.cluster = cluster
        # RedisClusterException is not a RedisError; a cluster client raises it when no
        # node can be reached, or a slot has no reachable primary (a failover).
        self.errors: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError)
        self._no_script = NoScriptError

    @property
    def client(self):
        # Made on first use, inside the cache's failure handling: a cluster client connects
        # when it is made (to learn the slot map), and an unreachable cluster must mean
        # "serve from the database", not a process that cannot start.
        if self._client is None:
            self._client = self._connect()
        return self._client

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        if self.cluster:
            # Split by hash slot, the slots' MGETs pipelined per node: one request per
            # primary, not one per key.
            return self.client.mget_nonatomic(keys)
        return self.client.mget(keys)

    def put_many(
        self, puts: list[tuple[str, int, bytes, int]], release: list[str] = (), *, replicas: int = 0,
        timeout_ms: int = 0,
    ) -> set[str]:
        """
        Run the version-checked writes (and delete ``release``) in one pipeline. With
        ``replicas``, each primary written to is then asked to WAIT until that many replicas
        have its writes, for at most ``timeout_ms``; returns the keys whose primary could
        not confirm it (a failover before its replica catches up would lose them).
        """
        try:
            return self._run_scripts(puts, release, replicas, timeout_ms)
        except self._no_script:
            # A restarted or failed-over server has an empty script cache.
            self.client.script_load(CAS_SCRIPT)
            return self._run_scripts(puts, release, replicas, timeout_ms)

    def _run_scripts(self, puts: list[tuple[str, int, bytes, int]], release: list[str], replicas: int,
                     timeout_ms: int) -> set[str]:
        pipe = self.client.pipeline(transaction=False)
        nodes = [self._node(key) for key, *_ in puts]
        for (key, version, payload, ttl), node in zip(puts, nodes):
            pipe.execute_command("EVALSHA", CAS_SCRIPT_SHA, 1, key, version, payload, ttl * 1000,
                                 **self._target(node))
        for key in release:
            pipe.delete(key)
        # WAIT covers the writes sent before it on the same connection: on a cluster, one
        # per primary written to, which the pipeline sends after that primary's scripts.
        waits: dict[str, tuple[object, list[str]]] = {}
        if replicas:
            for (key, *_), node in zip(puts, nodes):
                waits.setdefault(node.name if node else "", (node, []))[1].append(key)
        for node, _ in waits.values():
            pipe.execute_command("WAIT", replicas, timeout_ms, **self._target(node))
        replies = pipe.execute()
        confirmed = replies[len(replies) - len(waits):]
        return {key for (_, keys), acks in zip(waits.values(), confirmed) if acks < replicas for key in keys}

    def slot_map_version(self) -> int:
        """How many times the cluster client has reloaded its slot map (0 on a single node)."""
        return getattr(self._client, "slot_map_version", 0)

    def _node(self, key: str):
        """
        On a cluster, the primary that owns ``key`` (None on a single node). A cluster
        pipeline refuses pipe.evalsha(), and for EVALSHA through execute_command redis-py 8
        asks the server for the script's keys (COMMAND GETKEYS) once per command; the key is
        the script's only key, so its node is known here without asking.
        """
        return self.client.get_node_from_key(key) if self.cluster else None

    @staticmethod
    def _target(node) -> dict:
        return {"target_nodes": node} if node is not None else {}

    def acquire(self, pairs: list[tuple[str, str]], ttl_ms: int) -> list[tuple[bool, bytes | None]]:
        # For each (lock key, value key): SET NX the lock, then GET the value, in order, in
        # one round trip. One key per command, so valid on a cluster.
        pipe = self.client.pipeline(transaction=False)
        for lock_key, value_key in pairs:
            pipe.set(lock_key, b"1", nx=True, px=ttl_ms)
            pipe.get(value_key)
        replies = pipe.execute()
        return [(bool(replies[i]), replies[i + 1]) for i in range(0, len(replies), 2)]

    def ping(self) -> None:
        self.client.ping()

    def scan_keys(self, pattern: str) -> Iterator[bytes]:
        # SCAN walks the keyspace in steps without blocking the server as KEYS would;
        # a cluster client scans every node.
        return self.client.scan_iter(match=pattern, count=1000)

    def delete_matching(self, pattern: str) -> int:
        # UNLINK frees memory in the background; one key per command keeps it valid on
        # a cluster, and a pipeline per thousand keys keeps the round trips few.
        deleted = 0
        batch: list[bytes] = []
        for key in self.scan_keys(pattern):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += self._unlink(batch)
                batch = []
        return deleted + (self._unlink(batch) if batch else 0)

    def _unlink(self, keys: list[bytes]) -> int:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.unlink(key)
        return sum(pipe.execute())

    def server_info(self) -> dict:
        if not self.cluster:
            return self._summary(self.client.info(), nodes=1)
        # A cluster answers per primary: memory and clients are summed over them.
        per_node = list(self.client.info(target_nodes=self.client.PRIMARIES).values())
        total = dict(per_node[0])
        for name in ("used_memory", "connected_clients"):
            total[name] = sum(node.get(name, 0) for node in per_node)
        total["used_memory_human"] = f"{total['used_memory'] / 2**20:.2f}M"
        return self._summary(total, nodes=len(per_node))

    @staticmethod
    def _summary(info: dict, *, nodes: int) -> dict:
        return {
            "version": info.get("redis_version"),
            "used_memory": info.get("used_memory_human"),
            "connected_clients": info.get("connected_clients"),
            "uptime_days": info.get("uptime_in_days"),
            "maxmemory_policy": info.get("maxmemory_policy"),
            "primaries": nodes,
        }


class _LocalStore:
    """
    The same operations on a Django cache backend (the in-process cache by default).

    Used when REDIS_URL is not set, so the app runs on a fresh clone with no server. The
    version check runs under a lock, which makes it atomic within this process only:
    that is all the in-process cache can offer anyway.
    """

    name = "local"
    errors: tuple[type[BaseException], ...] = ()

    def __init__(self, backend):
        self.backend = backend
        self._lock = threading.Lock()

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        found = self.backend.get_many(keys)
        return [found.get(key) for key in keys]

    def put_many(
        self, puts: list[tuple[str, int, bytes, int]], release: list[str] = (), *, replicas: int = 0,
        timeout_ms: int = 0,
    ) -> set[str]:
        # One process's memory has no replicas to wait for.
        with self._lock:
            self.backend.delete_many(list(release))
            for key, version, payload, ttl in puts:
                current = self.backend.get(key)
                if current is not None:
                    held_text, _, held_payload = current.partition(b":")
                    held = int(held_text)
                    if held > version or (held == version and bool(held_payload) == bool(payload)):
                        continue
                self.backend.set(key, b"%d:%s" % (version, payload), timeout=ttl)
        return set()

    def ping(self) -> None:
        pass

    def slot_map_version(self) -> int:
        return 0

    def acquire(self, pairs: list[tuple[str, str]], ttl_ms: int) -> list[tuple[bool, bytes | None]]:
        # add() stores only if the key is absent, atomically within this process.
        with self._lock:
            return [
                (self.backend.add(lock_key, b"1", timeout=max(ttl_ms / 1000, 0.001)), self.backend.get(value_key))
                for lock_key, value_key in pairs
            ]

    def scan_keys(self, pattern: str) -> Iterator[bytes]:
        # Django's in-process cache cannot list its keys; see HeroCache.flush.
        return iter(())

    def delete_matching(self, pattern: str) -> int:
        # The in-process cache holds nothing but this process's entries, and cannot
        # list its keys: clearing it all is the namespace flush.
        self.backend.clear()
        return 0

    def server_info(self) -> dict:
        return {"version": None, "used_memory": None, "connected_clients": None}


class HeroCache:
    """Cache-aside reads and versioned writes of heroes, with failure handling."""

    def __init__(
        self,
        store,
        *,
        prefix: str,
        ttl: int,
        not_found_ttl: int,
        tombstone_ttl: int,
        retry_after: float,
        lock_ttl_ms: int = 250,
        lock_wait_ms: int = 200,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 20,
        ledger=None,
    ):
        self.store = store
        self.prefix = f"{prefix}:hero:v{SCHEMA_VERSION}:"
        self.lock_ttl_ms = lock_ttl_ms
        self.lock_wait_ms = lock_wait_ms
        self.ttl = ttl
        self.not_found_ttl = not_found_ttl
        self.tombstone_ttl = tombstone_ttl
        self.retry_after = retry_after
        self.stats: Counter[str] = Counter()
        # (hits, misses) of the most recent reads, for the hit-ratio chart.
        self.recent: deque[tuple[int, int]] = deque(maxlen=RECENT_READS)
        self._down_until = 0.0
        self._last_failure_log = -LOG_INTERVAL
        self._pending: dict[int, int] = {}
        self._lock = threading.Lock()
        # Set by a failure: the next call that reaches Redis first makes good what the
        # outage may have left stale (this process's pending ids, and the shared ledger).
        self._recovering = False
        self.ledger = ledger
        # HERO_CACHE_WAIT_REPLICAS: how many replicas must have a write before it counts as
        # safe from a failover (0: do not ask).
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms

    @property
    def backend_name(self) -> str:
        return self.store.name

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def key(self, hero_id: int) -> str:
        return f"{self.prefix}{hero_id}"

    def lock_key(self, hero_id: int) -> str:
        return f"{{{self.prefix}{hero_id}}}:lock"

    # Reads ---------------------------------------------------------------------------

    def lookup(self, ids: list[int], markers: dict[int, int] | None = None) -> dict[int, bytes | None]:
        """
        One multi-get for ``ids``. Returns, per id, the cached hero JSON, ``NOT_FOUND``
        for an id cached as missing, or ``None`` for a miss. Raises CacheUnavailable.

        ``markers``, if given, receives the version each invalidation marker or tombstone
        found demands: a database row older than that has been replaced (a lagging replica).
        """
        if not ids:
            return {}
        raw = self._call(self.store.get_many, [self.key(hero_id) for hero_id in ids])
        found = {}
        for hero_id, value in zip(ids, raw):
            found[hero_id] = _payload(value)
            _note_marker(hero_id, value, markers)
        return found

    def claim(
        self, ids: list[int], markers: dict[int, int] | None = None
    ) -> tuple[list[int], list[int], dict[int, bytes]]:
        """
        Take the short "I am loading this" lock for each missed id, in one round trip.

        Returns (ids whose lock this caller took, ids another caller is loading, and what
        the cache holds now for ids whose lock was taken). A stampede of readers for one
        uncached id thus sends one database query, not one per reader. The value is read
        right after the lock in the same round trip: a loader writes its value before it
        releases its lock, so a caller that gets a just-released lock also sees the value
        and loads nothing. A lock expires after lock_ttl_ms, so a dead holder only delays.
        ``markers`` is filled as lookup() fills it.
        """
        pairs = [(self.lock_key(i), self.key(i)) for i in ids]
        replies = self._call(self.store.acquire, pairs, self.lock_ttl_ms)
        taken, others, arrived = [], [], {}
        for hero_id, (ok, value) in zip(ids, replies):
            if not ok:
                others.append(hero_id)
                continue
            taken.append(hero_id)
            _note_marker(hero_id, value, markers)
            if payload := _payload(value):
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

    # Writes --------------------------------------------------------------------------

    def store_heroes(self, rows: Iterable[tuple[int, int, bytes]]) -> bool:
        """Write (id, version, JSON) through to the cache, keeping newer values."""
        return self._put([Put(hero_id, version, payload, self.ttl) for hero_id, version, payload in rows])

    def invalidate(self, versions: dict[int, int]) -> bool:
        """Mark cached data older than the given versions stale (a miss on next read)."""
        return self._put(
            [Put(hero_id, version, b"", self.tombstone_ttl) for hero_id, version in versions.items()]
        )

    def tombstone(self, ids: Iterable[int]) -> bool:
        """Evict deleted heroes so no racing read-miss can bring them back."""
        return self._put([Put(hero_id, TOMBSTONE_VERSION, b"", self.tombstone_ttl) for hero_id in ids])

    def write_back(self, *, found: list[tuple[int, int, bytes]], missing: list[int], release: list[int] = ()) -> bool:
        """
        A read-miss's write-back: what the database returned, and the release of the
        loading locks taken for it, in one round trip.
        """
        return self._put(
            [Put(hero_id, version, payload, self.ttl) for hero_id, version, payload in found]
            + [Put(hero_id, 0, NOT_FOUND, self.not_found_ttl) for hero_id in missing],
            # A read's write-back that fails leaves nothing stale behind; only writes
            # need invalidating when Redis returns.
            remember_failure=False,
            release=[self.lock_key(hero_id) for hero_id in release],
        )

    def _put(self, puts: list[Put], *, remember_failure: bool = True, release: list[str] = ()) -> bool:
        if not puts and not release:
            return True
        # Only writes wait for replicas: a read's write-back that a failover loses leaves
        # nothing stale behind.
        replicas = self.wait_replicas if remember_failure else 0
        try:
            unconfirmed = self._call(
                partial(self.store.put_many, replicas=replicas, timeout_ms=self.wait_timeout_ms),
                [(self.key(p.hero_id), p.version, p.payload, p.ttl) for p in puts],
                release,
            )
        except CacheUnavailable:
            if remember_failure:
                self._remember_failed(puts)
            return False
        if unconfirmed:
            # On the primary but not (yet) on a replica: owed like a failed write, so that a
            # failover that loses them is made good when the cache is next found failing
            # and recovers, or by the next process to start.
            self.stats["unreplicated"] += len(unconfirmed)
            self._remember_failed([p for p in puts if self.key(p.hero_id) in unconfirmed])
        return True

    def ping(self) -> None:
        """Raise CacheUnavailable unless the cache answers."""
        self._call(self.store.ping)

    def record_read(self, *, hits: int, misses: int) -> None:
        self.stats["hits"] += hits
        self.stats["misses"] += misses
        self.recent.append((hits, misses))

    # Operations for the status page and the admin ------------------------------------

    def cached_ids(self, ids: list[int]) -> set[int]:
        """The ids among ``ids`` that have a hero cached (not a marker, not "not found")."""
        entries = self.lookup(ids)
        return {hero_id for hero_id, value in entries.items() if value is not None and value != NOT_FOUND}

    def count_keys(self) -> int:
        """How many keys the hero namespace holds (markers included). Walks the keyspace."""
        return self._call(lambda: sum(1 for _ in self.store.scan_keys(self.prefix + "*")))

    def flush(self) -> int:
        """Delete every key of the hero namespace, and nothing else in the Redis database."""
        return self._call(self.store.delete_matching, self.prefix + "*")

    def server_info(self) -> dict:
        return self._call(self.store.server_info)

    # Failure handling ----------------------------------------------------------------

    def _call(self, operation, *args):
        if not self.available:
            raise CacheUnavailable("cache is backing off after a failure")
        try:
            if self._recovering:
                self._recover()
            slot_map = self.store.slot_map_version()
            result = operation(*args)
            if self.store.slot_map_version() != slot_map:
                # The cluster client met a moved slot or a dead node and followed the new slot
                # map on its own. A failover may have lost writes its old primary had not
                # replicated, so this answer is not trusted, and the debts are settled (as
                # after any failure) before the cache is used again.
                raise SlotMapChanged("the cluster's slot map changed during the call")
            return result
        except (*self.store.errors, SlotMapChanged) as exc:
            self._fail(exc)
            raise CacheUnavailable(str(exc)) from exc

    def _recover(self) -> None:
        if self._pending:
            self._flush_pending()
        if self.ledger is not None:
            from django.db import DatabaseError

            try:
                self.ledger.settle(self)
            except DatabaseError as exc:
                # The rows stay; process start-up or the next recovery settles them.
                logger.warning("cache debts not settled", extra={"error": str(exc)})
        self._recovering = False

    def settle_debts(self) -> None:
        """Settle the ledger now (at process start): raises CacheUnavailable if Redis fails."""
        if self.ledger is not None:
            self._call(self.ledger.settle, self)

    def mark_stale_direct(self, versions: dict[int, int], deleted: list[int]) -> None:
        """
        Invalidation markers for ``versions`` and tombstones for ``deleted``, written without
        the failure handling around them: for the ledger, which runs inside that handling.
        """
        self.store.put_many(
            [(self.key(i), v, b"", self.tombstone_ttl) for i, v in versions.items()]
            + [(self.key(i), TOMBSTONE_VERSION, b"", self.tombstone_ttl) for i in deleted]
        )

    def _fail(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._down_until = now + self.retry_after
        self._recovering = True
        self.stats["failures"] += 1
        if now - self._last_failure_log >= LOG_INTERVAL:
            self._last_failure_log = now
            logger.warning(
                "hero cache unavailable; serving from the database",
                extra={
                    "error": f"{type(exc).__name__}: {exc}",
                    "retry_after_s": self.retry_after,
                    "failures": self.stats["failures"],
                },
            )

    def _remember_failed(self, puts: list[Put]) -> None:
        with self._lock:
            for put in puts:
                if put.version and len(self._pending) < MAX_PENDING_INVALIDATIONS:
                    self._pending[put.hero_id] = max(put.version, self._pending.get(put.hero_id, 0))
        # In memory for this process, and in the database for any other: this process may
        # end (a Lambda container recycled) before Redis returns.
        if self.ledger is not None:
            self.ledger.record(sorted({put.hero_id for put in puts if put.version}))

    def _flush_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        try:
            self.mark_stale_direct(pending, [])
        except BaseException:
            with self._lock:
                for hero_id, version in pending.items():
                    self._pending[hero_id] = max(version, self._pending.get(hero_id, 0))
            raise
        logger.info("hero cache available again; invalidated ids written meanwhile", extra={"ids": len(pending)})


_hero_cache: HeroCache | None = None
_hero_cache_lock = threading.Lock()


def get_hero_cache() -> HeroCache:
    """The process-wide HeroCache, built from settings on first use."""
    global _hero_cache
    if _hero_cache is None:
        with _hero_cache_lock:
            if _hero_cache is None:
                _hero_cache = build_hero_cache()
    return _hero_cache


def build_hero_cache(alias: str = "default") -> HeroCache:
    backend = caches[alias]
    from heroes.ledger import Ledger

    if type(backend).__module__.startswith("django_redis"):
        from heroapp.redis_cluster import ClusterClient

        # django-redis's client object; it connects only when get_client() is called.
        client = backend.client
        store = _RedisStore(client.get_client, cluster=isinstance(client, ClusterClient))
    else:
        store = _LocalStore(backend)
    return HeroCache(
        store,
        prefix=settings.HERO_CACHE_KEY_PREFIX,
        ttl=settings.HERO_CACHE_TTL,
        not_found_ttl=settings.HERO_CACHE_NOT_FOUND_TTL,
        tombstone_ttl=settings.HERO_CACHE_TOMBSTONE_TTL,
        retry_after=settings.HERO_CACHE_RETRY_AFTER,
        lock_ttl_ms=settings.HERO_CACHE_LOCK_TTL_MS,
        lock_wait_ms=settings.HERO_CACHE_LOCK_WAIT_MS,
        wait_replicas=settings.HERO_CACHE_WAIT_REPLICAS,
        wait_timeout_ms=settings.HERO_CACHE_WAIT_TIMEOUT_MS,
        ledger=Ledger(),
    )


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs) -> None:
    # Tests override CACHES and HERO_CACHE_*; the next call builds a fresh cache.
    global _hero_cache
    if setting == "CACHES" or setting.startswith("HERO_CACHE_"):
        _hero_cache = None
