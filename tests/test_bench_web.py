"""The benchmark's web section states its targets (issue 15) and says whether they were met."""

from bench.__main__ import targets
from bench.sections import web


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
