"""
S3-triggered import: an ObjectCreated notification for a CSV in the import bucket
imports it through the same importer as ``manage.py import_heroes``.

Zappa routes the notification here (zappa_settings.json, "events"): each record names
one object, whose key arrives URL-encoded (a space as "+").
"""

import logging
from urllib.parse import unquote_plus

from heroes.importer import SourceError, import_heroes

logger = logging.getLogger(__name__)


def import_s3_object(event, context=None) -> dict:
    results = []
    for record in event.get("Records", []):
        s3 = record.get("s3", {})
        bucket = s3.get("bucket", {}).get("name")
        key = unquote_plus(s3.get("object", {}).get("key", ""))
        source = f"s3://{bucket}/{key}"
        try:
            report = import_heroes(source=source)
        except SourceError as exc:
            logger.error("import failed", extra={"source": source, "error": str(exc)})
            results.append({"source": source, "error": str(exc)})
            continue
        summary = {
            "source": source,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "invalid": report.invalid,
            "errors": [str(e) for e in report.errors[:20]],
            "elapsed_s": round(report.elapsed_s, 3),
        }
        logger.info("import finished", extra={"import": summary})
        results.append(summary)
    return {"imports": results}
