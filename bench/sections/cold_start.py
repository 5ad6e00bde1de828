"""Cold start: a new process importing the handler and answering its first event (bench/cold_start_run.py)."""

import json
import os
import subprocess
import sys

from bench.support import ROOT


def run(plan, results: dict) -> dict:
    import statistics

    runs = []
    for _ in range(plan.cold_runs + 1):
        done = subprocess.run(
            [sys.executable, "-m", "bench.cold_start_run"],
            cwd=ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stderr.strip().splitlines()[-1]))
    runs = runs[1:]  # the first run writes bytecode caches; Lambda ships them in the package
    # What dominates: Django's set-up, timed alone.
    setup = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    heaviest = sorted(
        (
            line.split("|")
            for line in setup.stderr.splitlines()
            if line.startswith("import time:")
            and line.count("|") == 2
            and line.split("|")[1].strip().isdigit()
        ),
        key=lambda parts: -int(parts[1]),
    )
    top = [
        (parts[2].strip(), round(int(parts[1]) / 1000, 1))
        for parts in heaviest
        if not parts[2].startswith("  ")
    ][:6]
    return {
        "runs": len(runs),
        "median_total_ms": round(statistics.median(r["total_ms"] for r in runs), 1),
        "median_import_setup_ms": round(statistics.median(r["import_setup_ms"] for r in runs), 1),
        "median_first_event_ms": round(statistics.median(r["first_event_ms"] for r in runs), 1),
        "heaviest_imports_ms": top,
    }


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    return [("cold start to first answered event (ms)", results["cold_start"]["median_total_ms"], "<", 300.0)]
