"""Write events of 1 and 100 records, with and without write-through."""

from bench.support import count_round_trips, quiet_stdout


def run(plan, results: dict) -> dict:
    from bench.timing import timed
    from cache_worker.handler import lambda_handler
    from heroes.models import Hero

    record = {"hero": "yes", "name": "Bench Writer", "power": "writing", "color": "gray", "xp": "1"}
    out = {}
    with quiet_stdout():
        for size in (1, 100):
            for use_cache in ("True", "False"):
                event = {"REQUEST": "write", "USE_CACHE": use_cache, "SQLS": [record] * size}
                reps = (plan.reps // 10) if size == 1 else max(10, plan.reps_big // 5)
                timing = timed(
                    f"write_{size}_{use_cache}", lambda e=event: lambda_handler(e), reps=reps, warmup=3
                )
                redis_requests, sql = count_round_trips(lambda e=event: lambda_handler(e), times=5)
                timing.extra.update(redis_requests=redis_requests, sql_queries=sql)
                out[f"write_{size}_{'cache' if use_cache == 'True' else 'nocache'}"] = timing.as_dict()
    # Keep the data set at its size for the next run.
    Hero.objects.filter(name="Bench Writer").delete()
    return out


def targets(results: dict) -> list[tuple[str, float, str, float]]:
    return []
