"""
The Lambda's invocation surface (cache_worker/invocations.py): an invoker that may only
ask for data cannot make Zappa run a command, a function or Python of its choosing;
what an operator's deploy and the stage's own events need still runs.

Each refusal is checked by its missing side effect (a file, rows, cache entries), not
only by the 400.
"""

import json
import os
from pathlib import Path

import boto3
import pytest
from django.core import management

from cache_worker.handler import data_handler, lambda_handler
from heroes.models import Hero
from heroes.sample import SAMPLE_CSV
from tests.cache_worker.events import s3_put_event, scheduled_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("zappa_settings")]

KEEP_WARM_RULE = "heroapp-production-zappa-keep-warm-handler.keep_warm_callback"


def refused(response: dict, field: str) -> str:
    """The 400's message, after checking the response is a 400 naming ``field``."""
    assert response["statusCode"] == 400, response
    body = json.loads(response["body"])
    assert body["field"] == field and body["error"].startswith(f"{field}: ")
    return body["error"]


@pytest.fixture
def call_command_spy(monkeypatch):
    """The management commands Zappa's manage branch calls (it looks call_command up on the module)."""
    calls = []
    original = management.call_command

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(management, "call_command", spy)
    return calls


@pytest.fixture
def cached_heroes(make_heroes, hero_cache):
    """Three heroes, all in the cache (so a flush would show)."""
    heroes = make_heroes(3)
    lambda_handler({"REQUEST": "read", "SQLS": [h.id for h in heroes]})
    ids = [h.id for h in heroes]
    assert hero_cache.cached_ids(ids) == set(ids)
    return ids


# The bypasses of issue 12 ----------------------------------------------------------------


def test_manage_shell_with_code_is_refused_and_runs_nothing(tmp_path, lambda_context, call_command_spy):
    marker = tmp_path / "owned"
    event = {"manage": f"shell -c open({str(marker)!r},'w').write(__import__('os').popen('id').read())"}

    message = refused(lambda_handler(event, lambda_context), "manage")

    assert '"shell" is not an allowed command' in message and "HEROAPP_ALLOW_ANY_COMMAND=1" in message
    assert not marker.exists() and call_command_spy == []


def test_manage_flush_is_refused_and_the_rows_stay(make_heroes, lambda_context):
    make_heroes(2)
    refused(lambda_handler({"manage": "flush --noinput"}, lambda_context), "manage")
    assert Hero.objects.count() == 2


def test_a_command_naming_any_importable_function_is_refused(cached_heroes, hero_cache, lambda_context):
    message = refused(
        lambda_handler({"command": "heroes.services.flush_hero_cache"}, lambda_context), "command"
    )
    assert '"heroes.services.flush_hero_cache" is not an allowed function' in message
    assert hero_cache.cached_ids(cached_heroes) == set(cached_heroes)


def test_a_scheduled_event_naming_any_function_is_refused(make_heroes, hero_cache, lambda_context):
    heroes = make_heroes(2)
    event = scheduled_event("heroapp-production-heroes.services.warm_all_heroes")

    refused(lambda_handler(event, lambda_context), "resources")

    assert hero_cache.cached_ids([h.id for h in heroes]) == set()


def test_an_s3_record_naming_another_function_is_refused(cached_heroes, hero_cache, lambda_context):
    """Zappa takes an S3 record's function from its configurationId, which the invoker writes."""
    event = s3_put_event("x.csv", configuration="heroapp-production:heroes.services.flush_hero_cache")
    refused(lambda_handler(event, lambda_context), "Records")
    assert hero_cache.cached_ids(cached_heroes) == set(cached_heroes)


def test_an_sns_record_carrying_a_command_is_refused(cached_heroes, hero_cache, lambda_context):
    """Zappa runs the "command" of an SNS message's JSON."""
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:anything",
                    "Message": json.dumps({"command": "heroes.services.flush_hero_cache"}),
                },
            }
        ]
    }
    refused(lambda_handler(event, lambda_context), "Records")
    assert hero_cache.cached_ids(cached_heroes) == set(cached_heroes)


