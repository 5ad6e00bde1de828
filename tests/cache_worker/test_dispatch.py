"""
One Lambda, two kinds of traffic: the entry point serves REQUEST/SQLS events itself and
hands API Gateway, function URL, manage, command, keep-warm and S3 events to Zappa.

Zappa's handler reads the zappa_settings module that `zappa package` generates; the
zappa_settings fixture (conftest.py) writes one with the same keys.
"""

import json

import boto3
import pytest

from cache_worker.handler import lambda_handler
from heroes.models import Hero
from heroes.sample import SAMPLE_CSV
from tests.cache_worker.events import LambdaContext as Context
from tests.cache_worker.events import s3_put_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("zappa_settings")]


def api_gateway_v1_event(path: str, method: str = "GET") -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "localhost", "Accept": "text/html", "X-Forwarded-Proto": "https"},
        "multiValueHeaders": {"Host": ["localhost"], "Accept": ["text/html"], "X-Forwarded-Proto": ["https"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/production{path}",
            "stage": "production",
            "requestId": "api-request",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "pytest"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def function_url_event(path: str) -> dict:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "localhost", "accept": "application/json", "x-forwarded-proto": "https"},
        "requestContext": {
            "domainName": "localhost",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "pytest",
            },
            "requestId": "url-request",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def test_an_api_gateway_request_renders_a_real_page(make_heroes):
    make_heroes(1, name="Gateway Guardian")
    response = lambda_handler(api_gateway_v1_event("/"), Context())
    assert response["statusCode"] == 200
    assert "Gateway Guardian" in response["body"] and "<h1>Heroes</h1>" in response["body"]


def test_a_function_url_request_is_served_by_django(make_heroes):
    (hero,) = make_heroes(1, name="Url Ranger")
    health = lambda_handler(function_url_event("/healthz"), Context())
    assert health["statusCode"] == 200 and json.loads(health["body"])["database"] == "ok"
    page = lambda_handler(function_url_event(f"/heroes/{hero.id}/"), Context())
    assert page["statusCode"] == 200 and "Url Ranger" in page["body"]


def test_a_manage_event_runs_a_management_command(capsys):
    assert lambda_handler({"manage": "migrate --noinput"}, Context()) == {}
    assert "No migrations to apply" in capsys.readouterr().out


def test_a_command_event_runs_the_named_function(make_heroes, hero_cache):
    """`zappa invoke production cache_worker.tasks.warm_cache` sends this event."""
    heroes = make_heroes(3)
    assert lambda_handler({"command": "cache_worker.tasks.warm_cache"}, Context()) == {"warmed": 3}
    assert hero_cache.cached_ids([h.id for h in heroes]) == {h.id for h in heroes}
    assert lambda_handler({"command": "cache_worker.tasks.flush_cache"}, Context()) == {"deleted": 3}


def test_the_keep_warm_ping_is_answered_without_work():
    event = {
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": [
            "arn:aws:events:us-east-1:123456789012:rule/heroapp-production-zappa-keep-warm-handler.keep_warm_callback"
        ],
    }
    assert lambda_handler(event, Context()) is None


def test_direct_events_are_still_served_by_the_worker():
    written = lambda_handler(
        {"REQUEST": "write", "SQLS": [{"name": "Direct", "hero": "no", "power": "", "color": "", "xp": 1}]}
    )
    hero_id = json.loads(written["body"])[0]["id"]
    read = lambda_handler({"REQUEST": "read", "SQLS": [hero_id]}, Context())
    assert read["statusCode"] == 200 and read["meta"]["hits"] == 1


@pytest.mark.parametrize(
    "event", [{"SQLS": [1, 2]}, {}, {"request": "read"}, {"Records": None}, {"manage": ""}]
)
def test_an_event_neither_zappa_nor_ours_gets_a_400_not_silence(event):
    response = lambda_handler(event, Context())
    assert response["statusCode"] == 400 and json.loads(response["body"])["field"] == "REQUEST"


def test_raw_python_commands_are_refused_unless_enabled(settings, tmp_path):
    marker = tmp_path / "ran"
    event = {"raw_command": f"open({str(marker)!r}, 'w').write('x')"}
    refused = lambda_handler(event, Context())
    assert refused["statusCode"] == 400 and not marker.exists()

    settings.HEROAPP_ALLOW_RAW_COMMAND = True
    lambda_handler(event, Context())
    assert marker.exists()


def test_each_invocation_logs_one_line_that_is_also_cloudwatch_embedded_metrics(capsys):
    """One JSON line per invocation: searchable fields, and an EMF block naming its metrics."""
    lambda_handler({"REQUEST": "read", "SQLS": [1, 2, 3]}, Context())
    lambda_handler({"REQUEST": "nonsense"}, Context())
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    read_line, bad_line = [line for line in lines if line.get("message") == "invocation"]

    directive = read_line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "heroapp" and directive["Dimensions"] == [["request"]]
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {
        "total_ms": "Milliseconds",
        "hits": "Count",
        "misses": "Count",
        "db_queries": "Count",
        "errors": "Count",
        "cold_start": "Count",
    }
    # EMF requires every metric to be a number and every dimension a string on the same line.
    for name in units:
        assert isinstance(read_line[name], (int, float)) and not isinstance(read_line[name], bool), name
    assert read_line["request"] == "read" and read_line["misses"] == 3 and read_line["errors"] == 0
    assert read_line["request_id"] == "req-dispatch" and isinstance(read_line["_aws"]["Timestamp"], int)
    assert bad_line["request"] == "invalid" and bad_line["errors"] == 1 and bad_line["hits"] == 0


# S3-triggered import, through Zappa's routing and moto's server --------------------------


@pytest.fixture
def s3(aws):
    client = boto3.client("s3")
    client.create_bucket(Bucket="hero-imports")
    return client


def test_a_csv_landing_in_the_import_bucket_is_imported(s3):
    s3.put_object(Bucket="hero-imports", Key="daily/new heroes.csv", Body=SAMPLE_CSV.read_bytes())

    result = lambda_handler(s3_put_event("daily/new+heroes.csv"), Context())

    assert (
        result["imports"][0]["created"] == 300
        and result["imports"][0]["source"] == "s3://hero-imports/daily/new heroes.csv"
    )
    assert Hero.objects.count() == 300


def test_a_missing_object_is_reported_not_raised(s3):
    result = lambda_handler(s3_put_event("gone.csv"), Context())
    assert "NoSuchKey" in result["imports"][0]["error"]


def test_a_web_500_on_lambda_is_logged_with_the_aws_request_id(settings, request):
    """Zappa puts the Lambda context in the WSGI environ: the line names the invocation CloudWatch shows."""
    # Zappa's handler sets Django up (and its logging) again when it starts: start it first.
    lambda_handler(api_gateway_v1_event("/healthz"), Context())
    log_output = request.getfixturevalue("log_output")
    settings.ROOT_URLCONF = "tests.heroapp.failing_urls"
    response = lambda_handler(api_gateway_v1_event("/forced-failure/"), Context())

    assert response["statusCode"] == 500 and response["headers"]["X-Request-ID"] == "req-dispatch"
    (line,) = [json.loads(text) for text in log_output.getvalue().splitlines()]
    assert line["logger"] == "django.request" and line["request_id"] == "req-dispatch"
    assert "RuntimeError: forced failure for the logging test" in line["exception"]
