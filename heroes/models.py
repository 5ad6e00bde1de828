import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from heroes import schema
from heroes.cache import get_hero_cache


class HeroQuerySet(models.QuerySet):
    def from_writer(self) -> "HeroQuerySet":
        """
        This query on the writer, even where reads would go to a replica.

        For reads whose answer decides a cache entry's version (invalidations, the
        cache-debt ledger, a re-read after a lagging replica): they need the latest
        committed row, which a replica may not have yet.
        """
        return self.using(router.db_for_write(self.model))

    def replace(self, pk: int, **values) -> tuple[int, datetime]:
        """
        Set ``values`` on row ``pk`` and give it the next version; returns that version and
        the ``updated_at`` written.
        Raises DoesNotExist. Sends no signal: the caller writes the cache (services.py).

        On MySQL and MariaDB this is one UPDATE in which ``version =
        LAST_INSERT_ID(version + 1)`` hands the new version back with the statement's reply
        (MySQL's documented sequence idiom): no lock-and-read round trips, no transaction of
        its own. The row's lock still orders concurrent updates, so the one that commits
        last holds the higher version. Elsewhere (SQLite) the row is locked and read first.
        """
        using = router.db_for_write(self.model)
        values["updated_at"] = now = timezone.now()
        connection = connections[using]
        if connection.vendor == "mysql":
            # The statement's text is built once, not compiled by the ORM on every update,
            # which cost as much as the UPDATE and its commit (docs/benchmarks.md). So the
            # values are plain ones, prepared by their fields as the ORM would.
            fields = [self.model._meta.get_field(name) for name in values]
            if any(hasattr(value, "resolve_expression") for value in values.values()):
                raise TypeError("replace() takes plain values, not expressions")
            params = [field.get_db_prep_save(values[field.name], connection) for field in fields]
            # As QuerySet.update(): an error inside atomic() marks it for rollback, so a
            # caller that catches it cannot commit the rest (after a deadlock, say).
            with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
                cursor.execute(_replace_sql(connection, tuple(values)), [*params, pk])
                if not cursor.rowcount:
                    raise self.model.DoesNotExist(f"no hero with id {pk}")
            return connection.connection.insert_id(), now
        rows = models.QuerySet(self.model, using=using).filter(pk=pk)
        with transaction.atomic(using=using):
            version = rows.select_for_update().values_list("version", flat=True).first()
            if version is None:
                raise self.model.DoesNotExist(f"no hero with id {pk}")
            rows.update(version=version + 1, **values)
        return version + 1, now

    def update(self, **kwargs) -> int:
        """
        Update the matched rows, bump their versions and invalidate their cache entries.

        ``QuerySet.update()`` sends no signals, so without this override a bulk update
        (an admin action, a shell one-liner) would leave the old values in the cache for
        a whole TTL. The rows are locked first so each new version is exactly one more
        than the version read, which is what the cache's version check relies on.
        """
        # As Django's own update() does first: without it, self.db would name the
        # database for reads, which may be a replica.
        self._for_write = True
        with transaction.atomic(using=self.db):
            versions = dict(self.select_for_update().values_list("pk", "version"))
            if not versions:
                return 0
            kwargs["version"] = models.F("version") + 1
            kwargs.setdefault("updated_at", timezone.now())
            # A plain QuerySet, so this call is Django's update and not this one again.
            locked = models.QuerySet(self.model, using=self.db).filter(pk__in=list(versions))
            updated = locked.update(**kwargs)
            new_versions = {pk: version + 1 for pk, version in versions.items()}
            transaction.on_commit(lambda: get_hero_cache().invalidate(new_versions), using=self.db)
        return updated


class HeroManager(models.Manager.from_queryset(HeroQuerySet)):
    def cache_rows(self, ids: list[int], *, from_writer: bool = False) -> list[tuple]:
        """
        ``(id, version, *RECORD_FIELDS)`` of the heroes among ``ids``, in no particular
        order, from the database for reads (a replica, if one is configured), or from the
        writer with ``from_writer`` (see ``HeroQuerySet.from_writer``).

        This is every cache miss's query, so it is one statement whose text is built once
        per number of ids rather than compiled by the ORM each time: the ORM's
        ``filter(id__in=...).values_list(...)`` spent 350 µs of a 560 µs one-id load on
        building the query and its rows (docs/benchmarks.md, "Profiling: before and after").
        The ids are made integers as the ORM would; ``hero`` comes back as the database
        gives it (0 or 1 on MySQL), which ``schema.encode_hero`` only tests for truth.
        """
        if not ids:
            return []
        ids = [int(hero_id) for hero_id in ids]
        using = router.db_for_write(self.model) if from_writer else self.db
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(_rows_by_id_sql(connection, len(ids)), ids)
            return cursor.fetchall()


# Statement texts by (database vendor, statement, its shape), built on first use.
_STATEMENTS: dict[tuple, str] = {}


def _rows_by_id_sql(connection, count: int) -> str:
    """The SELECT of ``HeroManager.cache_rows`` for ``count`` ids, as ``connection`` quotes names."""
    key = (connection.vendor, "rows_by_id", count)
    if (sql := _STATEMENTS.get(key)) is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(_column(name)) for name in ("id", "version", *schema.RECORD_FIELDS))
        table, pk = quote(Hero._meta.db_table), quote(Hero._meta.pk.column)
        sql = f"SELECT {columns} FROM {table} WHERE {pk} IN ({', '.join(['%s'] * count)})"
        if count <= 128:  # the texts for larger reads are not kept: they are rare, and unbounded
            _STATEMENTS[key] = sql
    return sql


