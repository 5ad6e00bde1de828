"""
Every unhandled error is one JSON line with its traceback and request id (heroapp/logging.py,
heroapp/request_id.py), with DEBUG off as in production, on the stream the settings name.
"""

import json

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/forced-failure/"


@pytest.fixture
def failing_view():
    with override_settings(ROOT_URLCONF="tests.heroapp.failing_urls", DEBUG=False):
        yield


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def json_lines(text: str) -> list[dict]:
    """Every line of the output, each of which must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.usefixtures("failing_view")
def test_an_unhandled_error_is_one_json_line_with_traceback_and_request_id(client, log_output):
    response = client.get(URL, HTTP_X_REQUEST_ID="req-from-the-caller")

    assert response.status_code == 500 and response["X-Request-ID"] == "req-from-the-caller"
    (line,) = json_lines(log_output.getvalue())
    assert (line["level"], line["logger"], line["status_code"]) == ("ERROR", "django.request", 500)
    assert (line["request_id"], line["method"], line["path"]) == ("req-from-the-caller", "GET", URL)
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("RuntimeError: forced failure for the logging test")


@pytest.mark.usefixtures("failing_view")
def test_without_a_caller_id_one_is_made_and_returned(client, log_output):
    first, second = client.get(URL), client.get(URL, HTTP_X_REQUEST_ID="bad id\r\nInjected: 1")

    lines = json_lines(log_output.getvalue())
    ids = [first["X-Request-ID"], second["X-Request-ID"]]
    assert [line["request_id"] for line in lines] == ids
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids) and ids[0] != ids[1]


@pytest.mark.usefixtures("failing_view")
def test_the_line_carries_no_request_headers_or_body(client, log_output):
    client.post(URL, {"password": "hunter2-secret"}, HTTP_AUTHORIZATION="Bearer token-secret")
    output = log_output.getvalue()
    assert "secret" not in output and len(json_lines(output)) == 1


@pytest.mark.usefixtures("failing_view")
def test_handled_client_errors_add_no_lines(client, log_output):
    """Only 5xx: a 404 or an API 401 is an answer, not an error of the service."""
    assert client.get("/heroes/999999999/").status_code == 404
    assert client.post("/api/events", "{}", content_type="application/json").status_code == 401
    assert [line for line in json_lines(log_output.getvalue()) if line["logger"].startswith("django")] == []


def test_in_production_settings_the_line_goes_to_standard_output(run_python, subprocess_env):
    """DEBUG off from the environment, as on Lambda: the line is on the process's real stdout."""
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'heroapp.settings'; django.setup()\n"
        "from django.test import Client, override_settings\n"
        "with override_settings(ROOT_URLCONF='tests.heroapp.failing_urls'):\n"
        "    status = Client(raise_request_exception=False)"
        ".get('/forced-failure/', secure=True).status_code\n"
        "assert status == 500, status\n"
    )
    env = {
        **subprocess_env,
        "DEBUG": "false",
        "SECRET_KEY": "test-only-key-" + "x" * 40,
        "ALLOWED_HOSTS": "testserver",
    }
    done = run_python(["-c", script], env)
    assert done.returncode == 0, done.stderr
    (line,) = json_lines(done.stdout)
    assert line["logger"] == "django.request" and line["status_code"] == 500 and len(line["request_id"]) == 32
    assert "RuntimeError: forced failure for the logging test" in line["exception"]
