"""
CSV import of heroes, from a local file or from S3.

The CSV has a header row with the columns name, hero, power, xp, color and, optionally,
id. Rows with an id are upserted (created or replaced, keeping that id); rows without
one are created. Rows are validated with the same rules as the Lambda worker's write
events (heroes/schema.py); a bad row is reported with its line number and skipped,
or, with ``strict``, aborts the import with nothing written.

On MySQL/MariaDB valid rows are bulk-loaded and merged in chunks (heroes/bulk_import.py);
on SQLite they are written in batches, each in one transaction with one or two
statements. Either way the cache is updated after each commit, in pipelined batches: the
new values with ``warm_cache``, otherwise invalidation markers at the new versions, so no
cached value outlives the import.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from heroes import bulk_import
from heroes.cache import get_hero_cache
from heroes.models import Hero
from heroes.schema import RECORD_FIELDS, HeroRecord, RecordError, encode_hero, row_cleaner
from heroes.services import insert_heroes
from heroes.signals import manual_cache_writes

logger = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 1000
_UPSERT_FIELDS = [*RECORD_FIELDS, "version", "updated_at"]


@dataclass(slots=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    source: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = True
    elapsed_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed_s if self.elapsed_s else 0.0


class ImportAborted(Exception):
    """Raised inside the strict-mode transaction to roll it back."""


class SourceError(Exception):
    """The source cannot be read as a hero CSV (missing file, bad header, S3 error)."""


def import_heroes(
    *,
    source: str,
    strict: bool = False,
    warm_cache: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
) -> ImportReport:
    """
    Import a hero CSV from a path or an ``s3://bucket/key`` URL.

    On MySQL/MariaDB the rows go through the bulk path (heroes/bulk_import.py) in chunks of
    ``batch_size`` rows (default settings.HERO_IMPORT_CHUNK_ROWS); elsewhere, or when the server
    refuses LOCAL INFILE, in batches of ``batch_size`` (default 2000) ORM statements.
    """
    report = ImportReport(source=source)
    started = time.perf_counter()
    with open_source(source, progress=progress) as text:
        reader = csv.reader(text)
        columns = _read_header(reader)
        import_rows(reader, columns, report, strict=strict, warm_cache=warm_cache, batch_size=batch_size)
    report.elapsed_s = time.perf_counter() - started
    return report


def import_rows(
    reader,
    columns: list[str],
    report: ImportReport,
    *,
    strict: bool,
    warm_cache: bool,
    batch_size: int | None = None,
    line_offset: int = 0,
    bulk: bool = True,
) -> None:
    """
    Validate and write the rows of ``reader`` (a csv.reader past its header), adding to
    ``report``. ``line_offset`` is added to reported line numbers (a part of a file).

    ``bulk=False`` writes through Django's connection, inside the caller's transaction if
    there is one (the bulk path commits on a connection of its own).
    """
    writer = _bulk_writer(strict=strict, warm_cache=warm_cache) if bulk else None
    try:
        if writer is not None:
            _import_bulk(
                writer,
                reader,
                columns,
                report,
                strict=strict,
                chunk_rows=batch_size or settings.HERO_IMPORT_CHUNK_ROWS,
                line_offset=line_offset,
            )
            return
        # In strict mode the whole import is one transaction, rolled back on any bad row.
        with transaction.atomic() if strict else nullcontext():
            _import_rows(
                reader,
                columns,
                report,
                strict=strict,
                warm_cache=warm_cache,
                batch_size=batch_size or 2000,
                line_offset=line_offset,
            )
            if strict and report.invalid:
                raise ImportAborted
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"line {reader.line_num + line_offset}: the CSV cannot be read: {exc}") from None
    except ImportAborted:
        report.committed = False
        report.created = report.updated = 0


def _bulk_writer(*, strict: bool, warm_cache: bool) -> bulk_import.BulkWriter | None:
    alias = router.db_for_write(Hero)
    if not bulk_import.available(alias):
        return None
    try:
        return bulk_import.BulkWriter(warm_cache=warm_cache, single_transaction=strict, alias=alias)
    except bulk_import.LocalInfileDisabled as exc:
        logger.warning("bulk import unavailable, importing row batches", extra={"error": str(exc)})
        return None


def _import_bulk(writer, reader, columns, report, *, strict, chunk_rows, line_offset) -> None:
    try:
        chunk: list[HeroRecord] = []
        first_seq = report.rows + 1
        for record in _valid_records(reader, columns, report, strict=strict, line_offset=line_offset):
            chunk.append(record)
            if len(chunk) >= chunk_rows:
                writer.add(chunk, first_seq=first_seq)
                chunk, first_seq = [], report.rows + 1
        if chunk and not (strict and report.invalid):
            writer.add(chunk, first_seq=first_seq)
    except BaseException:
        writer.abort()
        raise
    created, updated = writer.close(commit=not (strict and report.invalid))
    report.timings = writer.timings
    if strict and report.invalid:
        raise ImportAborted
    report.created += created
    report.updated += updated


def _valid_records(reader, columns, report, *, strict, line_offset) -> Iterator[HeroRecord]:
    """The valid rows; each bad one is counted and (up to MAX_REPORTED_ERRORS) reported."""
    width = len(columns)
    clean = row_cleaner(columns)
    for values in reader:
        if not values:
            continue  # a blank line
        report.rows += 1
        try:
            if len(values) != width:
                raise RecordError("row", f"has {len(values)} values for {width} columns")
            record = clean(values)
        except RecordError as exc:
            report.invalid += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append(RowError(reader.line_num + line_offset, exc.field, exc.message))
            continue
        # Once a strict import has failed, keep reading only to report every bad row.
        if strict and report.invalid:
            continue
        yield record


def _import_rows(reader, columns, report, *, strict, warm_cache, batch_size, line_offset) -> None:
    batch: list[HeroRecord] = []
    for record in _valid_records(reader, columns, report, strict=strict, line_offset=line_offset):
        batch.append(record)
        if len(batch) >= batch_size:
            _write_batch(batch, report, warm_cache=warm_cache)
            batch = []
    if batch and not (strict and report.invalid):
        _write_batch(batch, report, warm_cache=warm_cache)


def _write_batch(records: list[HeroRecord], report: ImportReport, *, warm_cache: bool) -> None:
    # Within a batch the last row for an id wins, as it would have row by row.
    with_id = {r.id: r for r in records if r.id is not None}
    without_id = [r for r in records if r.id is None]
    connection = connections["default"]
    with transaction.atomic(), manual_cache_writes():
        # Lock the rows being replaced so each gets exactly the next version.
        existing = dict(
            Hero.objects.select_for_update().filter(id__in=list(with_id)).values_list("id", "version")
        )
        written = [(r, existing.get(r.id, 0) + 1) for r in with_id.values()]
        if written and connection.vendor == "mysql":
            _upsert_mysql(connection, written)
        elif written:
            target = (
                {"unique_fields": ["id"]} if connection.features.supports_update_conflicts_with_target else {}
            )
            heroes = [_hero(r, version=version) for r, version in written]
            Hero.objects.bulk_create(heroes, update_conflicts=True, update_fields=_UPSERT_FIELDS, **target)
        if without_id:
            inserted = [_hero(r, version=1) for r in without_id]
            insert_heroes(inserted)
            written += [(replace(r, id=h.pk), 1) for r, h in zip(without_id, inserted)]
        if warm_cache:
            rows = [(r.id, version, _encode(r)) for r, version in written]
            transaction.on_commit(lambda: get_hero_cache().store_heroes(rows))
        else:
            versions = {r.id: version for r, version in written}
            transaction.on_commit(lambda: get_hero_cache().invalidate(versions))
    report.updated += len(existing)
    report.created += len(written) - len(existing)


_MYSQL_UPSERT = (
    f"INSERT INTO heroes_hero (id, {', '.join(RECORD_FIELDS)}, version, created_at, updated_at) "
    f"VALUES ({', '.join(['%s'] * (len(RECORD_FIELDS) + 4))}) ON DUPLICATE KEY UPDATE "
    + ", ".join(f"{f} = VALUES({f})" for f in _UPSERT_FIELDS)
)


def _upsert_mysql(connection, written: list[tuple[HeroRecord, int]]) -> None:
    """
    The same upsert as bulk_create(update_conflicts=True), without building model
    instances or the ORM's per-value SQL compilation, which took two thirds of an
    import's time. mysqlclient's executemany sends the rows as one multi-row statement.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [(r.id, *r.values().values(), version, now, now) for r, version in written]
    with connection.cursor() as cursor:
        cursor.executemany(_MYSQL_UPSERT, rows)


