"""Repeat a call, time each repetition, and summarise: medians and p99s, never means."""

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Timing:
    name: str
    reps: int
    median_us: float
    p99_us: float
    extra: dict

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed(
    name: str,
    call: Callable[[], object],
    *,
    reps: int,
    warmup: int = 20,
    before: Callable[[], object] | None = None,
    **extra,
) -> Timing:
    """Time ``call`` ``reps`` times; ``before`` runs untimed before each repetition."""
    for _ in range(warmup):
        if before:
            before()
        call()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(reps):
        if before:
            before()
        start = clock()
        call()
        samples.append((clock() - start) / 1000)
    return Timing(
        name, reps, round(statistics.median(samples), 1), round(percentile(samples, 0.99), 1), extra
    )


def paired(
    a: tuple[str, Callable[[], object]], b: tuple[str, Callable[[], object]], *, reps: int, warmup: int = 50
) -> tuple[Timing, Timing]:
    """
    Time two calls alternately, A then B, ``reps`` times each: for a ratio between them,
    since on a shared machine two separate phases can run at different speeds.
    """
    (name_a, call_a), (name_b, call_b) = a, b
    for _ in range(warmup):
        call_a()
        call_b()
    clock = time.perf_counter_ns
    samples_a, samples_b = [], []
    for _ in range(reps):
        start = clock()
        call_a()
        middle = clock()
        call_b()
        samples_b.append((clock() - middle) / 1000)
        samples_a.append((middle - start) / 1000)
    summary = [
        Timing(name, reps, round(statistics.median(xs), 1), round(percentile(xs, 0.99), 1), {})
        for name, xs in ((name_a, samples_a), (name_b, samples_b))
    ]
    return summary[0], summary[1]


def alternating(
    cases: dict[str, Callable[[], object]],
    *,
    reps: int,
    warmup: int = 20,
    before: dict[str, Callable[[], object]] | None = None,
) -> dict[str, Timing]:
    """
    Time several calls in turn, one of each per round, ``reps`` rounds: for ratios between
    them on a shared machine (``paired`` for more than two). ``before[name]`` runs untimed
    before each call of that case.
    """
    before = before or {}
    clock = time.perf_counter_ns
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_number in range(warmup + reps):
        for name, call in cases.items():
            if name in before:
                before[name]()
            start = clock()
            call()
            if round_number >= warmup:
                samples[name].append((clock() - start) / 1000)
    return {
        name: Timing(name, reps, round(statistics.median(xs), 1), round(percentile(xs, 0.99), 1), {})
        for name, xs in samples.items()
    }


def machine() -> dict:
    """The machine the timings come from, recorded beside them."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "unknown",
        ),
    }
