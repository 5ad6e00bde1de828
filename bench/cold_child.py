"""
One cold start, run by bench/sections/cold_package.py as
``python -I -S bench/cold_child.py TASK_FOLDER handler|bare``: the handler's import and its
first answered event, or a bare ``django.setup()`` of an empty project, for comparison.
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
