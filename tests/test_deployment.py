"""
`make deploy`, `make status`, `make update` and `make undeploy` (the Makefile, zappa_settings.json,
scripts/package.sh) take a stage through its life on a local AWS: moto's server on loopback,
which Zappa reaches through AWS_ENDPOINT_URL like any boto3 client.

The stage is what an engineer would make: a CloudFormation stack with the template's outputs,
`make stage-from-stack` writing a stage that extends production, then the other make targets.
moto stores what it is sent without judging it, so the checks here are the ones moto does not
make: the function's settings, the zip that was uploaded, the S3 trigger's filter, the keep-warm
rule, API Gateway's routes, and what undeploy leaves behind. Invoking the function would need
Docker in moto and is not done here; tests/scripts/test_lambda_package.py runs the package.
"""

import base64
import copy
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import boto3
import botocore.exceptions
import pytest

from scripts.stage_from_stack import effective
from tests.conftest import ROOT, create_outputs_stack

sys.path.insert(0, str(ROOT / "scripts"))
import lambda_package  # noqa: E402

pytestmark = pytest.mark.package

STAGE = "deploytest"
FUNCTION = f"heroapp-{STAGE}"


def make(
    target: str, env: dict, settings, *args: str, input: str | None = None
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["make", "--no-print-directory", target, f"STAGE={STAGE}", f"ZAPPA_SETTINGS={settings}", *args],
        cwd=ROOT,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"make {target} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def snapshot(bucket: str) -> dict:
    """What AWS holds for the stage: the function, its S3 trigger, its rules, its API."""
    functions = boto3.client("lambda")
    try:
        function = functions.get_function(FunctionName=FUNCTION)
    except functions.exceptions.ResourceNotFoundException:
        function = None
    events = boto3.client("events")
    rules = {
        rule["Name"]: {**rule, "targets": events.list_targets_by_rule(Rule=rule["Name"])["Targets"]}
        for rule in events.list_rules(NamePrefix=FUNCTION)["Rules"]
    }
    notification = boto3.client("s3").get_bucket_notification_configuration(Bucket=bucket)
    gateway = boto3.client("apigateway")
    apis = [api for api in gateway.get_rest_apis()["items"] if api["name"] == FUNCTION]
    resources = {}
    for api in apis:
        for resource in gateway.get_resources(restApiId=api["id"])["items"]:
            resources[resource["path"]] = sorted(resource.get("resourceMethods", {}))
    try:
        (stack,) = boto3.client("cloudformation").describe_stacks(StackName=FUNCTION)["Stacks"]
        stack_status = stack["StackStatus"]
    except botocore.exceptions.ClientError:
        stack_status = None
    return {
        "function": function,
        "api_stack": stack_status,
        "rules": rules,
        "lambda_notifications": notification.get("LambdaFunctionConfigurations", []),
        "apis": apis,
        "resources": resources,
    }


@pytest.fixture(scope="module")
def life(aws_for_zappa, tmp_path_factory):
    """
    The stage deployed, checked, updated (more memory, a changed variable) and undeployed
    through the make targets; what AWS held after each step, and what the steps printed.
    """
    env = {**os.environ, **aws_for_zappa}
    env.pop("VIRTUAL_ENV", None)
    os.environ.update(aws_for_zappa)  # boto3 in this process: the same local AWS
    try:
        folder = tmp_path_factory.mktemp("deploy")
        settings = folder / "zappa_settings.json"
        settings.write_text((ROOT / "zappa_settings.json").read_text())
        boto3.client("s3").create_bucket(Bucket="heroapp-deploytest-packages")
        stack = create_outputs_stack("heroapp-deploytest")
        make(
            "stage-from-stack",
            env,
            settings,
            f"STACK={stack}",
            "EXTENDS=production",
            "ZAPPA_BUCKET=heroapp-deploytest-packages",
        )
        config = json.loads(settings.read_text())
        # Zappa requests the new API's URL after a deploy ("touch"); it is not on loopback.
        config[STAGE]["touch"] = False
        settings.write_text(json.dumps(config, indent=4))
        stage = copy.deepcopy(effective(config, STAGE))
        bucket = stage["events"][0]["event_source"]["arn"].removeprefix("arn:aws:s3:::")
        zip_path = ROOT / "build" / f"heroapp-{STAGE}.zip"

        steps = {"stage": stage, "zip": zip_path}
        steps["deploy"] = make("deploy", env, settings)
        steps["deployed"] = snapshot(bucket)
        with zipfile.ZipFile(zip_path) as archive:
            steps["zip_members"] = set(archive.namelist())
        steps["zip_problems"] = lambda_package.problems(str(zip_path))
        steps["zip_sha256"] = base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()
        steps["status"] = make("status", env, settings)

        config[STAGE]["memory_size"] = 2048
        config[STAGE]["aws_environment_variables"]["HERO_CACHE_TTL"] = "600"
        settings.write_text(json.dumps(config, indent=4))
        steps["update"] = make("update", env, settings)
        steps["updated"] = snapshot(bucket)

        steps["undeploy"] = make("undeploy", env, settings, input="y\n")
        steps["undeployed"] = snapshot(bucket)
        yield steps
    finally:
        for name in aws_for_zappa:
            os.environ.pop(name, None)


def test_the_function_runs_with_the_stages_settings(life):
    configuration = life["deployed"]["function"]["Configuration"]
    stage = life["stage"]
    assert configuration["Runtime"] == "python3.12"
    assert configuration["Handler"] == "cache_worker.handler.lambda_handler"
    assert (configuration["MemorySize"], configuration["Timeout"]) == (1769, 30)
    assert configuration["Role"] == stage["role_arn"]
    assert configuration["Environment"]["Variables"] == stage["aws_environment_variables"]
    assert configuration["VpcConfig"]["SubnetIds"] == ["subnet-0aaa1111", "subnet-0bbb2222"]
    assert configuration["VpcConfig"]["SecurityGroupIds"] == ["sg-0ccc3333"]


def test_the_uploaded_zip_is_the_checked_package_with_the_handler(life):
    """What reached Lambda is the zip `make package` built and checked, byte for byte."""
    assert life["deployed"]["function"]["Configuration"]["CodeSha256"] == life["zip_sha256"]
    assert {"cache_worker/handler.py", "handler.py", "zappa_settings.py", "lib/libmariadb.so.3"} <= life[
        "zip_members"
    ]
    assert life["zip_problems"] == []
    assert not any(name.startswith((".venv", "tests/", "bench/", "docs/")) for name in life["zip_members"])


def test_only_csv_uploads_to_the_import_bucket_start_an_import(life):
    (notification,) = life["deployed"]["lambda_notifications"]
    assert notification["LambdaFunctionArn"].endswith(f":function:{FUNCTION}")
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    rules = notification["Filter"]["Key"]["FilterRules"]
    assert [(rule["Name"].lower(), rule["Value"]) for rule in rules] == [("suffix", ".csv")]


def test_a_keep_warm_rule_pings_the_function_every_four_minutes(life):
    (rule,) = life["deployed"]["rules"].values()
    assert rule["ScheduleExpression"] == "rate(4 minutes)" and rule["State"] == "ENABLED"
    (target,) = rule["targets"]
    assert target["Arn"].endswith(f":function:{FUNCTION}")


def test_api_gateway_sends_every_path_to_the_function(life):
    # Zappa makes the API with a CloudFormation stack named after the function.
    assert life["deployed"]["api_stack"] == "CREATE_COMPLETE"
    assert len(life["deployed"]["apis"]) == 1
    assert life["deployed"]["resources"] == {"/": ["ANY"], "/{proxy+}": ["ANY"]}


def test_status_reports_the_deployed_function(life):
    out = life["status"].stdout
    assert f"Lambda Name:          {FUNCTION}" in out
    assert "Lambda Handler:       cache_worker.handler.lambda_handler" in out
    assert "rate(4 minutes)" in out


def test_update_ships_the_changed_configuration_and_keeps_the_triggers(life):
    configuration = life["updated"]["function"]["Configuration"]
    assert configuration["MemorySize"] == 2048
    assert configuration["Environment"]["Variables"]["HERO_CACHE_TTL"] == "600"
    assert (
        configuration["CodeSha256"]
        == base64.b64encode(hashlib.sha256(life["zip"].read_bytes()).digest()).decode()
    )
    assert len(life["updated"]["lambda_notifications"]) == 1 and len(life["updated"]["rules"]) == 1


def test_undeploy_removes_the_function_the_rule_the_notification_and_the_api(life):
    gone = life["undeployed"]
    assert gone["function"] is None
    assert gone["rules"] == {}
    assert gone["lambda_notifications"] == []
    # Zappa deletes the API's stack, which on AWS deletes the API with it; moto deletes the
    # stack but keeps the resources it made, so the stack is what can be checked here.
    assert gone["api_stack"] in (None, "DELETE_COMPLETE")
