"""
The MySQL backend takes the password at each connect: a rotated secret costs one refused
connect, re-read and retried, instead of 503s until the container is recycled.
"""

import json
import subprocess
import sys
import uuid

import boto3
import pytest
from django.db import connection

from tests.conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

# A warm container: two invocations, then (after the parent rotates the password) five
# more. DATABASE_CONN_MAX_AGE=0 makes every invocation connect anew, as a container does
# once its connection is older than CONN_MAX_AGE.
WARM_CONTAINER = """
import json, sys
from cache_worker.handler import lambda_handler
event = {"REQUEST": "read", "SQLS": [1], "USE_CACHE": "False"}
statuses = [lambda_handler(event)["statusCode"] for _ in range(2)]
print("ROTATE", flush=True)
sys.stdin.readline()
statuses += [lambda_handler(event)["statusCode"] for _ in range(5)]
print("RESULT " + json.dumps(statuses), flush=True)
"""


@pytest.fixture
def database_user():
    """A MariaDB user of the test's own on the suite's server (dropped after), and its SQL."""
    name = f"rot_{uuid.uuid4().hex[:8]}"
    database = connection.settings_dict["NAME"]

    def sql(statement: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement)

    sql(f"CREATE USER '{name}'@'%' IDENTIFIED BY 'first-password'")
    sql(f"GRANT ALL ON `{database}`.* TO '{name}'@'%'")
    yield name, sql
    sql(f"DROP USER IF EXISTS '{name}'@'%'")


def test_a_rotated_password_costs_one_retried_connect_and_no_failed_invocation(
    aws, database_user, subprocess_env
):
    name, sql = database_user
    real = connection.settings_dict
    client = boto3.client("secretsmanager")
    secret = {
        "username": name,
        "password": "first-password",
        "host": real["HOST"],
        "port": int(real["PORT"] or 3306),
    }
    arn = client.create_secret(Name="heroapp/rotating", SecretString=json.dumps(secret))["ARN"]
    env = {
        **subprocess_env,
        **aws,
        "DATABASE_URL": f"mysql://nobody@db.invalid:3306/{real['NAME']}",
        "DATABASE_SECRET_ARN": arn,
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "heroapp.settings",
    }
    container = subprocess.Popen(
        [sys.executable, "-c", WARM_CONTAINER],
        cwd=ROOT,
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = []
        for line in container.stdout:
            lines.append(line)
            if line.strip() == "ROTATE":
                break
        # What Secrets Manager's rotation does: a new password on the server, then in the secret.
        sql(f"ALTER USER '{name}'@'%' IDENTIFIED BY 'second-password'")
        client.put_secret_value(
            SecretId=arn, SecretString=json.dumps({**secret, "password": "second-password"})
        )
        out, err = container.communicate("go\n", timeout=60)
    finally:
        container.kill()
    lines += out.splitlines()

    assert container.returncode == 0, err[-2000:]
    statuses = json.loads(next(line for line in lines if line.startswith("RESULT ")).split(" ", 1)[1])
    assert statuses == [200] * 7
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    refused = [entry for entry in logged if entry.get("logger") == "heroapp.database"]
    assert len(refused) == 1, refused  # one refused connect, then the re-read secret for every later one
    assert refused[0]["level"] == "WARNING" and refused[0]["user"] == name
    assert "second-password" not in "".join(lines)


@pytest.fixture
def iam_database(tls_mariadb, certificates):
    """The TLS MariaDB with a database, and a function that makes a user whose password is ``password``."""
    import MySQLdb

    admin = MySQLdb.connect(
        host="127.0.0.1",
        port=tls_mariadb,
        user="root",
        ssl={"ca": str(certificates / "ca.pem")},
        autocommit=True,
    )
    admin.cursor().execute("CREATE DATABASE iam CHARACTER SET utf8mb4")

    def make_user(name: str, password: str) -> None:
        cursor = admin.cursor()
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", [name, password])
        cursor.execute(f"GRANT SELECT ON iam.* TO `{name}`@'%'")

    yield tls_mariadb, make_user
    admin.close()


def iam_connection(url: str):
    """A connection built the way settings.py builds DATABASES from DATABASE_URL."""
    from django.db.utils import ConnectionHandler

    from heroapp.settings import database_from_url

    return ConnectionHandler({"default": database_from_url(url, endpoint_from_secret=True)})["default"]


def test_iam_authentication_logs_in_with_a_fresh_token_over_tls(aws, iam_database, certificates, monkeypatch):
    """With DATABASE_IAM_AUTH=1 the password is an RDS token signed at connect time, sent over
    verified TLS."""
    from freezegun import freeze_time

    port, make_user = iam_database
    monkeypatch.setenv("DATABASE_IAM_AUTH", "1")
    url = f"mysql://heroapp_iam@127.0.0.1:{port}/iam?ssl-ca={certificates / 'ca.pem'}"
    # What RDS would accept at 12:00: the token boto3 signs for that user, host and port then.
    with freeze_time("2026-11-27 12:00:00"):
        token = boto3.client("rds", region_name="us-east-1").generate_db_auth_token(
            DBHostname="127.0.0.1", Port=port, DBUsername="heroapp_iam", Region="us-east-1"
        )
    make_user("heroapp_iam", token)

    connection_at_noon = iam_connection(url)
    with freeze_time("2026-11-27 12:00:00"), connection_at_noon.cursor() as cursor:
        cursor.execute("SELECT CURRENT_USER()")
        user = cursor.fetchone()[0]
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        tls = cursor.fetchone()[1]
    connection_at_noon.close()

    assert user == "heroapp_iam@%" and tls.startswith("TLS")
    assert connection_at_noon.settings_dict["ENGINE"] == "heroapp.mysql"
    # Fifteen minutes later the app signs a new token; this server only knows noon's, so the
    # login fails: the password really is the token of the moment, not something stored.
    later = iam_connection(url)
    with freeze_time("2026-11-27 12:15:00"), pytest.raises(Exception) as refused:
        later.cursor()
    assert refused.value.args[0] == 1045


def test_iam_authentication_refuses_to_send_a_token_without_verified_tls(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from heroapp.settings import database_from_url

    monkeypatch.setenv("DATABASE_IAM_AUTH", "1")
    with pytest.raises(ImproperlyConfigured, match="ssl-ca"):
        database_from_url("mysql://heroapp_iam@db.example:3306/heroapp", endpoint_from_secret=True)
