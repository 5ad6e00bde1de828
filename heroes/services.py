"""Writes of heroes. The Lambda worker, the web views and the importer all call these."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connections, router, transaction
from django.utils import timezone

from heroes.cache import CacheUnavailable, HeroCache, get_hero_cache
from heroes.metrics import measure
from heroes.models import PREFIX_LENGTH, ApiToken, Hero
from heroes.schema import HeroRecord
from heroes.selectors import get_heroes, hero_versions
from heroes.signals import manual_cache_writes, write_through_on_commit


@dataclass(slots=True)
class HeroWriteResult:
    """
    The heroes a write created and what it cost.

    ``cache`` is "redis" or "local" when the new values were written through, "off" when
    the caller asked for no write-through (the entries were only invalidated), and
    "unavailable" when the cache could not be reached (the rows are committed all the same).
    """

    heroes: list[Hero]
    db_queries: int = 0
    elapsed_ms: float = 0.0
    cache: str = "off"
    payloads: list[bytes] = field(default_factory=list)

    def json_array(self) -> str:
        return (b"[" + b",".join(self.payloads) + b"]").decode()

    @property
    def meta(self) -> dict:
        return {
            "created": len(self.heroes),
            "db_queries": self.db_queries,
            "elapsed_ms": self.elapsed_ms,
            "cache": self.cache,
        }


def create_heroes(*, records: Sequence[HeroRecord], write_through: bool = True) -> HeroWriteResult:
    """
    Insert all records in one transaction, then update the cache in one round trip.

    Either every record is inserted or none is. The cache is written only after the commit,
    with each new hero's JSON (``write_through``) or an invalidation marker, so an
    immediate read of the new ids is a hit with fresh data, or a miss, never stale.
    """
    heroes = [Hero(**record.values()) for record in records]
    result = HeroWriteResult(heroes=heroes)
    cache = get_hero_cache()
    with measure() as stats:
        with transaction.atomic(), manual_cache_writes():
            insert_heroes(heroes)
            result.payloads = [hero.to_json() for hero in heroes]
            rows = [(hero.pk, hero.version, payload) for hero, payload in zip(heroes, result.payloads)]
            transaction.on_commit(lambda: _update_cache(cache, rows, write_through, result))
    result.db_queries = stats.db_queries
    result.elapsed_ms = stats.elapsed_ms
    return result


def insert_heroes(heroes: list[Hero], *, using: str = "default") -> None:
    """
    Insert new heroes and set their ids, in as few statements as the database allows.

    MariaDB (10.5+), SQLite and PostgreSQL return the new ids from one multi-row
    ``INSERT ... RETURNING``. MySQL, and so Aurora MySQL, cannot, and Django then leaves
    the ids unset; there each row is inserted on its own so its id is known.
    """
    if connections[using].features.can_return_rows_from_bulk_insert:
        Hero.objects.using(using).bulk_create(heroes)
    else:
        for hero in heroes:
            hero.save(force_insert=True, using=using)


def _update_cache(
    cache: HeroCache, rows: list[tuple[int, int, bytes]], write_through: bool, result: HeroWriteResult
) -> None:
    if write_through:
        ok = cache.store_heroes(rows)
    else:
        ok = cache.invalidate({hero_id: version for hero_id, version, _ in rows})
    if not ok:
        result.cache = "unavailable"
    elif write_through:
        result.cache = cache.backend_name


def update_hero(*, hero_id: int, record: HeroRecord) -> Hero:
    """
    Replace a hero's fields: one UPDATE that also takes the next version, then the new
    value written through to the cache after the commit. Raises Hero.DoesNotExist.

    The returned hero holds what was written; its ``created_at``, which the update does not
    read, loads from the database if asked for (a deferred field).
    """
    values = record.values()
    version, updated_at = Hero.objects.replace(hero_id, **values)
    loaded = {"id": hero_id, "version": version, "updated_at": updated_at, **values}
    using = router.db_for_write(Hero)
    # from_db takes the loaded values in the model's field order.
    names = [f.attname for f in Hero._meta.concrete_fields if f.attname in loaded]
    hero = Hero.from_db(using, names, [loaded[name] for name in names])
    write_through_on_commit(hero, using=using)
    return hero


def delete_hero(*, hero_id: int) -> bool:
    """Delete a hero; the post_delete signal leaves a tombstone in the cache."""
    deleted, _ = Hero.objects.filter(pk=hero_id).delete()
    return bool(deleted)


# Cache maintenance (the status page and admin actions) ------------------------------


def warm_heroes(*, ids: list[int]) -> int:
    """
    Load these heroes into the cache (a read does exactly that). Returns how many exist.
    Not counted as reads: the hit ratio describes traffic, and a warm-up is not traffic.
    """
    result = get_heroes(ids=ids, count_as_read=False)
    if result.cache == "unavailable":
        raise CacheUnavailable("the cache could not be reached")
    return len(result.found)


def warm_all_heroes(*, chunk_size: int = 1000) -> int:
    """Load every hero into the cache, a chunk of ids (one MGET, one query) at a time."""
    warmed, last_id = 0, 0
    while True:
        ids = list(
            Hero.objects.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:chunk_size]
        )
        if not ids:
            return warmed
        warmed += warm_heroes(ids=ids)
        last_id = ids[-1]


def evict_heroes(*, ids: list[int]) -> bool:
    """
    Drop these heroes from the cache. An invalidation marker at each row's current version
    rather than a DEL: a read that fetched an older version and is about to write it back
    must still be refused.
    """
    return get_hero_cache().invalidate(hero_versions(ids=ids))


def flush_hero_cache() -> int:
    """Delete the hero namespace from the cache; other keys in the same Redis stay."""
    return get_hero_cache().flush()


def issue_api_token(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; the key is returned once and stored only as a hash."""
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=ApiToken.hash_key(key), prefix=key[:PREFIX_LENGTH]
    )
    return token, key


# A token used many times a second is not written many times a second.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def record_api_token_use(*, token: ApiToken) -> None:
    """Note when a token was last used, to the minute (at most one UPDATE a minute per token)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def revoke_api_tokens(*, ids: list[int]) -> int:
    """Revoke these tokens (they stop working at once); returns how many were still active."""
    return ApiToken.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=timezone.now())
