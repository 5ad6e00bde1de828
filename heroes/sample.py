"""Generated hero data: the shipped sample CSV and large data sets for benchmarks."""

import csv
import random
from collections.abc import Iterator
from pathlib import Path

from heroes.schema import COLORS

SAMPLE_CSV = Path(__file__).resolve().parent / "data" / "heroes.csv"
COLUMNS = ["id", "name", "hero", "power", "xp", "color"]

_FIRST = [
    "Captain",
    "Doctor",
    "Iron",
    "Silver",
    "Night",
    "Shadow",
    "Star",
    "Storm",
    "Thunder",
    "Crimson",
    "Mighty",
    "Phantom",
    "Quantum",
    "Solar",
    "Frost",
    "Blaze",
    "Atomic",
    "Cosmic",
    "Dark",
    "Golden",
]
_SECOND = [
    "Falcon",
    "Wolf",
    "Hawk",
    "Tiger",
    "Viper",
    "Knight",
    "Comet",
    "Spark",
    "Fury",
    "Ghost",
    "Titan",
    "Raven",
    "Lynx",
    "Cobra",
    "Sentinel",
    "Wraith",
    "Arrow",
    "Bolt",
    "Shield",
    "Nova",
]
_POWERS = [
    "fire",
    "ice",
    "flight",
    "strength",
    "speed",
    "telepathy",
    "invisibility",
    "magnetism",
    "weather control",
    "healing",
    "time travel",
    "shape shifting",
    "sonic scream",
    "x-ray vision",
]


def generate_rows(count: int, *, seed: int = 42, start_id: int = 1) -> Iterator[list]:
    """
    ``count`` rows of plausible heroes with ids from ``start_id``; the same seed, the same rows.

    Names are distinct: the first 400 ids take the 400 first-and-second-word pairs in a
    shuffled order, and each later round of 400 adds its number ("Atomic Arrow 2").
    """
    rng = random.Random(seed)
    pairs = [f"{first} {second}" for first in _FIRST for second in _SECOND]
    random.Random(seed).shuffle(pairs)
    for hero_id in range(start_id, start_id + count):
        round_, position = divmod(hero_id - 1, len(pairs))
        name = pairs[position] if round_ == 0 else f"{pairs[position]} {round_ + 1}"
        yield [
            hero_id,
            name,
            "yes" if rng.random() < 0.7 else "no",
            rng.choice(_POWERS),
            int(rng.paretovariate(1.5) * 10),
            rng.choice(COLORS),
        ]


def write_csv(path: str | Path, count: int, *, seed: int = 42) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(generate_rows(count, seed=seed))
