"""The benchmark's report of its targets when only some sections run (python -m bench --only ...)."""

from bench.__main__ import target_lines, targets
from bench.sections import cold_package


def test_only_the_sections_run_are_checked_and_each_line_says_met_or_not():
    results = {
        "cold_package": {
            "handler": {"median_ms": 301.5},
            "bare_django": {"median_ms": 280.0},
            "floor": {"median_ms": 290.0},
        }
    }

    # No other section's results exist: checking every section would fail on them.
    lines = target_lines(targets(results, [("cold_package", cold_package)]))

    assert lines == [
        "target: cold start of the unpacked package to the first answered event (python -I -S, "
        "read-only), ms; beside it a bare django.setup() 280 ms, the floor 290 ms: 301.5 <= 250: NOT met"
    ]
