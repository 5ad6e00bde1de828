"""
Operator tasks run on the deployed function with ``zappa invoke STAGE 'cache_worker.tasks.NAME'``.

Each is a thin interface over a service function, with Zappa's (event, context) signature.
"""

from heroes.services import flush_hero_cache, warm_all_heroes


def warm_cache(event=None, context=None) -> dict:
    """Load every hero into the cache, e.g. after a deploy that bumped the key schema."""
    return {"warmed": warm_all_heroes()}


def flush_cache(event=None, context=None) -> dict:
    """Delete the hero namespace from the cache (never the rest of the Redis database)."""
    return {"deleted": flush_hero_cache()}


def continue_s3_import(event=None, context=None) -> dict:
    """The rest of an S3 import that one invocation could not finish (cache_worker/s3_import.py)."""
    from cache_worker.s3_import import run_imports

    jobs = (event or {}).get("s3_import")
    if not isinstance(jobs, list) or not all(isinstance(job, dict) for job in jobs):
        return {"error": "s3_import must be a list of {bucket, key} objects"}
    # Whoever may invoke the function can send this event: it continues imports from the
    # stage's own import buckets only, never from a bucket the invoker names.
    allowed = _import_buckets()
    if any(job.get("bucket") not in allowed for job in jobs):
        return {"error": "s3_import may name only the stage's import buckets"}
    return run_imports([{"bucket": j.get("bucket"), "key": j.get("key")} for j in jobs], context)


def _import_buckets() -> set[str]:
    """The buckets whose notifications the stage's events send here (zappa_settings.json)."""
    from zappa.handler import LambdaHandler

    mapping = getattr(LambdaHandler().settings, "AWS_EVENT_MAPPING", None) or {}
    return {arn.removeprefix("arn:aws:s3:::") for arn in mapping if arn.startswith("arn:aws:s3:::")}
