"""Configured passwords never appear in logs or responses, even when everything fails."""

import json

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

DB_PASSWORD = "db-pw-Zq7-never-print-me"
REDIS_PASSWORD = "redis-pw-K3x-never-print-me"

SCRIPT = """
import json
from cache_worker.handler import lambda_handler
events = [
    {"REQUEST": "read", "SQLS": [1, 2, 3]},
    {"REQUEST": "write", "SQLS": [{"name": "x", "hero": "yes", "power": "", "color": "", "xp": 1}]},
    {"REQUEST": "read", "SQLS": ["bad"]},
]
for event in events:
    print("RESPONSE " + json.dumps(lambda_handler(event)))
"""


def test_passwords_stay_out_of_logs_and_responses_when_both_servers_fail(subprocess_env, run_python):
    env = {
        **subprocess_env,
        "DATABASE_URL": f"mysql://heroapp:{DB_PASSWORD}@127.0.0.1:1/heroapp",
        "REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0",
        "LOG_LEVEL": "DEBUG",
    }
    done = run_python(["-c", SCRIPT], env)
    output = done.stdout + done.stderr

    responses = [
        json.loads(line.split(" ", 1)[1]) for line in done.stdout.splitlines() if line.startswith("RESPONSE ")
    ]
    assert [r["statusCode"] for r in responses] == [503, 503, 400]
    assert "database unavailable" in output and "hero cache unavailable" in output  # failures are logged
    assert DB_PASSWORD not in output and REDIS_PASSWORD not in output
