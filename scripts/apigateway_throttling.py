"""
Apply a Zappa stage's API Gateway throttling, which Zappa itself does not set.

    python scripts/apigateway_throttling.py production

zappa_settings.json names the limits per stage, next to Zappa's own keys (Zappa ignores keys
it does not know):

    "apigateway_throttling": {"rate_limit": 500, "burst_limit": 1000}

Run it after `zappa deploy` or `zappa update` (the API and its stage must exist): it sets
the stage's default method throttling (every resource and method, "/*/*") on the REST API
Zappa created, which is named after the function (project_name-stage).
"""

import json
import sys
from pathlib import Path

SETTINGS = Path(__file__).resolve().parent.parent / "zappa_settings.json"


def stage_settings(stage: str, path: Path = SETTINGS) -> dict:
    """The stage's settings with what it ``extends`` filled in, as Zappa reads them."""
    everything = json.loads(path.read_text())
    settings = dict(everything[stage])
    while "extends" in settings:
        parent = everything[settings.pop("extends")]
        settings = {**parent, **settings}
    return settings


def apply(stage: str, path: Path = SETTINGS) -> dict:
    import boto3

    settings = stage_settings(stage, path)
    limits = settings["apigateway_throttling"]
    name = f"{settings['project_name']}-{stage}"
    client = boto3.client("apigateway", region_name=settings.get("aws_region"))
    apis = [
        api
        for page in client.get_paginator("get_rest_apis").paginate()
        for api in page["items"]
        if api["name"] == name
    ]
    if len(apis) != 1:
        raise SystemExit(f"expected one REST API named {name}, found {len(apis)}: deploy the stage first")
    return client.update_stage(
        restApiId=apis[0]["id"],
        stageName=stage,
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(limits["rate_limit"])},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(limits["burst_limit"])},
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    stage = apply(sys.argv[1])
    print(json.dumps({"stage": sys.argv[1], "methodSettings": stage.get("methodSettings", {})}, default=str))