def test_stage_variables_cannot_turn_raw_python_on(monkeypatch, tmp_path, lambda_context):
    """Zappa copies stageVariables into os.environ, where they would outlive the invocation."""
    monkeypatch.setenv("HEROAPP_ALLOW_RAW_COMMAND", "0")  # restored after the test, whatever happens
    marker = tmp_path / "ran"

    first = lambda_handler({"stageVariables": {"HEROAPP_ALLOW_RAW_COMMAND": "1"}}, lambda_context)
    second = lambda_handler({"raw_command": f"open({str(marker)!r}, 'w').write('x')"}, lambda_context)

    refused(first, "stageVariables")
    refused(second, "raw_command")
    assert os.environ["HEROAPP_ALLOW_RAW_COMMAND"] == "0" and not marker.exists()


@pytest.mark.parametrize(
    "command",
    [
        "flush",
        "dbshell",
        "createsuperuser --noinput --username=eve --email=e@example.com",
        "loaddata /tmp/anything.json",
        "migrate heroes zero",  # positional arguments of migrate drop tables
        "migrate --fake",
        "migrate --prune",
        "migrate --database=other",
        "migrate  --noinput",  # Zappa splits on single spaces: an empty argument
        "migrate --verbosity",  # an option missing its value
        "migrate --verbosity=9",
        "check --tag=a;b",
        "showmigrations ../etc",
        "migrate --noinput\nshell",
    ],
)
def test_manage_allows_no_other_command_or_option(command, lambda_context, call_command_spy, make_heroes):
    make_heroes(1)
    refused(lambda_handler({"manage": command}, lambda_context), "manage")
    assert call_command_spy == [] and Hero.objects.count() == 1


@pytest.mark.parametrize(
    "event,field",
    [
        ({"bot": {"name": "x"}, "currentIntent": {"name": "x"}, "invocationSource": "DialogCodeHook"}, "bot"),
        ({"triggerSource": "PreSignUp_SignUp"}, "triggerSource"),
        ({"awslogs": {"data": "H4sI"}}, "awslogs"),
        (
            {"requestContext": {"eventType": "MESSAGE", "routeKey": "$default", "domainName": "x"}},
            "requestContext",
        ),
        (
            {"Records": [{"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:other"}]},
            "Records",
        ),
        ({"Records": ["not a record"]}, "Records"),
        ({"detail-type": "Scheduled Event", "resources": []}, "resources"),
        (
            {
                "detail-type": "Scheduled Event",
                "resources": [".../rule/x-heroes.services.flush_hero_cache"],
                "command": "cache_worker.tasks.warm_cache",
            },
            "resources",
        ),
        ({"command": ["heroes.services.flush_hero_cache"]}, "command"),
        ({"command": "cache_worker.tasks.flush_hero_cache"}, "command"),  # imported there, not defined there
        ({"detail-type": "Something Else"}, "REQUEST"),
    ],
)
def test_other_code_running_or_unroutable_events_are_refused_by_name(
    event, field, cached_heroes, hero_cache, lambda_context
):
    refused(lambda_handler(event, lambda_context), field)
    assert hero_cache.cached_ids(cached_heroes) == set(cached_heroes)


def test_a_refusal_is_logged_as_one_json_line(capsys, lambda_context):
    lambda_handler({"command": "heroes.services.flush_hero_cache"}, lambda_context)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (line,) = [line for line in lines if line["message"] == "invocation refused"]
    assert line["level"] == "WARNING" and line["field"] == "command" and "flush_hero_cache" in line["error"]


# What still runs -------------------------------------------------------------------------


def test_zappa_manage_migrate_runs_as_zappa_sends_it(lambda_context, call_command_spy, capsys):
    """`zappa manage production migrate` sends {"manage": "migrate"}."""
    assert lambda_handler({"manage": "migrate"}, lambda_context) == {}
    assert call_command_spy == [("migrate",)]
    assert "No migrations to apply" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [
        "migrate --noinput",
        "migrate --plan -v 2",
        "migrate --verbosity=0",
        "check",
        "check heroes --tag models",
        "showmigrations heroes",
        "showmigrations --plan",
    ],
)
def test_the_deploy_commands_run_with_read_only_options(command, lambda_context, call_command_spy):
    assert lambda_handler({"manage": command}, lambda_context) == {}
    assert call_command_spy == [tuple(command.split(" "))]


def test_a_task_of_cache_worker_tasks_runs(make_heroes, hero_cache, lambda_context):
    heroes = make_heroes(2)
    assert lambda_handler({"command": "cache_worker.tasks.warm_cache"}, lambda_context) == {"warmed": 2}
    assert hero_cache.cached_ids([h.id for h in heroes]) == {h.id for h in heroes}


