"""POST /api/events: the Lambda worker's contract over HTTP, with token or session auth."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from cache_worker.handler import lambda_handler
from heroes.models import Hero
from heroes.services import issue_api_token

pytestmark = pytest.mark.django_db(transaction=True)

URL = reverse("heroes:api-events")
WRITE = {
    "REQUEST": "write",
    "USE_CACHE": "True",
    "SQLS": [{"hero": "yes", "name": "fireman", "power": "fire", "color": "red", "xp": "10"}],
}


@pytest.fixture
def writer_key(django_user_model):
    user = django_user_model.objects.create_user("service", password="pw-for-tests", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_hero"))
    return issue_api_token(user=user, name="tests")[1]


@pytest.fixture
def reader_key(django_user_model):
    return issue_api_token(user=django_user_model.objects.create_user("reader"), name="read only")[1]


def post(client, event, key=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    body = event if isinstance(event, (str, bytes)) else json.dumps(event)
    return client.post(URL, body, content_type="application/json", **headers, **extra)


def test_a_token_client_gets_the_same_responses_as_a_direct_invoker(client, writer_key):
    written = post(client, WRITE, writer_key)
    assert written.status_code == 200
    created = json.loads(written.json()["body"])
    assert created[0]["name"] == "fireman"

    event = {"REQUEST": "read", "SQLS": [created[0]["id"], 999999]}
    over_http = post(client, event, writer_key).json()
    direct = lambda_handler(event)
    assert over_http["body"] == direct["body"] and over_http["statusCode"] == 200
    assert over_http["meta"]["not_found"] == [999999]
    assert set(over_http) == set(direct) == {"statusCode", "body", "meta"}


def test_bad_events_and_bad_json_are_400s_naming_the_problem(client, writer_key):
    bad_event = post(client, {"REQUEST": "read", "SQLS": ["x"]}, writer_key)
    assert bad_event.status_code == 400 and json.loads(bad_event.json()["body"])["field"] == "SQLS[0]"

    bad_json = post(client, "{not json", writer_key)
    assert bad_json.status_code == 400 and json.loads(bad_json.json()["body"])["field"] == "body"


def test_requests_without_valid_credentials_are_401(client):
    for key in (None, "wrong-key"):
        response = post(client, {"REQUEST": "read", "SQLS": [1]}, key)
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert Client().get(URL).status_code == 405


def test_writing_needs_the_add_permission_reading_does_not(client, reader_key):
    assert post(client, {"REQUEST": "read", "SQLS": [1]}, reader_key).status_code == 200
    assert post(client, WRITE, reader_key).status_code == 403
    assert Hero.objects.count() == 0


def test_session_requests_must_carry_the_csrf_token(django_user_model):
    user = django_user_model.objects.create_superuser("web", "w@example.com", "pw-for-tests")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    refused = post(browser, WRITE)
    assert refused.status_code == 403 and "CSRF" in refused.json()["body"]
    assert Hero.objects.count() == 0

    browser.get(reverse("heroes:list"))  # sets the CSRF cookie, as a page view would
    token = browser.cookies["csrftoken"].value
    accepted = post(browser, WRITE, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200 and Hero.objects.count() == 1


def test_tokens_are_stored_only_as_hashes(writer_key):
    from heroes.models import ApiToken

    stored = ApiToken.objects.get()
    assert writer_key not in stored.key_hash and stored.key_hash == ApiToken.hash_key(writer_key)


def test_the_create_api_token_command_prints_a_working_key(client, django_user_model):
    import io

    from django.core.management import call_command

    django_user_model.objects.create_user("cli-user")
    out = io.StringIO()
    call_command("create_api_token", "cli-user", "--name", "cli", stdout=out)
    assert post(client, {"REQUEST": "read", "SQLS": [1]}, out.getvalue().strip()).status_code == 200


# Bad input is a JSON 4xx, never a 500 or an HTML page ------------------------------------


def error(response) -> dict:
    """The endpoint's JSON error form: the status, and the body naming the problem."""
    assert response["Content-Type"] == "application/json"
    reply = response.json()
    assert reply["statusCode"] == response.status_code
    return json.loads(reply["body"])


@pytest.mark.parametrize("body", ["[" * 3000, '{"REQUEST": "read", "SQLS": ' + "[" * 3000, '{"a":' * 3000])
@pytest.mark.parametrize("key", ["reader_key", "writer_key"])
def test_a_deeply_nested_body_is_a_400_not_a_recursion_error(client, body, key, request):
    """Any valid token, staff or not: JSON nested thousands deep is refused by name."""
    response = post(client, body, request.getfixturevalue(key))
    assert response.status_code == 400
    assert error(response) == {"error": "body: the request body is nested too deeply", "field": "body"}


def test_a_body_over_the_size_limit_is_a_json_413(client, reader_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, {"REQUEST": "read", "SQLS": list(range(1, 400))}, reader_key)
    assert response.status_code == 413
    assert error(response) == {"error": "body: the request body is larger than 1000 bytes", "field": "body"}


def test_a_form_encoded_session_request_over_the_limit_is_a_json_413(django_user_model, settings):
    """The session's CSRF check reads a form body itself, before the view does."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.create_user("web"))
    browser.get(reverse("heroes:list"))  # the CSRF cookie, so the check goes on to read the form
    response = browser.post(URL, "x=" + "a" * 2000, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and error(response)["field"] == "body"


def test_an_oversized_body_without_credentials_is_still_a_401(client, settings):
    """The body is read only after authentication: its size tells an anonymous caller nothing."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, "x" * 2000)
    assert response.status_code == 401


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch", "options"])
def test_methods_other_than_post_are_a_json_405(client, reader_key, method):
    response = getattr(client, method)(URL, HTTP_AUTHORIZATION=f"Bearer {reader_key}")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "send the event with POST" in error(response)["error"]


def test_a_revoked_token_stops_working_at_once(client, writer_key):
    """Revocation keeps the row (for the record) but the key is refused from then on."""
    from heroes.models import ApiToken
    from heroes.services import revoke_api_tokens

    assert post(client, {"REQUEST": "read", "SQLS": [1]}, writer_key).status_code == 200
    assert revoke_api_tokens(ids=[ApiToken.objects.get().pk]) == 1
    assert post(client, {"REQUEST": "read", "SQLS": [1]}, writer_key).status_code == 401
    assert ApiToken.objects.get().revoked_at is not None


def test_a_token_records_its_prefix_and_when_it_was_last_used(client, writer_key):
    """The list of tokens can tell them apart (prefix) and show which are in use (last used)."""
    from heroes.models import ApiToken

    token = ApiToken.objects.get()
    assert token.prefix == writer_key[:8] and token.last_used_at is None
    post(client, {"REQUEST": "read", "SQLS": [1]}, writer_key)
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "body", ['{"\\ud800": null}', '{"REQUEST": "\\ud800"}', '{"REQUEST": "read", "SQLS": ["\\udfff"]}']
)
def test_a_lone_surrogate_anywhere_in_the_event_is_a_400_not_a_500(client, reader_key, body):
    """JSON may spell a lone surrogate (\\ud800), which no UTF-8 response can echo back."""
    response = post(client, body, reader_key)
    assert response.status_code == 400, response.content
    assert "field" in error(response)
