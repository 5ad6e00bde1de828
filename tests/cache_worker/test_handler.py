import json
import re
import time
from datetime import datetime

import pytest

from cache_worker.handler import lambda_handler
from heroes.models import Hero

pytestmark = pytest.mark.django_db(transaction=True)

WRITE_EXAMPLE = {
    "USE_CACHE": "True",
    "REQUEST": "write",
    "SQLS": [{"hero": "yes", "name": "fireman", "power": "fire", "color": "red", "xp": "10"}],
}


class Context:
    aws_request_id = "req-123"


def body(response) -> object:
    return json.loads(response["body"])


# The two example events of the contract ----------------------------------------------


@pytest.mark.embedded
def test_the_write_example_creates_the_hero_and_returns_it_with_its_id():
    response = lambda_handler(WRITE_EXAMPLE, Context())

    assert response["statusCode"] == 200
    (created,) = body(response)
    assert created == {
        "id": created["id"],
        "name": "fireman",
        "hero": "yes",
        "power": "fire",
        "xp": 10,
        "color": "red",
    }
    assert Hero.objects.get(pk=created["id"]).name == "fireman"
    assert response["meta"]["created"] == 1


@pytest.mark.embedded
def test_a_read_right_after_a_write_is_a_cache_hit_with_the_fresh_data():
    """The original design cached writes by name; here they are keyed by id."""
    created = body(lambda_handler(WRITE_EXAMPLE))

    response = lambda_handler({"USE_CACHE": "True", "REQUEST": "read", "SQLS": [created[0]["id"]]})

    assert response["statusCode"] == 200
    assert body(response) == created
    assert response["meta"]["hits"] == 1 and response["meta"]["db_queries"] == 0


@pytest.mark.embedded
def test_the_read_example_returns_heroes_in_request_order_with_meta(make_heroes):
    a, b, c = make_heroes(3)
    response = lambda_handler({"USE_CACHE": "True", "REQUEST": "read", "SQLS": [c.id, a.id, b.id]})

    assert response["statusCode"] == 200
    assert [h["id"] for h in body(response)] == [c.id, a.id, b.id]
    assert set(body(response)[0]) == {"id", "name", "hero", "power", "xp", "color"}
    meta = response["meta"]
    assert set(meta) == {"hits", "misses", "not_found", "db_queries", "elapsed_ms", "cache"}
    assert (meta["hits"], meta["misses"], meta["not_found"], meta["db_queries"]) == (0, 3, [], 1)
    assert meta["cache"] in ("redis", "local") and meta["elapsed_ms"] > 0


def test_use_cache_false_reads_the_database_only(make_heroes, redis_commands):
    (hero,) = make_heroes(1)
    redis_commands.take()
    for flag in ("False", "false", False):
        response = lambda_handler({"REQUEST": "read", "SQLS": [hero.id], "USE_CACHE": flag})
        assert response["meta"]["cache"] == "off" and response["meta"]["db_queries"] == 1
    assert redis_commands.take() == {}


def test_ids_may_be_digit_strings_and_unknown_ids_are_reported(make_heroes):
    (hero,) = make_heroes(1)
    response = lambda_handler({"REQUEST": "read", "SQLS": [str(hero.id), hero.id + 1000]})
    assert [h["id"] for h in body(response)] == [hero.id]
    assert response["meta"]["not_found"] == [hero.id + 1000]


# Bad events ----------------------------------------------------------------------------


