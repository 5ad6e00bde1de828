"""
One cold start, run by bench/sections/cold_package.py as
``python -I -S bench/cold_child.py TASK_FOLDER handler|bare|floor``: the handler's import and
its first answered event; or, for comparison, a bare ``django.setup()`` of an empty project;
or that plus importing what no direct read can do without (Django's MySQL backend, which
imports the ORM, and django-redis with redis-py): the least any Django handler on this
stack pays before its first event, with no app, no settings module and no connection.
Prints one JSON line: wall and CPU milliseconds since the interpreter ran this file.
"""

import time

started, cpu_started = time.perf_counter(), time.process_time()

import json  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "handler":
    from cache_worker.handler import lambda_handler

    status = lambda_handler({"REQUEST": "read", "SQLS": [1, 2, 3]})["statusCode"]
else:
    from django.conf import settings

    settings.configure()
    import django

    django.setup()
    if sys.argv[2] == "floor":
        import django.db.backends.mysql.base  # noqa: F401
        import django_redis.client  # noqa: F401
    status = 0
print(
    json.dumps(
        {
            "ms": (time.perf_counter() - started) * 1000,
            "cpu_ms": (time.process_time() - cpu_started) * 1000,
            "status": status,
        }
    ),
    flush=True,
)
