"""
The hero cache: the one package that talks to Redis (docs/design.md explains the design).

Every path that reads or changes heroes (the Lambda worker, the web views, the admin, the
importer, a shell) goes through the process-wide ``HeroCache`` from ``get_hero_cache()``,
so there is one key scheme, one value format and one set of consistency rules.

Modules, one job each:

* ``values``: what an entry holds (version, checksum, payload) and the Lua scripts that
  change entries (``lua/put.lua``, ``lua/claim.lua``);
* ``redis_store``, ``local_store``: the scripts' commands on Redis (one server or a
  cluster) and on Django's in-process cache;
* ``hero_cache``: the read and write API and the failure handling around each call;
* ``breaker``: the back-off after a failure; ``recovery``: the debts a failure leaves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver

from heroes.cache.hero_cache import CacheUnavailable, HeroCache, ReadState
from heroes.cache.recovery import Debts
from heroes.cache.values import NOT_FOUND, TOMBSTONE_VERSION

__all__ = [
    "NOT_FOUND",
    "TOMBSTONE_VERSION",
    "CacheUnavailable",
    "HeroCache",
    "ReadState",
    "build_hero_cache",
    "get_hero_cache",
    "settle_at_start",
    "use_hero_cache",
]

logger = logging.getLogger("heroes.cache")

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


@contextmanager
def use_hero_cache(cache: HeroCache) -> Iterator[HeroCache]:
    """
    Make ``cache`` the process-wide hero cache within the block: for a benchmark timing two
    caches alternately, where rebuilding one from settings on every call would be timed too.
    """
    global _hero_cache
    previous, _hero_cache = _hero_cache, cache
    try:
        yield cache
    finally:
        _hero_cache = previous


def build_hero_cache(alias: str = "default") -> HeroCache:
    """A HeroCache over the Django cache ``alias`` (django-redis: Redis; anything else: local)."""
    backend = caches[alias]
    if type(backend).__module__.startswith("django_redis"):
        from heroes.cache.redis_store import RedisStore

        # django-redis's client object; it connects only when get_client() is called.
        client = backend.client
        cluster = client.connection_factory.__class__.__name__ == "ClusterConnectionFactory"
        store = RedisStore(client.get_client, cluster=cluster)
    else:
        from heroes.cache.local_store import LocalStore

        store = LocalStore(backend)
    return HeroCache(
        store,
        prefix=settings.HERO_CACHE_KEY_PREFIX,
        ttl=settings.HERO_CACHE_TTL,
        not_found_ttl=settings.HERO_CACHE_NOT_FOUND_TTL,
        tombstone_ttl=settings.HERO_CACHE_TOMBSTONE_TTL,
        retry_after=settings.HERO_CACHE_RETRY_AFTER,
        buckets=settings.HERO_CACHE_KEY_BUCKETS,
        lock_ttl_ms=settings.HERO_CACHE_LOCK_TTL_MS,
        lock_wait_ms=settings.HERO_CACHE_LOCK_WAIT_MS,
        wait_replicas=settings.HERO_CACHE_WAIT_REPLICAS,
        wait_timeout_ms=settings.HERO_CACHE_WAIT_TIMEOUT_MS,
        debts=Debts(durable=True),
    )


def settle_at_start() -> None:
    """Settle debts left by earlier processes; never stops a process from starting."""
    try:
        get_hero_cache().settle_debts()
    except Exception as exc:  # the database or Redis may be down, or not allowed yet (tests)
        logger.info("cache debts not settled at start", extra={"error": f"{type(exc).__name__}: {exc}"})


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs) -> None:
    # Tests override CACHES and HERO_CACHE_*; the next call builds a fresh cache.
    global _hero_cache
    if setting == "CACHES" or setting.startswith("HERO_CACHE_"):
        _hero_cache = None
