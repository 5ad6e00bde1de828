"""
The importer against the server's own bulk load (issue 15), at 200k and 1M rows.

The floor is ``LOAD DATA LOCAL INFILE`` of the same generated CSV into a table made
``LIKE heroes_hero`` (same indexes, FULLTEXT included), with no validation and no cache.
The importer (heroes/importer.py, bulk path) runs in its own process against an empty
heroes_hero of the same database, with the cache on. The two are timed alternately, each
round starting from an empty table, and the ratio is taken per round: on a shared machine
only ratios of neighbouring runs mean anything.

Replaces the old "import" section (rows/s of the importer alone).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from bench.support import mysql_params

ROOT = Path(__file__).resolve().parent.parent.parent
TARGET_RATIO = 1.5

FLOOR_SQL = (
    "LOAD DATA LOCAL INFILE %s INTO TABLE floor_hero CHARACTER SET utf8mb4 "
    "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES "
    "(id, name, @hero, power, xp, color) "
    "SET hero = (@hero = 'yes'), version = 1, created_at = NOW(6), updated_at = NOW(6)"
)


def sizes(plan) -> list[tuple[int, int]]:
    """(rows, rounds): the quick run keeps CI short."""
    if getattr(plan, "quick", False):
        return [(20_000, 2)]
    return [(200_000, 5), (1_000_000, 1)]


def _params(url: str, *, database: bool = True) -> dict:
    # LOAD DATA LOCAL INFILE needs the client's consent too.
    return {**mysql_params(url, database=database), "local_infile": True, "charset": "utf8mb4"}


def floor(url: str, path: Path) -> float:
    """Seconds for the server's own bulk load of ``path`` into an empty copy of heroes_hero."""
    import MySQLdb

    conn = MySQLdb.connect(**_params(url), autocommit=True)
    try:
        cursor = conn.cursor()
        cursor.execute("DROP TABLE IF EXISTS floor_hero")
        cursor.execute("CREATE TABLE floor_hero LIKE heroes_hero")
        started = time.perf_counter()
        cursor.execute(FLOOR_SQL, [str(path)])
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE floor_hero")
        return elapsed
    finally:
        conn.close()


def importer(url: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_run", str(path)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def run(plan, results: dict) -> dict:
    import MySQLdb

    from heroes.sample import write_csv

    url = os.environ["DATABASE_URL"] + "_import"
    name = urlparse(url).path.lstrip("/")
    conn = MySQLdb.connect(**_params(url, database=False))
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for index, (rows, rounds) in enumerate(sizes(plan)):
            path = Path(folder) / f"import-{rows}.csv"
            write_csv(path, rows)
            if index == 0:
                importer(url, path)  # migrates the database, and warms up the server
            per_round = []
            for index in range(rounds):
                # Alternate which goes first, so neither always runs on a warmer server.
                if index % 2:
                    run_import = importer(url, path)
                    floor_s = floor(url, path)
                else:
                    floor_s = floor(url, path)
                    run_import = importer(url, path)
                per_round.append(
                    {
                        "floor_s": round(floor_s, 3),
                        "importer": run_import,
                        "ratio": round(run_import["seconds"] / floor_s, 2),
                    }
                )
            floor_s = statistics.median(r["floor_s"] for r in per_round)
            importer_s = statistics.median(r["importer"]["seconds"] for r in per_round)
            out[str(rows)] = {
                "rows": rows,
                "rounds": per_round,
                "floor_s": round(floor_s, 3),
                "importer_s": round(importer_s, 3),
                "floor_rows_per_s": round(rows / floor_s),
                "importer_rows_per_s": round(rows / importer_s),
                "ratio": round(statistics.median(r["ratio"] for r in per_round), 2),
            }
            path.unlink()
    return out


def summary(entry: dict) -> str:
    """Both sides of the ratio, per round, so a target's verdict can be checked by eye."""
    rounds = ", ".join(
        f"{r['importer']['seconds']:.1f} s / {r['floor_s']:.1f} s = {r['ratio']:g}x" for r in entry["rounds"]
    )
    return (
        f"import of {entry['rows']:,} rows: importer {entry['importer_s']:.1f} s "
        f"vs LOAD DATA LOCAL INFILE {entry['floor_s']:.1f} s "
        f"(medians; per round, timed alternately: {rounds})"
    )


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    # The target is set at 200k and 1M rows; the quick run's 20k rows are mostly fixed costs
    # (threads, connection, staging table), reported in the section but not judged.
    section = results.get("bulk_import", {})
    return [
        (summary(entry) + ", median ratio", entry["ratio"], "<=", TARGET_RATIO)
        for rows, entry in section.items()
        if int(rows) >= 200_000
    ]
