"""
The application user (`manage.py create_app_user`, run as the admin) may read and write the
app's rows, and nothing else: no schema changes, no other database. Against the real MariaDB.
"""

import json
import uuid

import boto3
import MySQLdb
import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_user(aws):
    """A fresh user name and its secret in (moto's) Secrets Manager; the user is dropped after."""
    name = f"app_{uuid.uuid4().hex[:8]}"
    client = boto3.client("secretsmanager")
    arn = client.create_secret(
        Name=f"heroapp/{name}", SecretString=json.dumps({"username": name, "password": "first-Pa55word"})
    )["ARN"]
    yield name, arn, client
    with connection.cursor() as cursor:
        cursor.execute("DROP USER IF EXISTS %s@'%%'", [name])


def connect(name: str, password: str):
    settings = connection.settings_dict
    return MySQLdb.connect(
        host=settings["HOST"],
        port=int(settings["PORT"] or 3306),
        user=name,
        password=password,
        database=settings["NAME"],
        autocommit=True,
    )


def refused(cursor, sql: str) -> int:
    with pytest.raises(MySQLdb.OperationalError) as error:
        cursor.execute(sql)
    return error.value.args[0]


def test_the_app_user_may_change_rows_but_not_the_schema(app_user, capsys):
    name, arn, _ = app_user

    call_command("create_app_user", "--secret-arn", arn)

    assert "first-Pa55word" not in capsys.readouterr().out  # the statements are printed, the password masked
    cursor = connect(name, "first-Pa55word").cursor()
    cursor.execute(
        "INSERT INTO heroes_hero (name, hero, power, xp, color, version, created_at, updated_at) "
        "VALUES ('Grant', 1, '', 1, '', 1, NOW(), NOW())"
    )
    cursor.execute("UPDATE heroes_hero SET xp = 2 WHERE name = 'Grant'")
    cursor.execute("SELECT xp FROM heroes_hero WHERE name = 'Grant'")
    assert cursor.fetchone() == (2,)
    cursor.execute("DELETE FROM heroes_hero WHERE name = 'Grant'")
    assert cursor.rowcount == 1

    ER_TABLEACCESS_DENIED, ER_DBACCESS_DENIED = 1142, 1044
    assert refused(cursor, "CREATE TABLE extra (id INT)") == ER_TABLEACCESS_DENIED
    assert refused(cursor, "ALTER TABLE heroes_hero ADD COLUMN extra INT") == ER_TABLEACCESS_DENIED
    assert refused(cursor, "DROP TABLE heroes_hero") == ER_TABLEACCESS_DENIED
    assert refused(cursor, "TRUNCATE TABLE heroes_hero") == ER_TABLEACCESS_DENIED
    assert refused(cursor, "SELECT user FROM mysql.user") == ER_TABLEACCESS_DENIED
    assert refused(cursor, "CREATE DATABASE elsewhere") == ER_DBACCESS_DENIED


# A write event, an import that replaces that row (SELECT ... FOR UPDATE, then INSERT ... ON
# DUPLICATE KEY UPDATE) and a read from the database.
READ_AND_WRITE = """
import json, sys, tempfile
from cache_worker.handler import lambda_handler
from django.core.management import call_command
written = lambda_handler({"REQUEST": "write",
                          "SQLS": [{"name": "Least", "hero": "yes", "power": "", "color": "", "xp": 1}]})
hero_id = json.loads(written["body"])[0]["id"]
with tempfile.NamedTemporaryFile("w", suffix=".csv") as csv:
    csv.write(f"id,name,hero,power,xp,color\\n{hero_id},Least,yes,,2,\\n")
    csv.flush()
    call_command("import_heroes", csv.name, "--no-progress", stdout=sys.stderr)
read = lambda_handler({"REQUEST": "read", "SQLS": [hero_id], "USE_CACHE": "False"})
print("RESULT " + json.dumps([written["statusCode"], read["statusCode"], read["body"]]))
"""


def test_the_app_serves_reads_and_writes_as_the_app_user(app_user, subprocess_env, run_python):
    name, arn, _ = app_user
    call_command("create_app_user", "--secret-arn", arn)
    settings = connection.settings_dict
    env = {
        **subprocess_env,
        "DATABASE_URL": f"mysql://{name}:first-Pa55word@{settings['HOST']}:"
        f"{settings['PORT'] or 3306}/{settings['NAME']}",
    }

    done = run_python(["-c", READ_AND_WRITE], env)

    assert done.returncode == 0, done.stderr[-2000:]
    written, read, body = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert (written, read) == (200, 200) and json.loads(body)[0]["xp"] == 2


def test_a_second_run_sets_the_secrets_new_password(app_user):
    name, arn, client = app_user
    call_command("create_app_user", "--secret-arn", arn)
    client.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": name, "password": "second-Pa55word"})
    )
    from heroapp import secrets

    secrets.read_secret.cache_clear()  # this process read the first value already

    call_command("create_app_user", "--secret-arn", arn)

    connect(name, "second-Pa55word").close()
    with pytest.raises(MySQLdb.OperationalError) as error:
        connect(name, "first-Pa55word")
    assert error.value.args[0] == 1045
