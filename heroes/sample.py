"""Generated hero data: the shipped sample CSV and large data sets for benchmarks."""

import csv
import random
from collections.abc import Iterator
from pathlib import Path

SAMPLE_CSV = Path(__file__).resolve().parent / "data" / "heroes.csv"
COLUMNS = ["id", "name", "hero", "power", "xp", "color"]

_FIRST = [
    "Captain", "Doctor", "Iron", "Silver", "Night", "Shadow", "Star", "Storm", "Thunder", "Crimson",
    "Mighty", "Phantom", "Quantum", "Solar", "Frost", "Blaze", "Atomic", "Cosmic", "Dark", "Golden",
]
_SECOND = [
    "Falcon", "Wolf", "Hawk", "Tiger", "Viper", "Knight", "Comet", "Spark", "Fury", "Ghost",
    "Titan", "Raven", "Lynx", "Cobra", "Sentinel", "Wraith", "Arrow", "Bolt", "Shield", "Nova",
]
_POWERS = [
    "fire", "ice", "flight", "strength", "speed", "telepathy", "invisibility", "magnetism",
    "weather control", "healing", "time travel", "shape shifting", "sonic scream", "x-ray vision",
]
_COLORS = ["red", "blue", "green", "black", "white", "gold", "silver", "purple", "orange", "yellow"]


def generate_rows(count: int, *, seed: int = 42, start_id: int = 1) -> Iterator[list]:
    """``count`` rows of plausible heroes with ids from ``start_id``; the same seed, the same rows."""
    rng = random.Random(seed)
    for hero_id in range(start_id, start_id + count):
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}"
        # Names repeat among many rows, as real names do; the id is what identifies a hero.
        if hero_id > len(_FIRST) * len(_SECOND):
            name = f"{name} {hero_id}"
        yield [
            hero_id,
            name,
            "yes" if rng.random() < 0.7 else "no",
            rng.choice(_POWERS),
            int(rng.paretovariate(1.5) * 10),
            rng.choice(_COLORS),
        ]


def write_csv(path: str | Path, count: int, *, seed: int = 42) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(generate_rows(count, seed=seed))
