"""Deployed settings take the database password and SECRET_KEY from Secrets Manager."""

import json

import boto3
import pytest

pytestmark = pytest.mark.django_db(transaction=True)

READ_AND_REPORT = """
import json
from django.conf import settings
from cache_worker.handler import lambda_handler
db = settings.DATABASES["default"]
response = lambda_handler({"REQUEST": "read", "SQLS": [1]})
print("RESULT " + json.dumps({"status": response["statusCode"], "host": db["HOST"], "user": db["USER"],
                              "key": settings.SECRET_KEY, "debug": settings.DEBUG}))
"""


@pytest.fixture
def secrets_manager(aws):
    return boto3.client("secretsmanager"), aws


def test_the_database_login_and_the_secret_key_come_from_secrets_manager(
    secrets_manager, subprocess_env, run_python
):
    client, aws_env = secrets_manager
    from django.db import connection

    real = connection.settings_dict
    # The URL names a host that does not exist and no password: only the secret can make this work.
    database = client.create_secret(
        Name="heroapp/database",
        SecretString=json.dumps(
            {
                "username": real["USER"],
                "password": real["PASSWORD"],
                "host": real["HOST"],
                "port": int(real["PORT"] or 3306),
            }
        ),
    )["ARN"]
    key = client.create_secret(Name="heroapp/django-key", SecretString="a-key-only-secrets-manager-knows")[
        "ARN"
    ]
    env = {
        **subprocess_env,
        **aws_env,
        "DATABASE_URL": f"mysql://nobody@db.invalid:3306/{real['NAME']}",
        "DATABASE_SECRET_ARN": database,
        "SECRET_KEY_SECRET_ARN": key,
        "DEBUG": "false",
    }

    done = run_python(["-c", READ_AND_REPORT], env)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result == {
        "status": 200,
        "host": real["HOST"],
        "user": real["USER"],
        "key": "a-key-only-secrets-manager-knows",
        "debug": False,
    }


def test_a_secret_is_read_once_per_process(secrets_manager):
    from heroapp import secrets

    client, _ = secrets_manager
    arn = client.create_secret(Name="heroapp/once", SecretString="v1")["ARN"]
    secrets.read_secret.cache_clear()
    assert secrets.read_secret(arn) == "v1"
    client.put_secret_value(SecretId=arn, SecretString="v2")
    assert secrets.read_secret(arn) == "v1"  # no second call: the container keeps what it read at start
    assert secrets.read_secret.cache_info().hits == 1
