"""
TLS to Redis (rediss://) and to MariaDB, with certificates from a test certificate
authority, against servers of the test's own: the connection works when the client trusts
that CA, and the cache is refused (reads fall back) when it does not, so certificates are
really verified.
"""

import json
import os
import shutil
import subprocess

import pytest

from scripts.private_mariadb import free_port, wait_for_port
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tls_redis(certificates, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [
            shutil.which("redis-server"),
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            str(certificates / "server.pem"),
            "--tls-key-file",
            str(certificates / "server.key"),
            "--tls-ca-cert-file",
            str(certificates / "ca.pem"),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port)
    yield port
    process.terminate()
    process.wait(timeout=10)


READ_TWICE = """
import json
from cache_worker.handler import lambda_handler
first = lambda_handler({"REQUEST": "read", "SQLS": [1]})
second = lambda_handler({"REQUEST": "read", "SQLS": [1]})
print("RESULT " + json.dumps([first["statusCode"], second["statusCode"],
                              second["meta"]["cache"], second["meta"]["hits"]]))
"""


def run_reads(run_python, env) -> list:
    done = run_python(["-c", READ_TWICE], env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.split("RESULT ", 1)[1])


def test_rediss_with_the_test_ca_caches_and_without_it_is_refused(
    tls_redis, certificates, make_heroes, subprocess_env, run_python
):
    make_heroes(1)
    trusted = {
        **subprocess_env,
        "REDIS_URL": f"rediss://localhost:{tls_redis}/0?ssl_ca_certs={certificates / 'ca.pem'}",
    }
    assert run_reads(run_python, trusted) == [200, 200, "redis", 1]

    # The system trust store does not know the test CA: the handshake fails, reads fall back.
    untrusted = {**subprocess_env, "REDIS_URL": f"rediss://localhost:{tls_redis}/0"}
    assert run_reads(run_python, untrusted) == [200, 200, "unavailable", 0]


MIGRATE_AND_READ = """
import json, django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from cache_worker.handler import lambda_handler
response = lambda_handler({"REQUEST": "write",
                           "SQLS": [{"name": "Secure", "hero": "yes", "power": "", "color": "", "xp": 1}]})
with connection.cursor() as cursor:
    cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
    version = cursor.fetchone()[1]
print("RESULT " + json.dumps([response["statusCode"], version]))
"""


def test_mysql_over_tls_with_the_test_ca(tls_mariadb, certificates, run_python):
    import MySQLdb

    conn = MySQLdb.connect(
        host="127.0.0.1", port=tls_mariadb, user="root", ssl={"ca": str(certificates / "ca.pem")}
    )
    conn.cursor().execute("CREATE DATABASE tls CHARACTER SET utf8mb4")
    conn.close()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="heroapp.settings",
        DATABASE_URL=f"mysql://root@127.0.0.1:{tls_mariadb}/tls?ssl-ca={certificates / 'ca.pem'}",
    )
    done = run_python(["-c", MIGRATE_AND_READ], env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    status, ssl_version = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert status == 200 and ssl_version.startswith("TLS")

    # A client that trusts another CA is refused (the server certificate is verified), and
    # so is one without TLS (the server requires it): both get the worker's clean 503.
    (certificates / "other-ca.pem").write_bytes(certificates.joinpath("server.pem").read_bytes())
    for url in (
        f"mysql://root@127.0.0.1:{tls_mariadb}/tls?ssl-ca={certificates / 'other-ca.pem'}",
        f"mysql://root@127.0.0.1:{tls_mariadb}/tls",
    ):
        refused = run_python(
            ["-m", "cache_worker", '{"REQUEST": "read", "SQLS": [1]}'], {**env, "DATABASE_URL": url}
        )
        assert json.loads(refused.stdout)["statusCode"] == 503, url
