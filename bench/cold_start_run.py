"""
python -m bench.cold_start_run: one cold start, timed from this module's first line to the
first answered event; prints {"import_setup_ms", "first_event_ms", "total_ms", "status"} on stderr.
Run by bench/sections/cold_start.py in a new process each time.
"""
# ruff: noqa: E402 (the clock starts before the imports it measures)

import time

started = time.perf_counter()
import json
import sys

from cache_worker.handler import lambda_handler

imported = time.perf_counter()
response = lambda_handler({"REQUEST": "read", "SQLS": [1, 2, 3]})
answered = time.perf_counter()
sys.__stderr__.write(
    json.dumps(
        {
            "import_setup_ms": (imported - started) * 1000,
            "first_event_ms": (answered - imported) * 1000,
            "total_ms": (answered - started) * 1000,
            "status": response["statusCode"],
        }
    )
    + "\n"
)
