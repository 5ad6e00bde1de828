"""Repeat a call, time each repetition, and summarise: medians and p99s, never means."""

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


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


def timed(name: str, call: Callable[[], object], *, reps: int, warmup: int = 20,
          before: Callable[[], object] | None = None, **extra) -> Timing:
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
    return Timing(name, reps, round(statistics.median(samples), 1), round(percentile(samples, 0.99), 1), extra)
