"""The web detail page under load (gunicorn, 2 workers; wrk, 16 connections), with and without the cache."""

import os


def run(plan, results: dict) -> dict:
    from bench import web as load
    from heroes.services import warm_heroes

    warm_heroes(ids=list(range(1, 1001)))
    env = {**os.environ}
    out = {}
    for use_cache in (True, False):
        result = load.run(use_cache=use_cache, seconds=plan.web_seconds, hot_ids=1000, env=env)
        if result is None:
            return {"skipped": "wrk is not installed (apt-get install wrk)"}
        out["cache" if use_cache else "no_cache"] = result
    return out


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    return []
