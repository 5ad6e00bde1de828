from django.core.management.base import BaseCommand, CommandError

from heroes.sample import write_csv


class Command(BaseCommand):
    help = "Write a CSV of generated heroes (100k to 1M rows for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="where to write the CSV")
        parser.add_argument("--count", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, path, count, seed, **options):
        if count < 1:
            raise CommandError("--count must be at least 1")
        write_csv(path, count, seed=seed)
        self.stdout.write(f"Wrote {count} heroes to {path}")