def _replace_sql(connection, names: tuple[str, ...]) -> str:
    """MySQL's UPDATE of ``HeroQuerySet.replace`` setting the fields ``names``."""
    key = (connection.vendor, "replace", names)
    if (sql := _STATEMENTS.get(key)) is None:
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(_column(name))} = %s" for name in names)
        version = quote(_column("version"))
        table, pk = quote(Hero._meta.db_table), quote(Hero._meta.pk.column)
        sql = _STATEMENTS[key] = (
            f"UPDATE {table} SET {assignments}, {version} = LAST_INSERT_ID({version} + 1) WHERE {pk} = %s"
        )
    return sql


def _column(name: str) -> str:
    return Hero._meta.get_field(name).column


class Hero(models.Model):
    """
    A hero (or villain) in the table the cache layer fronts.

    ``version`` starts at 1 and grows by one on every committed change of the row. The
    cache stores it next to each value so that a late write to Redis can never replace
    a newer one (see docs/design.md).
    """

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=schema.MAX_NAME_LENGTH)
    hero = models.BooleanField("is a hero", default=True, help_text="No means a villain.")
    power = models.CharField(max_length=schema.MAX_POWER_LENGTH, blank=True)
    xp = models.PositiveIntegerField("experience points", default=0)
    color = models.CharField(
        max_length=schema.MAX_COLOR_LENGTH,
        blank=True,
        choices=schema.COLOR_CHOICES,
        help_text="One of the palette's colors, or none.",
    )
    version = models.PositiveBigIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HeroManager()

    class Meta:
        verbose_name_plural = "heroes"
        ordering = ["id"]
        # For the web list's sorts and filters; a million rows must not be scanned
        # to show one page.
        indexes = [
            models.Index(fields=["name"], name="hero_name_idx"),
            models.Index(fields=["xp"], name="hero_xp_idx"),
            models.Index(fields=["created_at"], name="hero_created_idx"),
            models.Index(fields=["color"], name="hero_color_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="hero_name_not_empty"),
            models.CheckConstraint(condition=models.Q(xp__gte=0), name="hero_xp_not_negative"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="hero_version_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """
        Save, giving an existing row the next version number.

        The row is locked and its current version read inside the same transaction as
        the update, so two concurrent saves get different, ordered versions; the one
        that commits last also has the higher version, and the cache keeps that one.
        """
        if self.pk is None:
            # A plain insert: the row is new, version 1 is right, and there is nothing to
            # lock (and no savepoint to pay for).
            super().save(*args, **kwargs)
            return
        # The router's writer, not self._state.db: an instance read from a replica is
        # saved to the writer (as Django's own save() does).
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            # A new object with an explicit id may still name an existing row (Django
            # then updates it), so the check is on the id, not on _state.adding.
            current = (
                type(self)
                ._base_manager.using(using)
                .select_for_update()
                .filter(pk=self.pk)
                .values_list("version", "created_at")
                .first()
            )
            if current is not None:
                self.version = current[0] + 1
                # Django updates such a row in place, but auto_now_add only fills
                # created_at on insert: keep the row's own.
                if self.created_at is None:
                    self.created_at = current[1]
                update_fields = kwargs.get("update_fields")
                if update_fields is not None:
                    kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
            super().save(*args, **kwargs)

    def to_json(self) -> bytes:
        """The hero as the API returns it; the cache stores these exact bytes."""
        return schema.encode_hero(self.id, [getattr(self, name) for name in schema.RECORD_FIELDS])


PREFIX_LENGTH = 8


class ApiToken(models.Model):
    """
    A bearer token for the JSON events endpoint (``Authorization: Bearer <key>``).

    Only the SHA-256 of the key is stored, so a leaked database does not leak working
    tokens; the key itself is shown once, when the token is issued.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hero_api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The key's first characters, to tell tokens apart in lists and logs; too short to use.
    prefix = models.CharField("key prefix", max_length=PREFIX_LENGTH, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField("last used", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)


class CacheDebt(models.Model):
    """
    A hero whose new value could not be written to Redis (it was unreachable).

    The row outlives the process that wrote it, so whichever process next reaches Redis, or
    starts, invalidates the hero's cache entry (heroes/cache/recovery.py); an in-memory list alone
    would be lost with a Lambda container recycled during the outage.
    """

    hero_id = models.BigIntegerField(primary_key=True)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "cache debt"


class ImportProgress(models.Model):
    """
    How far the import of one S3 object version has got (cache_worker/s3_import.py).

    One row per (bucket, key, ETag): a retried or repeated event for an object already
    imported finds ``finished_at`` set and imports nothing, and a new version of the object
    (a new ETag) gets a row of its own and is imported anew. ``offset`` is the first byte
    not yet imported, always at the start of a row; it advances in the same transaction as
    the rows it covers, so a part is either imported and counted, or neither.
    """

    source_hash = models.CharField(max_length=64, unique=True, editable=False)
    bucket = models.CharField(max_length=255)
    key = models.CharField(max_length=1024)
    etag = models.CharField(max_length=200)
    size = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    # Lines before ``offset`` (the header included), so errors name lines of the whole file.
    lines = models.BigIntegerField(default=0)
    header = models.TextField(blank=True)
    rows = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    invalid = models.BigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    parts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the import stopped, if it could not finish.")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "S3 import"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key} ({self.etag})"

    @staticmethod
    def hash_source(bucket: str, key: str, etag: str) -> str:
        return hashlib.sha256(f"{bucket}\0{key}\0{etag}".encode()).hexdigest()
