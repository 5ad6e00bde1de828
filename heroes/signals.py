"""
Keep the cache consistent with every ORM save and delete of a Hero.

The admin, the shell, the web views and ``Model.save()`` anywhere all send these signals,
so none of them has to remember the cache. The cache write is deferred to
``transaction.on_commit``: a value is never cached before its row is committed, and a
rolled-back transaction (or savepoint) leaves the cache untouched.

Paths that send no signals, and how each is handled:

* ``Hero.objects.filter(...).update(...)``: HeroQuerySet.update bumps the versions and
  invalidates the cache itself (heroes/models.py).
* ``bulk_create`` / ``bulk_update``: used only by heroes/services.py and heroes/importer.py,
  which write the cache for the whole batch in one round trip.
* Raw SQL against the table: not handled; entries expire after HERO_CACHE_TTL.
"""

from django.db import transaction

from heroes.cache import SaveMode, current_save_mode, get_hero_cache


def hero_saved(sender, instance, using, **kwargs) -> None:
    mode = current_save_mode()
    if mode is SaveMode.MANUAL:
        return
    # Snapshot now: by the time the transaction commits the instance may have changed.
    hero_id, version = instance.pk, instance.version
    if mode is SaveMode.WRITE_THROUGH:
        payload = instance.to_json()
        transaction.on_commit(
            lambda: get_hero_cache().store_heroes([(hero_id, version, payload)]), using=using
        )
    else:
        transaction.on_commit(lambda: get_hero_cache().invalidate({hero_id: version}), using=using)


def hero_deleted(sender, instance, using, **kwargs) -> None:
    if current_save_mode() is SaveMode.MANUAL:
        return
    hero_id = instance.pk
    transaction.on_commit(lambda: get_hero_cache().tombstone([hero_id]), using=using)
