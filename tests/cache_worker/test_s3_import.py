"""
The S3 import of an object too large for one invocation: in parts, each committed with
its offset, continued in new asynchronous invocations, and never imported twice.

The object lives in moto's S3 server; each continuation (a Zappa ``command`` event that
production sends with lambda.invoke, InvocationType Event) is served in-process through
the real entry point, after the invocation that asked for it has returned.
"""

import io
import json
import zipfile

import boto3
import pytest

import cache_worker.s3_import as s3_import
from cache_worker.handler import lambda_handler
from heroes.models import Hero
from heroes.sample import write_csv
from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "hero-imports"
ROWS = 1500
PART_BYTES = 8_000  # about 220 rows: the object needs several parts
PARTS_PER_INVOCATION = 2


@pytest.fixture
def s3(aws, settings, zappa_settings):
    settings.HERO_S3_IMPORT_PART_BYTES = PART_BYTES
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def big_csv(tmp_path):
    """ROWS heroes without ids (so a second import of the same rows would duplicate them)."""
    path = tmp_path / "with-ids.csv"
    write_csv(path, ROWS)
    lines = path.read_text().splitlines(keepends=True)
    return "name,hero,power,xp,color\r\n" + "".join(line.split(",", 1)[1] for line in lines[1:])


@pytest.fixture
def invocations(monkeypatch, timed_context):
    """
    Lambda for the test: ``invoke(event)`` runs the entry point with a context that runs
    out of time after PARTS_PER_INVOCATION parts, then serves each continuation it asked
    for the same way, in order; returns the last result. With ``dropped`` the
    continuations are lost instead (an invocation that died).
    """

    class Invocations:
        def __init__(self):
            self.sent: list[dict] = []
            self.results: list[dict] = []
            self.queue: list[dict] = []
            self.dropped = False

        def invoke(self, event: dict) -> dict:
            self.queue.append(event)
            while self.queue:
                budget = [30_000] * PARTS_PER_INVOCATION + [0]
                self.results.append(lambda_handler(self.queue.pop(0), timed_context(budget)))
            return self.results[-1]

        def continue_import(self, event: dict, context) -> None:
            self.sent.append(json.loads(json.dumps(event)))  # as it crosses the Lambda API
            if not self.dropped:
                self.queue.append(self.sent[-1])

    calls = Invocations()
    # raising=False: the same tests run against a checkout from before continuations existed.
    monkeypatch.setattr(s3_import, "continue_import", calls.continue_import, raising=False)
    return calls


def s3_put_event(key: str, etag: str = "") -> dict:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "awsRegion": "us-east-1",
                "s3": {
                    "configurationId": "heroapp-production:cache_worker.s3_import.import_s3_object",
                    "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                    "object": {"key": key, "size": 1, "eTag": etag},
                },
            }
        ]
    }


def test_a_large_object_is_imported_once_across_several_continuations(s3, big_csv, invocations):
    s3.put_object(Bucket=BUCKET, Key="big.csv", Body=big_csv.encode())

    invocations.invoke(s3_put_event("big.csv"))

    assert Hero.objects.count() == ROWS
    assert len(invocations.sent) >= 2
    assert all(e["command"] == "cache_worker.tasks.continue_s3_import" for e in invocations.sent)
    final = invocations.results[-1]["imports"][0]
    assert (final["state"], final["rows"], final["created"], final["invalid"]) == ("finished", ROWS, ROWS, 0)
    assert final["offset"] == final["size"] == len(big_csv.encode())
    # Every part ended on a row boundary: the last row arrived whole.
    last_name = big_csv.splitlines()[-1].split(",")[0]
    assert Hero.objects.order_by("-id").values_list("name", flat=True)[0] == last_name


def test_a_repeated_event_imports_nothing_twice(s3, big_csv, invocations):
    s3.put_object(Bucket=BUCKET, Key="big.csv", Body=big_csv.encode())
    invocations.invoke(s3_put_event("big.csv"))

    again = invocations.invoke(s3_put_event("big.csv"))

    assert again["imports"][0]["state"] == "already imported"
    assert Hero.objects.count() == ROWS


def test_an_event_retried_after_its_invocations_died_carries_on_from_the_offset(s3, big_csv, invocations):
    """S3 retries the event from the top; the rows already committed are not written again."""
    s3.put_object(Bucket=BUCKET, Key="big.csv", Body=big_csv.encode())
    invocations.dropped = True
    first = invocations.invoke(s3_put_event("big.csv"))["imports"][0]
    assert first["state"] == "continued" and 0 < Hero.objects.count() < ROWS

    invocations.dropped = False
    final = invocations.invoke(s3_put_event("big.csv"))["imports"][0]

    assert Hero.objects.count() == ROWS
    assert (final["state"], final["rows"], final["created"]) == ("finished", ROWS, ROWS)


def test_a_new_version_of_the_object_is_imported_anew(s3, big_csv, invocations):
    s3.put_object(Bucket=BUCKET, Key="big.csv", Body=big_csv.encode())
    invocations.invoke(s3_put_event("big.csv"))
    changed = big_csv.replace(",fire,", ",frost,")
    s3.put_object(Bucket=BUCKET, Key="big.csv", Body=changed.encode())

    result = invocations.invoke(s3_put_event("big.csv"))["imports"][0]

    assert result["state"] == "finished" and result["created"] == ROWS
    assert Hero.objects.count() == 2 * ROWS


