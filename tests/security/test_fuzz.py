"""
Thousands of malformed and hostile inputs (hypothesis): never a 500 or a traceback,
always a 400 that names the problem, and nothing half-written.
"""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cache_worker.handler import is_zappa_event, lambda_handler
from heroes.models import Hero
from heroes.services import issue_api_token

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from([
        "'; DROP TABLE heroes_hero; --", "<script>alert(1)</script>", "\x00", "\ud800", "%s%s%n", "../../etc/passwd",
        "1 OR 1=1", "𝕳𝖊𝖗𝖔", "x" * 5000, " ", "NaN", "-1", "1e999", "0x10",
    ]),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(HOSTILE_TEXT, inner, max_size=5),
    max_leaves=20,
)
RECORD = st.fixed_dictionaries(
    {},
    optional={"name": JSON_VALUES, "hero": st.sampled_from(["yes", "no", "maybe", True]) | JSON_VALUES,
              "power": JSON_VALUES, "xp": st.integers(-5, 2**40) | JSON_VALUES, "color": JSON_VALUES,
              "id": JSON_VALUES, "extra": JSON_VALUES},
)
EVENTS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {"REQUEST": st.sampled_from(["read", "write"]) | JSON_VALUES},
        optional={"SQLS": st.lists(RECORD | JSON_VALUES, max_size=8) | JSON_VALUES, "USE_CACHE": JSON_VALUES},
    ),
)
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_clean_error(response: dict) -> None:
    assert response["statusCode"] in (200, 400), response
    assert "Traceback" not in response["body"]
    body = json.loads(response["body"])
    if response["statusCode"] == 400:
        assert body["error"] and (body.get("field") is None or body["error"].startswith(body["field"]))


@FUZZ
@given(event=EVENTS)
def test_any_event_gets_a_clean_answer_and_a_failed_write_writes_nothing(event):
    # Events with a value under one of Zappa's keys are Zappa's (tests/cache_worker/test_dispatch.py).
    assume(not is_zappa_event(event))
    before = Hero.objects.count()
    response = lambda_handler(event)
    assert_clean_error(response)
    if response["statusCode"] == 400:
        assert Hero.objects.count() == before
    elif isinstance(event, dict) and event.get("REQUEST") == "write":
        assert Hero.objects.count() == before + len(event["SQLS"])


@pytest.fixture
def api(django_user_model):
    user = django_user_model.objects.create_user("fuzzer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_hero"))
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(user=user, name='fuzz')[1]}")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=500) | EVENTS.map(lambda e: json.dumps(e).encode()))
def test_the_json_endpoint_never_fails_with_a_500(api, body):
    response = api.post(reverse("heroes:api-events"), body, content_type="application/json")
    assert response.status_code in (200, 400), response.content[:300]
    assert_clean_error(response.json())


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_superuser("form-fuzzer", "f@example.com", "pw-for-tests")
    client = Client()
    client.force_login(user)
    return client


# A browser sends bytes, which Django decodes with replacement characters, so a form can
# never receive a lone surrogate: the fuzzed text is what can arrive.
SENDABLE_TEXT = HOSTILE_TEXT.map(lambda text: text.encode("utf-8", "replace").decode("utf-8"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(["name", "hero", "power", "xp", "color", "junk"]), SENDABLE_TEXT))
def test_the_hero_form_answers_hostile_input_with_errors_not_500s(editor, data):
    before = Hero.objects.count()
    response = editor.post(reverse("heroes:create"), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:  # the form came back with its errors
        assert Hero.objects.count() == before
        assert b"<script>alert(1)</script>" not in response.content


def test_invalid_utf8_in_a_form_post_is_an_error_message_not_a_500(editor):
    response = editor.post(reverse("heroes:create"), b"name=%FF%FE&hero=yes&xp=1",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 302)