def test_a_schedule_naming_a_task_runs_it(make_heroes, hero_cache, lambda_context):
    heroes = make_heroes(2)
    assert lambda_handler(
        scheduled_event("heroapp-production-cache_worker.tasks.warm_cache"), lambda_context
    ) == {"warmed": 2}
    assert hero_cache.cached_ids([h.id for h in heroes]) == {h.id for h in heroes}


def test_the_keep_warm_ping_passes(lambda_context):
    assert lambda_handler(scheduled_event(KEEP_WARM_RULE), lambda_context) is None


def test_the_stage_s3_import_still_runs(aws, lambda_context):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="hero-imports")
    s3.put_object(Bucket="hero-imports", Key="batch.csv", Body=SAMPLE_CSV.read_bytes())

    result = lambda_handler(s3_put_event("batch.csv"), lambda_context)

    assert result["imports"][0]["created"] == 300 and Hero.objects.count() == 300


def test_the_operator_opt_in_allows_any_function_and_command(
    settings, make_heroes, hero_cache, lambda_context, call_command_spy
):
    settings.HEROAPP_ALLOW_ANY_COMMAND = True
    heroes = make_heroes(2)

    assert lambda_handler({"command": "heroes.services.warm_all_heroes"}, lambda_context) == 2
    assert hero_cache.cached_ids([h.id for h in heroes]) == {h.id for h in heroes}
    assert lambda_handler({"manage": "showmigrations --database default"}, lambda_context) == {}
    assert call_command_spy == [("showmigrations", "--database", "default")]


def test_the_opt_in_variables_are_read_from_the_functions_configuration(run_python, subprocess_env):
    """HEROAPP_ALLOW_ANY_COMMAND=1 in the environment at start turns the opt-in on, anything else off."""
    script = (
        "from django.conf import settings; "
        "print(settings.HEROAPP_ALLOW_ANY_COMMAND, settings.HEROAPP_ALLOW_RAW_COMMAND)"
    )
    args = [
        "-c",
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'heroapp.settings'); "
        f"django.setup(); {script}",
    ]
    assert run_python(args, subprocess_env).stdout.split() == ["False", "False"]
    enabled = run_python(
        args, {**subprocess_env, "HEROAPP_ALLOW_ANY_COMMAND": "1", "HEROAPP_ALLOW_RAW_COMMAND": "1"}
    )
    assert enabled.stdout.split() == ["True", "True"]


# The data-only entry point ---------------------------------------------------------------


def test_the_data_handler_serves_data_events(make_heroes, lambda_context):
    (hero,) = make_heroes(1, name="Data Only")
    response = data_handler({"REQUEST": "read", "SQLS": [hero.id]}, lambda_context)
    assert response["statusCode"] == 200 and json.loads(response["body"])[0]["name"] == "Data Only"


@pytest.mark.parametrize(
    "event",
    [
        {"manage": "migrate"},
        {"command": "cache_worker.tasks.flush_cache"},
        {"raw_command": "print(1)"},
    ],
)
def test_the_data_handler_hands_nothing_to_zappa(
    event, settings, cached_heroes, hero_cache, lambda_context, call_command_spy
):
    settings.HEROAPP_ALLOW_RAW_COMMAND = settings.HEROAPP_ALLOW_ANY_COMMAND = True  # not even then
    refused(data_handler(event, lambda_context), "REQUEST")
    assert call_command_spy == [] and hero_cache.cached_ids(cached_heroes) == set(cached_heroes)


def test_the_data_handler_answers_keep_warm_without_work(lambda_context, capsys):
    assert data_handler(scheduled_event(KEEP_WARM_RULE), lambda_context) is None
    assert "invocation" not in capsys.readouterr().out


def test_the_production_data_stage_deploys_the_data_handler_alone():
    """The least-privilege layout's function: production's package and settings, no web, no S3 events."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.load_settings_file(str(Path(__file__).resolve().parents[2] / "zappa_settings.json"))
    cli.api_stage = "production"
    production = cli.stage_config
    cli.api_stage = "production_data"
    data = cli.stage_config

    assert data["lambda_handler"] == "cache_worker.handler.data_handler"
    assert data["apigateway_enabled"] is False and data["events"] == []
    assert data["aws_environment_variables"] == production["aws_environment_variables"]
    assert data["vpc_config"] == production["vpc_config"] and data["keep_warm"] is True
