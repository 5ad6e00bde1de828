"""The benchmark's report of its targets: only the sections run are checked, each met or not."""

from bench.__main__ import target_lines, targets
from bench.sections import cold_package, web


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


def run(requests_per_s: float, p99_us: float) -> dict:
    page = {"requests_per_s": requests_per_s, "p50_us": 5000.0, "p99_us": p99_us, "non_2xx": 0}
    return {"web": {"cache": page, "no_cache": page, "service_us": 700.0}}


def test_the_web_targets_are_met_only_by_enough_requests_and_a_short_enough_p99():
    met = targets(run(2600, 9000), [("web", web)])
    assert [(t["measured"], t["goal"], t["met"]) for t in met] == [
        (2600, ">= 2500", True),
        (9.0, "<= 10", True),
    ]
    last_measured = targets(run(1237, 17000), [("web", web)])
    assert [t["met"] for t in last_measured] == [False, False]


def test_a_skipped_web_section_has_no_targets_to_miss():
    assert targets({"web": {"skipped": "wrk is not installed"}}, [("web", web)]) == []