def test_rows_with_ids_are_upserted_and_the_cache_never_serves_the_old_values(s3, invocations):
    s3.put_object(Bucket=BUCKET, Key="ids.csv", Body=b"id,name,hero,power,xp,color\n1,Old,yes,fire,1,red\n")
    invocations.invoke(s3_put_event("ids.csv"))
    assert get_heroes(ids=[1]).heroes[0]["name"] == "Old"  # cached now
    s3.put_object(Bucket=BUCKET, Key="ids.csv", Body=b"id,name,hero,power,xp,color\n1,New,yes,fire,1,red\n")

    invocations.invoke(s3_put_event("ids.csv"))

    assert get_heroes(ids=[1]).heroes[0]["name"] == "New"
    assert Hero.objects.get(pk=1).version == 2


def test_bad_rows_are_reported_with_their_line_in_the_whole_object(s3, big_csv, invocations):
    lines = big_csv.splitlines(keepends=True)
    lines[1200] = ",yes,fire,1,red\r\n"  # line 1201: no name, in a later part
    s3.put_object(Bucket=BUCKET, Key="bad.csv", Body="".join(lines).encode())

    result = invocations.invoke(s3_put_event("bad.csv"))["imports"][0]

    assert result["invalid"] == 1 and result["errors"] == ["line 1201: name: must not be empty"]
    assert Hero.objects.count() == ROWS - 1


def test_quoted_fields_with_line_breaks_are_never_cut_between_parts(s3, invocations):
    rows = "".join(f'"Hero\n{i}, the ""{i}th""",yes,fire,{i},red\n' for i in range(800))
    s3.put_object(Bucket=BUCKET, Key="quoted.csv", Body=("name,hero,power,xp,color\n" + rows).encode())

    invocations.invoke(s3_put_event("quoted.csv"))

    names = list(Hero.objects.order_by("xp").values_list("name", flat=True))
    assert names == [f'Hero\n{i}, the "{i}th"' for i in range(800)]


def test_a_missing_or_empty_object_is_a_clear_error(s3, invocations):
    missing = invocations.invoke(s3_put_event("nope.csv"))["imports"][0]
    s3.put_object(Bucket=BUCKET, Key="empty.csv", Body=b"")
    empty = invocations.invoke(s3_put_event("empty.csv"))["imports"][0]
    assert "NoSuchKey" in missing["error"] and "empty" in empty["error"]


def test_production_continues_with_an_asynchronous_invoke_of_the_same_function(aws, timed_context):
    """The real boto3 call, against moto's Lambda (without Docker: it only accepts the call)."""
    import urllib.request

    request = urllib.request.Request(
        f"{aws['AWS_ENDPOINT_URL']}/moto-api/config",
        method="POST",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
    )
    urllib.request.urlopen(request).close()
    role = boto3.client("iam").create_role(RoleName="heroapp", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", "def handler(event, context):\n    return event\n")
    arn = boto3.client("lambda").create_function(
        FunctionName="heroapp-production",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
    )["FunctionArn"]
    context = timed_context()
    context.invoked_function_arn = arn
    sent = []
    original = boto3.client

    def recording_client(name, *args, **kwargs):
        client = original(name, *args, **kwargs)
        events = client.meta.events
        events.register("provide-client-params.lambda.Invoke", lambda params, **_: sent.append(params))
        events.register("after-call.lambda.Invoke", lambda parsed, **_: sent.append(parsed["StatusCode"]))
        return client

    boto3.client = recording_client
    try:
        s3_import.invoke_continuation({"command": s3_import.CONTINUE_COMMAND, "s3_import": []}, context)
    finally:
        boto3.client = original
    params, status = sent
    assert (params["FunctionName"], params["InvocationType"], status) == (arn, "Event", 202)
    expected = {"command": "cache_worker.tasks.continue_s3_import", "s3_import": []}
    assert json.loads(params["Payload"]) == expected


def test_an_object_that_cannot_be_imported_fails_once_and_its_retries_import_nothing(s3, invocations):
    s3.put_object(Bucket=BUCKET, Key="bad-header.csv", Body=b"name,alias\nA,B\n")
    first = invocations.invoke(s3_put_event("bad-header.csv"))["imports"][0]
    again = invocations.invoke(s3_put_event("bad-header.csv"))["imports"][0]
    assert "unknown: alias" in first["error"]
    assert again["state"] == "failed" and again["error"] == first["error"]
    assert Hero.objects.count() == 0


def test_a_continuation_naming_another_bucket_imports_nothing(s3, zappa_settings, timed_context):
    """Anyone allowed to invoke can send the continuation event: only the stage's buckets."""
    answer = lambda_handler(
        {
            "command": "cache_worker.tasks.continue_s3_import",
            "s3_import": [{"bucket": "elsewhere", "key": "x.csv"}],
        },
        timed_context(),
    )

    assert answer == {"error": "s3_import may name only the stage's import buckets"}
    assert Hero.objects.count() == 0
