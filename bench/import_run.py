"""
One timed import, in a process of its own: ``python -m bench.import_run CSV``.

Prints one JSON line on stderr: rows, seconds, rows/s, the importer's own CPU time (all
its threads) and the bulk path's per-thread busy time. The database and Redis come from
DATABASE_URL / REDIS_URL; heroes_hero is emptied and the hero namespace of the cache
flushed first, so every run starts alike.
"""

import json
import sys
import time

import django


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from heroes.importer import import_heroes
    from heroes.services import flush_hero_cache

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE TABLE heroes_hero")
    flush_hero_cache()
    cpu = time.process_time()
    report = import_heroes(source=sys.argv[1])
    cpu = time.process_time() - cpu  # all the importer's threads; the servers' CPU is not in it
    sys.__stderr__.write(
        json.dumps(
            {
                "rows": report.rows,
                "created": report.created,
                "invalid": report.invalid,
                "seconds": round(report.elapsed_s, 3),
                "rows_per_s": round(report.rows_per_second),
                "python_cpu_s": round(cpu, 3),
                "busy_s": {name: round(value, 3) for name, value in report.timings.items()},
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
