"""
Cold start of the Lambda package (issue 15): the zip `make package` builds, unpacked into a
read-only folder as /var/task is, run by the bare interpreter (``python -I -S``: no site
packages, no environment), to the first answered event (a 3-id read). Beside it, timed
alternately, a bare ``django.setup()`` of an empty project from the same folder: the
cost of Django's default start on this machine at this moment; and the floor, that set-up
plus the imports no direct read can do without (the ORM through the MySQL backend, redis-py
through django-redis; bench/cold_child.py), which no trimming of heroapp's own start goes below.

Times are the parent's, from spawning the process to reading its answer (interpreter
start included), and the child's CPU time, which a busy shared machine inflates less.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TARGET_MS = 250.0


def interpreter() -> str:
    python = Path(sysconfig.get_config_var("BINDIR")) / "python3.12"
    return str(python if python.exists() else Path(sys.base_prefix) / "bin" / "python3.12")


def package(*, rebuild: bool) -> Path:
    """The production zip, built by the same script as `make package` (of the code as it is now)."""
    out = ROOT / "build" / "heroapp-bench.zip"
    if rebuild or not out.exists():
        subprocess.run(
            [str(ROOT / "scripts" / "package.sh")],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={**os.environ, "STAGE": "production", "OUT": str(out)},
        )
    return out


def one(python: str, folder: Path, variant: str, env: dict) -> dict:
    started = time.perf_counter()
    command = [python, "-I", "-S", str(ROOT / "bench" / "cold_child.py"), str(folder), variant]
    child = subprocess.Popen(
        command, env=env, cwd=folder.parent, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    line = ""
    for line in child.stdout:
        if line.startswith('{"ms"'):
            break
    answered = time.perf_counter()
    child.wait()
    result = json.loads(line)
    result["spawn_to_answer_ms"] = (answered - started) * 1000
    return result


def run(plan, results: dict) -> dict:
    quick = getattr(plan, "quick", False)
    if quick and not (ROOT / "build" / "heroapp-bench.zip").exists():
        # Building the package takes minutes: the quick run (CI) measures only a package
        # an earlier full run left behind.
        return {"skipped": "no build/heroapp-bench.zip (a full `make bench` builds it)"}
    runs = 3 if quick else 11
    python = interpreter()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "task"
        with zipfile.ZipFile(package(rebuild=not quick)) as archive:
            archive.extractall(folder)
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & 0o555)  # read-only, as /var/task
        env = {
            "PATH": "/usr/bin:/bin",
            "LD_LIBRARY_PATH": str(folder / "lib"),
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "REDIS_URL": os.environ["REDIS_URL"],
            "SECRET_KEY": "bench-cold-start",
            "AWS_LAMBDA_FUNCTION_NAME": "heroapp-production",
            "LOG_LEVEL": "WARNING",
        }
        samples: dict[str, list[dict]] = {"handler": [], "bare_django": [], "floor": []}
        one(python, folder, "handler", env)  # the page cache warm, as on a Lambda host
        for _ in range(runs):
            samples["handler"].append(one(python, folder, "handler", env))
            samples["bare_django"].append(one(python, folder, "bare", env))
            samples["floor"].append(one(python, folder, "floor", env))
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        shutil.rmtree(folder)
    out = {"runs": runs}
    for name, values in samples.items():
        out[name] = {
            "median_ms": round(statistics.median(v["spawn_to_answer_ms"] for v in values), 1),
            "min_ms": round(min(v["spawn_to_answer_ms"] for v in values), 1),
            "median_cpu_ms": round(statistics.median(v["cpu_ms"] for v in values), 1),
        }
    out["handler_over_bare_django"] = round(out["handler"]["median_ms"] / out["bare_django"]["median_ms"], 2)
    out["handler_over_floor"] = round(out["handler"]["median_ms"] / out["floor"]["median_ms"], 2)
    return out


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    section = results.get("cold_package")
    if not section or "skipped" in section:
        return []
    return [
        (
            "cold start of the unpacked package to the first answered event (python -I -S, read-only), ms; "
            f"beside it a bare django.setup() {section['bare_django']['median_ms']:g} ms, "
            f"the floor {section['floor']['median_ms']:g} ms",
            section["handler"]["median_ms"],
            "<=",
            TARGET_MS,
        )
    ]
