"""
Keep the cache consistent with every ORM save and delete of a Hero.

The admin, the shell, the web views and ``Model.save()`` anywhere all send these signals,
so none of them has to remember the cache. The cache write is deferred to
``transaction.on_commit``: a value is never cached before its row is committed, and a
rolled-back transaction (or savepoint) leaves the cache untouched.

Paths that send no signals, and how each is handled:

* ``Hero.objects.filter(...).update(...)``: HeroQuerySet.update bumps the versions and
  invalidates the cache itself (heroes/models.py).
* ``HeroQuerySet.replace``: used only by ``services.update_hero``, which writes the new
  value through after the commit itself.
* ``bulk_create`` / ``bulk_update``: used only by heroes/services.py and heroes/importer.py,
  which write the cache for the whole batch in one round trip, inside
  ``manual_cache_writes()`` so that a save inside the batch does not write it once more.
* Raw SQL against the table: not handled; entries expire after HERO_CACHE_TTL.
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from heroes.cache import get_hero_cache

_manual: contextvars.ContextVar[bool] = contextvars.ContextVar("hero_cache_manual_writes", default=False)


@contextmanager
def manual_cache_writes() -> Iterator[None]:
    """Within this block, saves and deletes of heroes leave the cache to the caller."""
    token = _manual.set(True)
    try:
        yield
    finally:
        _manual.reset(token)


def hero_saved(sender, instance, using, update_fields=None, **kwargs) -> None:
    if _manual.get():
        return
    hero_id, version = instance.pk, instance.version
    if update_fields is not None or instance.get_deferred_fields():
        # Only some columns were written: the instance's other fields may be older than the
        # row's (another save changed them) or edits never saved, so its JSON is not the
        # row's. The entry is invalidated at the new version; the next read loads the row.
        transaction.on_commit(lambda: get_hero_cache().invalidate({hero_id: version}), using=using)
        return
    write_through_on_commit(instance, using=using)


def write_through_on_commit(hero, *, using: str) -> None:
    """Store ``hero``'s JSON at its version once the transaction on ``using`` commits."""
    # Snapshot now: by the time the transaction commits the instance may have changed.
    row = (hero.pk, hero.version, hero.to_json())
    transaction.on_commit(lambda: get_hero_cache().store_heroes([row]), using=using)


def hero_deleted(sender, instance, using, **kwargs) -> None:
    if _manual.get():
        return
    hero_id = instance.pk
    transaction.on_commit(lambda: get_hero_cache().tombstone([hero_id]), using=using)