@pytest.mark.embedded
@pytest.mark.parametrize(
    "event, field, words",
    [
        ([1, 2], "event", "JSON object"),
        ({"SQLS": [1]}, "REQUEST", "required"),
        ({"REQUEST": "delete", "SQLS": [1]}, "REQUEST", '"read" or "write"'),
        ({"REQUEST": "read"}, "SQLS", "required"),
        ({"REQUEST": "read", "SQLS": "1,2"}, "SQLS", "must be a list"),
        ({"REQUEST": "read", "SQLS": [1, "two"]}, "SQLS[1]", "positive integer"),
        ({"REQUEST": "read", "SQLS": [1.5]}, "SQLS[0]", "positive integer"),
        ({"REQUEST": "read", "SQLS": [True]}, "SQLS[0]", "not true"),
        ({"REQUEST": "read", "SQLS": [0]}, "SQLS[0]", "positive integer"),
        ({"REQUEST": "read", "SQLS": [1], "USE_CACHE": "maybe"}, "USE_CACHE", '"True" or "False"'),
        ({"REQUEST": "read", "SQLS": list(range(1, 1002))}, "SQLS", "at most 1000"),
        (
            {"REQUEST": "write", "SQLS": [{"name": "x", "hero": "yes", "power": "", "color": ""}]},
            "SQLS[0].xp",
            "required",
        ),
        (
            {"REQUEST": "write", "SQLS": [{"name": "x", "hero": "yes", "power": "", "color": "", "xp": -1}]},
            "SQLS[0].xp",
            "non-negative",
        ),
        (
            {"REQUEST": "write", "SQLS": [{"name": " ", "hero": "yes", "power": "", "color": "", "xp": 1}]},
            "SQLS[0].name",
            "empty",
        ),
        (
            {
                "REQUEST": "write",
                "SQLS": [{"name": "x" * 101, "hero": "yes", "power": "", "color": "", "xp": 1}],
            },
            "SQLS[0].name",
            "at most 100",
        ),
        (
            {
                "REQUEST": "write",
                "SQLS": [{"name": "x", "hero": "sometimes", "power": "", "color": "", "xp": 1}],
            },
            "SQLS[0].hero",
            '"yes" or "no"',
        ),
        (
            {"REQUEST": "write", "SQLS": [{"name": "x", "hero": "yes", "power": 3, "color": "", "xp": 1}]},
            "SQLS[0].power",
            "string",
        ),
        (
            {
                "REQUEST": "write",
                "SQLS": [{"name": "x", "hero": "yes", "power": "", "color": "", "xp": 1, "colour": "red"}],
            },
            "SQLS[0].colour",
            "not a hero field",
        ),
        ({"REQUEST": "write", "SQLS": ["fireman"]}, "SQLS[0]", "object"),
        ({"REQUEST": "write", "SQLS": [WRITE_EXAMPLE["SQLS"][0]] * 1001}, "SQLS", "at most 1000"),
    ],
)
def test_a_bad_event_gets_a_400_naming_the_field(event, field, words):
    response = lambda_handler(event)

    assert response["statusCode"] == 400
    error = body(response)
    assert error["field"] == field
    assert words in error["error"] and error["error"].startswith(field)
    assert "Traceback" not in response["body"]


def nested(depth: int) -> list:
    """A list inside a list, ``depth`` deep, built without recursion."""
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "event, field",
    [
        (lambda deep: deep, "event"),
        (lambda deep: {"REQUEST": deep, "SQLS": [1]}, "REQUEST"),
        (lambda deep: {"REQUEST": "read", "SQLS": [1], "USE_CACHE": deep}, "USE_CACHE"),
        (lambda deep: {"REQUEST": "read", "SQLS": [deep]}, "SQLS[0]"),
        (
            lambda deep: {
                "REQUEST": "write",
                "SQLS": [{"name": deep, "hero": "yes", "power": "", "color": "", "xp": 1}],
            },
            "SQLS[0].name",
        ),
    ],
)
def test_a_deeply_nested_event_is_a_400_naming_the_field(event, field):
    """3,000 nested lists (what a body of 3,000 "[" parses to) anywhere in the event: a 400, not a 500."""
    response = lambda_handler(event(nested(3000)), Context())
    assert response["statusCode"] == 400 and body(response)["field"] == field
    assert "a list" in body(response)["error"]


@pytest.mark.embedded
def test_a_write_batch_with_one_bad_record_writes_nothing():
    good = WRITE_EXAMPLE["SQLS"][0]
    event = {"REQUEST": "write", "SQLS": [good, good, {**good, "xp": "ten"}]}

    response = lambda_handler(event)

    assert response["statusCode"] == 400 and body(response)["field"] == "SQLS[2].xp"
    assert Hero.objects.count() == 0


# Logs, the local CLI, and failures of the servers ----------------------------------------------


def test_each_invocation_logs_one_json_line(capsys):
    lambda_handler({"REQUEST": "read", "SQLS": [1, 2]}, Context())
    lines = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
    (line,) = [entry for entry in lines if entry.get("logger") == "cache_worker.handler"]
    assert line["message"] == "invocation" and line["request"] == "read" and line["count"] == 2
    assert line["request_id"] == "req-123" and line["status"] == 200
    assert (line["hits"], line["misses"], line["not_found"]) == (0, 2, 2)
    assert isinstance(line["elapsed_ms"], float)


LINE_FIELDS = {
    "time",
    "level",
    "logger",
    "message",
    "request",
    "count",
    "hits",
    "misses",
    "not_found",
    "db_queries",
    "elapsed_ms",
    "cache",
    "status",
    "request_id",
    "cold_start",
    "errors",
    "total_ms",
    "_aws",
}


def invocation_lines(text: str) -> list[dict]:
    return [
        line for line in map(json.loads, text.splitlines()) if line.get("logger") == "cache_worker.handler"
    ]


