"""
Each stage limits itself: reserved concurrency below what the database's connections serve,
and API Gateway throttling, which scripts/apigateway_throttling.py applies (Zappa 0.63 has
no setting for it) to the stage Zappa deployed, here on moto's API Gateway.
"""

import json
import sys

import boto3
import pytest
from cfnlint.decode import decode

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import apigateway_throttling  # noqa: E402

STAGES = json.loads((ROOT / "zappa_settings.json").read_text())


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_stage_reserves_concurrency_below_the_database_connections_and_throttles(stage):
    settings = apigateway_throttling.stage_settings(stage)
    template, _ = decode(str(ROOT / "infra" / "heroapp.yaml"))
    connections_alarm = template["Parameters"]["DatabaseConnectionsAlarmThreshold"]["Default"]

    # One writer connection per container at most (CONN_MAX_AGE keeps one per container;
    # the reader is another instance): containers never outnumber what fills ~80% of the slots.
    assert 0 < settings["lambda_concurrency"] <= connections_alarm
    limits = settings["apigateway_throttling"]
    assert 0 < limits["rate_limit"] <= limits["burst_limit"]


def test_the_script_sets_the_deployed_stages_throttling(aws):
    client = boto3.client("apigateway")
    api = client.create_rest_api(name="heroapp-production")["id"]
    root = client.get_resources(restApiId=api)["items"][0]["id"]
    client.put_method(restApiId=api, resourceId=root, httpMethod="ANY", authorizationType="NONE")
    client.put_integration(restApiId=api, resourceId=root, httpMethod="ANY", type="MOCK")
    client.create_deployment(restApiId=api, stageName="production")
    client.create_rest_api(name="heroapp-dev")  # another stage's API is left alone

    apigateway_throttling.apply("production")

    settings = client.get_stage(restApiId=api, stageName="production")["methodSettings"]["*/*"]
    expected = apigateway_throttling.stage_settings("production")["apigateway_throttling"]
    assert settings["throttlingRateLimit"] == expected["rate_limit"]
    assert settings["throttlingBurstLimit"] == expected["burst_limit"]


def test_the_script_refuses_a_stage_that_is_not_deployed(aws):
    with pytest.raises(SystemExit, match="deploy the stage first"):
        apigateway_throttling.apply("production")
