"""Import throughput: a generated CSV imported into a new database by a new process."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from bench.support import ROOT, create_database, mysql_params


def run(plan, results: dict) -> dict:
    from heroes.sample import write_csv

    url = os.environ["DATABASE_URL"] + "_import"
    import MySQLdb

    conn = MySQLdb.connect(**mysql_params(url, database=False))
    name = urlparse(url).path.lstrip("/")
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()
    create_database(url)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "import.csv"
        write_csv(path, plan.import_rows)
        done = subprocess.run(
            [sys.executable, "-m", "bench.import_run", str(path)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    return {k: round(v, 1) if isinstance(v, (int, float)) else v for k, v in result.items()}


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    return [("import throughput (rows/s)", results["import"]["rows_per_s"], ">=", 50_000.0)]