def test_the_log_line_has_every_field_and_its_time_is_the_invocations_in_one_format(capsys, make_heroes):
    """
    Each line carries every field, its time in JSONFormatter's format (UTC, milliseconds),
    and the EMF timestamp is the same instant, also across a change of second.
    """
    [hero] = make_heroes(1)
    event = {"REQUEST": "read", "SQLS": [hero.id, hero.id + 1]}
    bounds = []
    for _ in range(2):
        before = time.time()
        lambda_handler(event, Context())
        bounds.append((before, time.time()))
        time.sleep(1.001 - time.time() % 1)  # the next line is in another second

    lines = invocation_lines(capsys.readouterr().out)
    assert len(lines) == 2
    for line, (before, after) in zip(lines, bounds):
        assert set(line) == LINE_FIELDS
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
        at_ms = round(datetime.fromisoformat(line["time"]).timestamp() * 1000)
        assert at_ms == line["_aws"]["Timestamp"]
        assert int(before * 1000) <= at_ms <= after * 1000


def test_the_cli_invokes_the_worker_from_a_string_or_a_file(subprocess_env, run_python, tmp_path):
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(WRITE_EXAMPLE))
    written = run_python(["-m", "cache_worker", "-f", str(event_file)], subprocess_env)
    assert written.returncode == 0, written.stderr
    hero_id = body(json.loads(written.stdout))[0]["id"]

    read = run_python(
        ["-m", "cache_worker", json.dumps({"REQUEST": "read", "SQLS": [hero_id]})], subprocess_env
    )
    response = json.loads(read.stdout)
    assert response["meta"]["hits"] == 1 and body(response)[0]["name"] == "fireman"
    # Logs go to standard error there, one JSON object per line.
    assert json.loads(read.stderr.strip().splitlines()[-1])["message"] == "invocation"

    bad = run_python(["-m", "cache_worker", "{not json"], subprocess_env)
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr


def test_with_redis_unreachable_reads_and_writes_still_succeed(subprocess_env, run_python, make_heroes):
    """REDIS_URL pointing at a closed port: served from the database, committed, no waiting."""
    (hero,) = make_heroes(1)
    env = {**subprocess_env, "REDIS_URL": "redis://127.0.0.1:1/0"}
    script = (
        "import json; from cache_worker.handler import lambda_handler as h\n"
        f"out = [h({{'REQUEST': 'read', 'SQLS': [{hero.id}]}}) for _ in range(20)]\n"
        f"out.append(h({json.dumps(WRITE_EXAMPLE)}))\n"
        "print(json.dumps([(r['statusCode'], r['meta']['cache']) for r in out]))\n"
    )
    done = run_python(["-c", script], env)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[200, "unavailable"]] * 21
    assert Hero.objects.filter(name="fireman").count() == 1
    # The outage is logged once, not once per call.
    warnings = [line for line in done.stdout.splitlines() if "hero cache unavailable" in line]
    assert len(warnings) == 1


def test_a_direct_read_from_a_cold_start_loads_no_zappa_only_code(subprocess_env, run_python, make_heroes):
    """
    A new container answering a direct read imports neither Zappa nor the allow-list of
    Zappa's events and the tasks it names: they cost its cold start and serve other events.
    """
    (hero,) = make_heroes(1)
    script = (
        "import json, sys; from cache_worker.handler import lambda_handler as h\n"
        f"status = h({{'REQUEST': 'read', 'SQLS': [{hero.id}]}})['statusCode']\n"
        "zappa_only = ('zappa', 'cache_worker.invocations', 'cache_worker.tasks')\n"
        "loaded = [m for m in zappa_only if m in sys.modules]\n"
        "print(json.dumps([status, loaded]))\n"
    )
    done = run_python(["-c", script], subprocess_env)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [200, []]


def test_with_the_database_unreachable_the_worker_answers_503(subprocess_env, run_python):
    env = {**subprocess_env, "DATABASE_URL": "mysql://root@127.0.0.1:1/heroapp"}
    done = run_python(["-m", "cache_worker", json.dumps(WRITE_EXAMPLE)], env)
    response = json.loads(done.stdout)
    assert response["statusCode"] == 503
    assert "database is unavailable" in body(response)["error"]
    assert "Traceback" not in done.stdout + done.stderr


# Database connections across invocations ------------------------------------------------


@pytest.mark.parametrize("max_age, kept", [(0, False), (600, True)])
def test_an_invocation_keeps_its_connection_only_if_conn_max_age_allows(
    monkeypatch, make_heroes, max_age, kept
):
    """
    DATABASE_CONN_MAX_AGE=0 closes the connection when the invocation ends, as Django does
    after a request, so an idle container holds none; the default keeps it for the next one.
    """
    from django.db import connection

    [hero] = make_heroes(1)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", max_age)
    connection.close()  # the next connection takes its lifetime from the setting above

    response = lambda_handler({"REQUEST": "read", "SQLS": [hero.id], "USE_CACHE": "False"}, Context())

    assert response["statusCode"] == 200 and body(response)[0]["id"] == hero.id
    assert (connection.connection is not None) is kept
