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


def test_a_rotated_password_costs_one_retried_connect_and_no_failed_invocation(aws, database_user, subprocess_env):
    name, sql = database_user
    real = connection.settings_dict
    client = boto3.client("secretsmanager")
    secret = {"username": name, "password": "first-password", "host": real["HOST"], "port": int(real["PORT"] or 3306)}
    arn = client.create_secret(Name="heroapp/rotating", SecretString=json.dumps(secret))["ARN"]
    env = {**subprocess_env, **aws, "DATABASE_URL": f"mysql://nobody@db.invalid:3306/{real['NAME']}",
           "DATABASE_SECRET_ARN": arn, "DATABASE_CONN_MAX_AGE": "0", "DJANGO_SETTINGS_MODULE": "heroapp.settings"}
    container = subprocess.Popen([sys.executable, "-c", WARM_CONTAINER], cwd=ROOT, env=env, text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = []
        for line in container.stdout:
            lines.append(line)
            if line.strip() == "ROTATE":
                break
        # What Secrets Manager's rotation does: a new password on the server, then in the secret.
        sql(f"ALTER USER '{name}'@'%' IDENTIFIED BY 'second-password'")
        client.put_secret_value(SecretId=arn, SecretString=json.dumps({**secret, "password": "second-password"}))
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
