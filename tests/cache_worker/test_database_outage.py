"""
MariaDB restarted in the middle of a load run: requests that need the database during the
outage get a clear 503, nothing is half-written, and the same worker process recovers
without a restart.

The test runs a MariaDB server of its own (its own data directory and port, started and
killed here), so the suite's server is never touched.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    not shutil.which("mariadbd") and not os.path.exists("/usr/sbin/mariadbd"),
    reason="needs mariadbd (Debian's mariadb-server)",
)

LOAD = """
import json, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from cache_worker.handler import lambda_handler
sys.stderr.write("READY\\n"); sys.stderr.flush()
statuses = []
deadline = time.monotonic() + float(sys.argv[1])
i = 0
while time.monotonic() < deadline:
    i += 1
    if i % 2:
        event = {"REQUEST": "write", "USE_CACHE": "True",
                 "SQLS": [{"name": f"Outage {i}", "hero": "yes", "power": "", "color": "", "xp": k}
                          for k in range(3)]}
    else:
        event = {"REQUEST": "read", "SQLS": [1, 2, 3], "USE_CACHE": "False"}
    started = time.monotonic()
    response = lambda_handler(event)
    statuses.append([event["REQUEST"], response["statusCode"], i,
                     json.loads(response["body"]) if response["statusCode"] != 200 else None])
    time.sleep(0.01)
sys.__stderr__.write("RESULT " + json.dumps({"statuses": statuses}) + "\\n")
"""


@pytest.fixture
def private_mariadb(private_mariadb_factory):
    # Normal authentication with root's empty password; nothing else configured.
    server = private_mariadb_factory()
    import MySQLdb

    conn = MySQLdb.connect(host="127.0.0.1", port=server.port, user="root")
    conn.cursor().execute("CREATE DATABASE outage CHARACTER SET utf8mb4")
    conn.close()
    return server


def test_a_database_crash_mid_run_gives_503s_loses_nothing_and_the_worker_recovers(private_mariadb):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)},
        "DATABASE_URL": f"mysql://root@127.0.0.1:{private_mariadb.port}/outage",
        "DATABASE_CONNECT_TIMEOUT": "1",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", LOAD, "6"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stderr.readline().strip() == "READY"
    time.sleep(1.0)
    private_mariadb.kill()
    time.sleep(1.5)
    private_mariadb.start()  # the same data directory: InnoDB recovers what was committed
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err[-2000:]
    result = json.loads(err.split("RESULT ", 1)[1])
    statuses = result["statuses"]

    codes = [code for _, code, _, _ in statuses]
    assert set(codes) <= {200, 503}, "only successes and clear 503s, never a 500"
    first_503 = codes.index(503)
    last_503 = len(codes) - 1 - codes[::-1].index(503)
    assert all(code == 200 for code in codes[:first_503]), "all good before the crash"
    assert codes[last_503 + 1 :] and all(code == 200 for code in codes[last_503 + 1 :]), (
        "recovered, same process"
    )
    for _, code, _, body in statuses:
        if code == 503:
            assert "database is unavailable" in body["error"]

    # Nothing half-written: each 3-record batch is in the database whole or not at all; every
    # batch answered 200 is there. A batch answered 503 may be there too, when the server died
    # after making its COMMIT durable but before acknowledging it: the 503 says so.
    import MySQLdb

    conn = MySQLdb.connect(host="127.0.0.1", port=private_mariadb.port, user="root", database="outage")
    cursor = conn.cursor()
    cursor.execute("SELECT name, COUNT(*) FROM heroes_hero WHERE name LIKE 'Outage %%' GROUP BY name")
    rows_per_batch = {int(name.split()[1]): count for name, count in cursor.fetchall()}
    conn.close()
    assert set(rows_per_batch.values()) <= {3}, "a batch was half-written"
    for request, code, i, body in statuses:
        if request == "write" and code == 200:
            assert rows_per_batch.get(i) == 3, f"acknowledged batch {i} is missing"
        elif request == "write":
            assert "either fully written or not at all" in body["error"]
