"""
python -m bench.import_run CSV: import a CSV into DATABASE_URL (migrated first) in a new
process; prints {"rows", "seconds", "rows_per_s"} on stderr. Run by bench/sections/importer.py.
"""

import json
import sys

import django


def main(source: str) -> None:
    django.setup()
    from django.core.management import call_command

    from heroes.importer import import_heroes

    call_command("migrate", verbosity=0)
    report = import_heroes(source=source, batch_size=5000)
    sys.__stderr__.write(
        json.dumps({"rows": report.rows, "seconds": report.elapsed_s, "rows_per_s": report.rows_per_second})
        + "\n"
    )


if __name__ == "__main__":
    main(sys.argv[1])
