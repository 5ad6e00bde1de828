"""
heroapp beside what a Django developer would pick instead (issue 15): django-cacheops and
django-cachalot, configured as their documentation recommends (bench/peer_settings.py),
and the ORM with no cache, on the same data and the same seeded id streams.

Each variant runs in its own process (bench/peers_run.py) with the interpreter of
.venv-bench, an environment of its own that holds the peers (bench/requirements-peers.in;
made here when missing, as `make bench-peers-venv` does); they are never installed in the
app's environment or its package. Variants take turns for ``rounds`` rounds and each one's
best round is kept, so a burst of load on the shared machine does not decide the ranking.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VENV = ROOT / ".venv-bench"
VARIANTS = ("heroapp", "orm", "cacheops", "cachalot")


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(ROOT / "requirements.txt"),
                "-r",
                str(ROOT / "bench" / "requirements-peers.in"),
            ],
            check=True,
            cwd=ROOT / "bench",
        )
        stamp.touch()
    return python


def flush_redis() -> None:
    """The benchmark's own Redis database: each variant starts with an empty cache."""
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


def one(python: Path, variant: str, seconds: float, dataset: int) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.peer_settings",
        "BENCH_PEER": variant,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [str(python), "-m", "bench.peers_run", variant, str(seconds), str(dataset)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        return {"variant": variant, "error": done.stderr[-1500:]}
    return json.loads(lines[-1].removeprefix("RESULT "))


def run(plan, results: dict) -> dict:
    quick = getattr(plan, "quick", False)
    seconds = 2 if quick else 10
    rounds = 1 if quick else 2
    dataset = getattr(plan, "dataset", 100_000)
    python = ensure_venv()
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for variant in VARIANTS:
            flush_redis()
            result = one(python, variant, seconds, dataset)
            kept = best.get(variant)
            if "error" in result:
                best.setdefault(variant, result)
            elif kept is None or "error" in kept or result["mixed"]["ops_per_s"] > kept["mixed"]["ops_per_s"]:
                best[variant] = result
    flush_redis()
    return {"seconds": seconds, "rounds": rounds, "variants": best}


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    variants = results.get("peers", {}).get("variants", {})
    ours = variants.get("heroapp", {}).get("mixed")
    if not ours:
        return []
    checks = []
    for other, goal in (("orm", 1.5), ("cacheops", 3.0), ("cachalot", 3.0)):
        theirs = variants.get(other, {}).get("mixed")
        if theirs:
            checks.append(
                (
                    f"mixed workload ops/s, heroapp vs {other} (one process each, same stream)",
                    round(ours["ops_per_s"] / theirs["ops_per_s"], 2),
                    ">=",
                    goal,
                )
            )
    if ours["ideal_sql_per_1000_reads"]:
        checks.append(
            (
                "mixed workload SQL per 1000 reads vs an ideal cache on the same stream",
                round(ours["sql_per_1000_reads"] / ours["ideal_sql_per_1000_reads"], 3),
                "<=",
                1.05,
            )
        )
    return checks
