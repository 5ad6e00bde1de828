"""
Resumable, idempotent import of one S3 object version, one part at a time.

A part is a byte range of the object cut at the end of a CSV record; it is imported in
one transaction together with the advance of the object's ImportProgress row, so a part
is imported and recorded, or neither, whatever interrupts the process. The progress row
is locked while a part is imported: two invocations given the same object take turns,
and the second starts where the first stopped. The object is read with ``IfMatch`` on
the ETag recorded at the start, so a version replaced during the import stops it rather
than mixing two files (the new version's own event imports it from the top).
"""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from heroes.importer import ImportReport, SourceError, _read_header, import_rows
from heroes.models import ImportProgress

# About 100k rows: a few seconds a part, well inside an invocation's 30 s.
MAX_STORED_ERRORS = 100


class ObjectChanged(SourceError):
    """The object no longer has the ETag the import started with."""


class S3Unavailable(Exception):
    """
    S3 could not be read just now (a network error, throttling, a 5xx). Not a SourceError:
    nothing is recorded against the import, and the invocation fails so that Lambda
    retries the event, which carries on from the recorded offset.
    """


# Errors that retrying will not mend: the import stops with the reason recorded.
_PERMANENT_S3_ERRORS = {"NoSuchKey", "NoSuchBucket", "AccessDenied", "InvalidRange", "404", "403"}


def start_import(*, bucket: str, key: str) -> ImportProgress:
    """
    The progress row of the object's current version (its ETag now), made on first sight.

    The version is the one S3 holds when the import starts, not the one an event names: an
    object replaced since its event can only be read as it is now, and the newer version's
    own event then finds it imported.
    """
    try:
        # The first byte, for the ETag and the size (ContentRange), as HEAD would give,
        # but with GET's errors (NoSuchKey rather than a bare 404).
        head = _s3_call(bucket, key, "get_object", Bucket=bucket, Key=key, Range="bytes=0-0")
    except SourceError as exc:
        if "InvalidRange" in str(exc):
            raise SourceError(f"s3://{bucket}/{key}: the CSV is empty: it needs a header row") from None
        raise
    head["Body"].close()
    size = int(head["ContentRange"].rpartition("/")[2])
    etag = head["ETag"].strip('"')
    progress, _ = ImportProgress.objects.get_or_create(
        source_hash=ImportProgress.hash_source(bucket, key, etag),
        defaults={"bucket": bucket, "key": key, "etag": etag, "size": size},
    )
    return progress


def import_next_part(*, progress_id: int, part_bytes: int | None = None) -> ImportProgress:
    """
    Import the part at the recorded offset; returns the progress after it. The part size
    is ``part_bytes``, else the setting HERO_S3_IMPORT_PART_BYTES.
    """
    part_bytes = part_bytes or settings.HERO_S3_IMPORT_PART_BYTES
    try:
        with transaction.atomic():
            progress = ImportProgress.objects.select_for_update().get(pk=progress_id)
            if progress.finished_at is None and not progress.error:
                _import_part(progress, part_bytes)
            return progress
    except SourceError as exc:
        # The object cannot be imported as it is: the reason is kept, for the operator and
        # for any retried event, which then imports nothing.
        ImportProgress.objects.filter(pk=progress_id).update(error=str(exc)[:2000])
        raise


def _import_part(progress: ImportProgress, part_bytes: int) -> None:
    source = f"s3://{progress.bucket}/{progress.key}"
    data = _read_part(progress, part_bytes)
    try:
        # The first part may start with the byte-order mark spreadsheet programs write.
        text = data.decode("utf-8-sig" if progress.offset == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{source}: near byte {progress.offset + exc.start}: not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    if progress.offset == 0:
        columns = _read_header(reader)
        progress.header = ",".join(columns)
    else:
        columns = progress.header.split(",")
    report = ImportReport(source=source)
    import_rows(
        reader, columns, report, strict=False, warm_cache=False, line_offset=progress.lines, bulk=False
    )
    progress.offset += len(data)
    progress.lines += text.count("\n")
    progress.parts += 1
    progress.rows += report.rows
    progress.created += report.created
    progress.updated += report.updated
    progress.invalid += report.invalid
    room = MAX_STORED_ERRORS - len(progress.errors)
    progress.errors = progress.errors + [str(e) for e in report.errors[: max(room, 0)]]
    if progress.offset >= progress.size:
        progress.finished_at = timezone.now()
    progress.save()


def _read_part(progress: ImportProgress, part_bytes: int) -> bytes:
    """Whole records from the offset: about ``part_bytes``, more if one record is longer."""
    start, want = progress.offset, max(part_bytes, 1)
    while True:
        end = min(start + want, progress.size)
        body = _s3_call(
            progress.bucket,
            progress.key,
            "get_object",
            Bucket=progress.bucket,
            Key=progress.key,
            Range=f"bytes={start}-{end - 1}",
            IfMatch=progress.etag,
        )["Body"].read()
        if end >= progress.size:
            return body
        cut = last_record_end(body)
        if cut:
            return body[:cut]
        want *= 2


def last_record_end(data: bytes) -> int:
    """
    The length of the longest prefix of ``data`` made of whole CSV records (0 if none).

    ``data`` starts at a record's start. A newline ends a record unless it is inside a
    quoted field, which is when an odd number of quote characters precede it (a quote in a
    field is written doubled, so it does not change the parity).
    """
    quotes = data.count(b'"')
    end = len(data)
    while True:
        newline = data.rfind(b"\n", 0, end)
        if newline < 0:
            return 0
        if (quotes - data.count(b'"', newline)) % 2 == 0:
            return newline + 1
        end = newline


def _s3_call(bucket: str, key: str, operation: str, **params) -> dict:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(boto3.client("s3"), operation)(**params)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("PreconditionFailed", "412"):
            raise ObjectChanged(f"s3://{bucket}/{key}: replaced during the import") from None
        if code in _PERMANENT_S3_ERRORS:
            raise SourceError(f"s3://{bucket}/{key}: {exc}") from None
        raise S3Unavailable(f"s3://{bucket}/{key}: {exc}") from None
    except BotoCoreError as exc:
        raise S3Unavailable(f"s3://{bucket}/{key}: {exc}") from None
