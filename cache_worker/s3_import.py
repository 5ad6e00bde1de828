"""
S3-triggered import: an ObjectCreated notification for a CSV in the import bucket
imports it through the same validation and writes as ``manage.py import_heroes``.

Zappa routes the notification here (zappa_settings.json, "events"): each record names
one object, whose key arrives URL-encoded (a space as "+").

An object of a million rows takes longer than one invocation may run, and S3 retries a
failed event from the top. So the object is imported in parts (heroes/resumable_import.py),
each committed with the recorded offset, and before the invocation's time runs out the
rest is handed to a new asynchronous invocation of this function: a Zappa ``command``
event naming cache_worker.tasks.continue_s3_import, with the objects still to do. A
retried or repeated event finds the object's version done (nothing is imported twice) or
half done (it carries on from the offset); a new version of the object is imported anew.
"""

import json
import logging
import time
from urllib.parse import unquote_plus

from django.conf import settings

from heroes.importer import SourceError
from heroes.resumable_import import import_next_part, start_import

logger = logging.getLogger(__name__)

CONTINUE_COMMAND = "cache_worker.tasks.continue_s3_import"
# Time kept back at the end of an invocation for handing over: the invoke call, the log.


def invoke_continuation(event: dict, context) -> None:
    """Run ``event`` in a new asynchronous invocation of this same function (and version)."""
    import boto3

    boto3.client("lambda").invoke(
        FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=json.dumps(event).encode()
    )


# How a continuation is started; the tests serve it in-process instead.
continue_import = invoke_continuation


def import_s3_object(event, context=None) -> dict:
    jobs = []
    for record in event.get("Records", []):
        s3 = record.get("s3", {})
        jobs.append(
            {
                "bucket": s3.get("bucket", {}).get("name"),
                "key": unquote_plus(s3.get("object", {}).get("key", "")),
            }
        )
    return run_imports(jobs, context)


def run_imports(jobs: list[dict], context=None) -> dict:
    """Import each job's object, continuing in a new invocation when time runs short."""
    results = []
    for index, job in enumerate(jobs):
        summary = _import_object(job, context)
        results.append(summary)
        if summary.get("state") == "continued":
            rest = jobs[index:]
            continue_import({"command": CONTINUE_COMMAND, "s3_import": rest}, context)
            break
    return {"imports": results}


def _import_object(job: dict, context) -> dict:
    source = f"s3://{job['bucket']}/{job['key']}"
    if not job["bucket"] or not job["key"]:
        return {"source": source, "error": "the event names no bucket or key"}
    slowest_ms = 0.0
    try:
        progress = start_import(bucket=job["bucket"], key=job["key"])
        if progress.error:
            # This version of the object failed for good before: say so again, import nothing.
            return {"source": source, "error": progress.error, "state": "failed"}
        already_done = progress.finished_at is not None
        while progress.finished_at is None and not progress.error:
            if _remaining_ms(context) < settings.HERO_S3_IMPORT_RESERVE_MS + 2 * slowest_ms:
                summary = _summary(source, progress, "continued")
                logger.info("import continues in a new invocation", extra={"import": summary})
                return summary
            started = time.perf_counter()
            progress = import_next_part(progress_id=progress.pk)
            slowest_ms = max(slowest_ms, (time.perf_counter() - started) * 1000)
    except SourceError as exc:
        logger.error("import failed", extra={"source": source, "error": str(exc)})
        return {"source": source, "error": str(exc)}
    summary = _summary(source, progress, "already imported" if already_done else "finished")
    logger.info("import finished", extra={"import": summary})
    return summary


def _remaining_ms(context) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() if remaining else float("inf")


def _summary(source: str, progress, state: str) -> dict:
    return {
        "source": source,
        "etag": progress.etag,
        "state": state,
        "offset": progress.offset,
        "size": progress.size,
        "parts": progress.parts,
        "rows": progress.rows,
        "created": progress.created,
        "updated": progress.updated,
        "invalid": progress.invalid,
        "errors": progress.errors[:20],
    }
