import sys

from django.core.management.base import BaseCommand, CommandError

from heroes.importer import SourceError, import_heroes


class Command(BaseCommand):
    help = "Import heroes from a CSV file or an s3://bucket/key object (upsert by id)."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a CSV path or s3://bucket/key")
        parser.add_argument("--strict", action="store_true", help="write nothing if any row is invalid")
        parser.add_argument("--warm-cache", action="store_true", help="store imported heroes in the cache")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, source, strict, warm_cache, batch_size, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            report = import_heroes(
                source=source,
                strict=strict,
                warm_cache=warm_cache,
                batch_size=batch_size,
                progress=not no_progress and sys.stderr.isatty(),
            )
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        for error in report.errors:
            self.stderr.write(str(error))
        if report.invalid > len(report.errors):
            self.stderr.write(f"... and {report.invalid - len(report.errors)} more invalid rows")
        if not report.committed:
            raise CommandError(f"{report.invalid} invalid rows; --strict: nothing was imported")
        self.stdout.write(
            f"Imported {report.rows - report.invalid} of {report.rows} rows from {source}: "
            f"{report.created} created, {report.updated} updated, {report.invalid} invalid "
            f"({report.elapsed_s:.1f} s, {report.rows_per_second:,.0f} rows/s)"
        )
