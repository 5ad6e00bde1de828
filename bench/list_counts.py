"""
What the list's result count costs at scale: COUNT(*) against the bounded count the list
uses (heroes/selectors.py count_heroes), with and without filters, and the SELECT DISTINCT
the admin's power and color filters ran on every change-list page.

Run against a database that already holds the rows (it reads only):

    DATABASE_URL=mysql://root@127.0.0.1:3306/heroapp_1m python -m bench.list_counts

docs/web.md records the numbers.
"""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heroapp.settings")
django.setup()

from django.db import connection  # noqa: E402

from bench.timing import machine, timed  # noqa: E402
from heroes.models import Hero  # noqa: E402
from heroes.selectors import count_heroes, filter_heroes  # noqa: E402

REPS = int(os.environ.get("REPS", "7"))


def listing(**filters):
    """The list's queryset, as list_heroes builds it (newest first)."""
    return filter_heroes(**filters)


def distinct(column: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {column} FROM heroes_hero ORDER BY {column}")
        return len(cursor.fetchall())


def main() -> None:
    cases = {
        "all heroes": {},
        "color=teal": {"color": "teal"},
        "villains": {"hero": False},
        "search 'falcon' (common: ordered scan)": {"search": "falcon"},
        "search 'x' (short word: scan)": {"search": "x"},
        "search 'zzyzx' (no match: full-text probe)": {"search": "zzyzx"},
        "search 'falcon', villains, color=teal": {"search": "falcon", "hero": False, "color": "teal"},
    }
    rows = []
    for name, filters in cases.items():
        exact = timed(
            f"{name}: COUNT(*)",
            lambda filters=filters: listing(**filters).order_by().count(),
            reps=REPS,
            warmup=1,
        )
        bounded = timed(
            f"{name}: bounded",
            lambda filters=filters: count_heroes(listing(**filters)),
            reps=REPS,
            warmup=1,
        )
        rows.append(
            {
                "case": name,
                "matches": listing(**filters).order_by().count(),
                "count_ms": exact.median_us / 1000,
                "bounded_ms": bounded.median_us / 1000,
            }
        )
    for column in ("color", "power"):
        timing = timed(f"DISTINCT {column}", lambda column=column: distinct(column), reps=REPS, warmup=1)
        rows.append(
            {
                "case": f"SELECT DISTINCT {column}",
                "matches": distinct(column),
                "count_ms": timing.median_us / 1000,
                "bounded_ms": None,
            }
        )
    print(json.dumps({"rows": Hero.objects.count(), "machine": machine(), "results": rows}, indent=1))
    for row in rows:
        bounded = "" if row["bounded_ms"] is None else f"{row['bounded_ms']:9.1f} ms"
        print(f"{row['case']:45} {row['matches']:>9,} {row['count_ms']:9.1f} ms {bounded}")


if __name__ == "__main__":
    main()