def _encode(record: HeroRecord) -> bytes:
    return encode_hero(record.id, list(record.values().values()))


def _hero(record: HeroRecord, *, version: int) -> Hero:
    return Hero(id=record.id, version=version, **record.values())


def _read_header(reader) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise SourceError("the CSV is empty: it needs a header row") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"the CSV cannot be read: {exc}") from None
    columns = [name.strip().lower() for name in header]
    allowed = {"id", *RECORD_FIELDS}
    unknown = [name for name in columns if name not in allowed]
    missing = [name for name in RECORD_FIELDS if name not in columns]
    if unknown or missing or len(set(columns)) != len(columns):
        raise SourceError(
            "the CSV header must name the columns "
            + ", ".join(RECORD_FIELDS)
            + " and optionally id"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    return columns


@contextmanager
def open_source(source: str, *, progress: bool = False) -> Iterator[io.TextIOBase]:
    """The source as a text stream, read in chunks, with a byte-based progress bar."""
    from tqdm import tqdm

    with _open_binary(source) as (raw, size):
        with tqdm(total=size, unit="B", unit_scale=True, desc="import", disable=not progress) as bar:
            stream = io.BufferedReader(_ProgressReader(raw, bar), buffer_size=1 << 16)
            # utf-8-sig drops the byte-order mark spreadsheet programs put at the start.
            yield io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


@contextmanager
def _open_binary(source: str):
    if source.startswith("s3://"):
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, _, key = source.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise SourceError(f"{source}: an S3 source is s3://bucket/key")
        # boto3 reads credentials, region and AWS_ENDPOINT_URL from the environment.
        try:
            response = boto3.client("s3").get_object(Bucket=bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise SourceError(f"{source}: {exc}") from None
        body = response["Body"]
        try:
            yield body, response.get("ContentLength")
        finally:
            body.close()
    else:
        try:
            handle = open(source, "rb")
        except OSError as exc:
            raise SourceError(f"{source}: {exc.strerror}") from None
        with handle:
            yield handle, os.fstat(handle.fileno()).st_size


class _ProgressReader(io.RawIOBase):
    """A raw stream over any object with ``read(n)`` that advances a progress bar."""

    def __init__(self, raw, bar):
        self.raw = raw
        self.bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.bar.update(size)
        return size
