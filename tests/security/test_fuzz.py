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
    st.sampled_from(
        [
            "'; DROP TABLE heroes_hero; --",
            "<script>alert(1)</script>",
            "\x00",
            "\ud800",
            "%s%s%n",
            "../../etc/passwd",
            "1 OR 1=1",
            "𝕳𝖊𝖗𝖔",
            "x" * 5000,
            " ",
            "NaN",
            "-1",
            "1e999",
            "0x10",
        ]
    ),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(HOSTILE_TEXT, inner, max_size=5),
    max_leaves=20,
)
RECORD = st.fixed_dictionaries(
    {},
    optional={
        "name": JSON_VALUES,
        "hero": st.sampled_from(["yes", "no", "maybe", True]) | JSON_VALUES,
        "power": JSON_VALUES,
        "xp": st.integers(-5, 2**40) | JSON_VALUES,
        "color": JSON_VALUES,
        "id": JSON_VALUES,
        "extra": JSON_VALUES,
    },
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
    response = editor.post(
        reverse("heroes:create"),
        b"name=%FF%FE&hero=yes&xp=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (200, 302)


# Events under Zappa's keys: whatever an invoker writes, Zappa runs only allow-listed code ----

FUNCTION_NAMES = (
    st.sampled_from(
        [
            "heroes.services.flush_hero_cache",
            "heroes.services.warm_all_heroes",
            "os.system",
            "builtins.exec",
            "cache_worker.tasks.warm_cache",
            "cache_worker.tasks.flush_cache",
            "cache_worker.tasks.flush_hero_cache",
            "cache_worker.s3_import.import_s3_object",
            "handler.keep_warm_callback",
            "cache_worker.tasks",
            "x",
        ]
    )
    | HOSTILE_TEXT
)
MANAGE_LINES = (
    st.lists(
        st.sampled_from(
            [
                "migrate",
                "check",
                "showmigrations",
                "flush",
                "shell",
                "dbshell",
                "loaddata",
                "-c",
                "print(1)",
                "--noinput",
                "--fake",
                "--prune",
                "--plan",
                "--deploy",
                "heroes",
                "zero",
                "--database=other",
                "-v",
                "2",
                "9",
                "",
                "--tag",
            ]
        ),
        max_size=5,
    ).map(" ".join)
    | HOSTILE_TEXT
)
ZAPPA_VALUES = FUNCTION_NAMES | MANAGE_LINES | JSON_VALUES
ZAPPA_EVENTS = st.one_of(
    st.fixed_dictionaries({"command": FUNCTION_NAMES | JSON_VALUES}),
    st.fixed_dictionaries({"manage": MANAGE_LINES | JSON_VALUES}),
    st.fixed_dictionaries(
        {
            "detail-type": st.just("Scheduled Event"),
            "resources": st.lists(
                FUNCTION_NAMES.map(lambda name: f"arn:aws:events:us-east-1:1:rule/heroapp-production-{name}")
                | JSON_VALUES,
                max_size=2,
            )
            | JSON_VALUES,
        }
    ),
    st.fixed_dictionaries(
        {
            "Records": st.lists(
                st.one_of(
                    st.builds(
                        lambda name: {
                            "s3": {"configurationId": f"heroapp:{name}", "bucket": {"arn": "arn:aws:s3:::b"}}
                        },
                        FUNCTION_NAMES,
                    ),
                    st.builds(
                        lambda name: {
                            "Sns": {
                                "TopicArn": "arn:aws:sns:us-east-1:1:t",
                                "Message": json.dumps({"command": name}),
                            }
                        },
                        FUNCTION_NAMES,
                    ),
                    JSON_VALUES,
                ),
                max_size=2,
            )
        }
    ),
    # Several of Zappa's keys at once: Zappa acts on the first in its own order.
    st.dictionaries(
        st.sampled_from(
            [
                "detail-type",
                "resources",
                "command",
                "raw_command",
                "manage",
                "Records",
                "bot",
                "type",
                "triggerSource",
                "awslogs",
                "requestContext",
            ]
        ),
        ZAPPA_VALUES | st.just("Scheduled Event") | st.just("TOKEN"),
        min_size=1,
        max_size=4,
    ),
)
ALLOWED_FUNCTIONS = {
    "cache_worker.tasks.warm_cache",
    "cache_worker.tasks.flush_cache",
    "cache_worker.s3_import.import_s3_object",
}


@pytest.fixture
def zappa_runs(zappa_settings, monkeypatch):
    """
    What Zappa's handler would run: the functions it imports, the commands it calls and the
    Python it executes are recorded instead of run, so a failure cannot harm the test run.
    """
    import zappa.handler
    from django.core import management

    ran = []
    monkeypatch.setattr(
        zappa.handler.LambdaHandler,
        "import_module_and_get_function",
        staticmethod(lambda name: ran.append(("function", name)) or (lambda *args: None)),
    )
    monkeypatch.setattr(management, "call_command", lambda *args, **kwargs: ran.append(("manage", args)))
    monkeypatch.setattr(zappa.handler, "exec", lambda code: ran.append(("python", code)), raising=False)
    return ran


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=ZAPPA_EVENTS)
def test_an_event_for_zappa_runs_only_allow_listed_code(zappa_runs, event):
    zappa_runs.clear()
    response = lambda_handler(event)
    if isinstance(response, dict) and response.get("statusCode") == 400:
        assert_clean_error(response)
    for kind, what in zappa_runs:
        assert kind != "python", what
        if kind == "function":
            assert what in ALLOWED_FUNCTIONS, what
        else:
            command, *arguments = what
            assert command in ("migrate", "check", "showmigrations"), what
            assert not {"--fake", "--prune", "-c", "--database=other"} & {*arguments}, what
            assert command != "migrate" or all(
                argument.startswith("-") or argument.isdigit() for argument in arguments
            )
