"""
Fill a Zappa stage from the outputs of the CloudFormation stack (infra/heroapp.yaml).

    python scripts/stage_from_stack.py heroapp-production --zappa-bucket my-zappa-deployments
    python scripts/stage_from_stack.py heroapp-staging --stage staging --extends production

Reads the stack's outputs and parameters (boto3 ``describe_stacks``; credentials, region and
AWS_ENDPOINT_URL from the environment) and writes the ten values they decide into the stage
of zappa_settings.json: the VPC subnets and security group, the function role's name and ARN,
DATABASE_URL and DATABASE_READER_URL, the two secret ARNs, REDIS_URL, and the import bucket of
the S3 event. Everything else in the stage is kept. ALLOWED_HOSTS is left alone: its API Gateway
host exists only once the stage is deployed.
"""

import argparse
import copy
import json
import sys
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

OUTPUTS = (
    "SubnetIds",
    "LambdaSecurityGroupId",
    "FunctionRoleName",
    "FunctionRoleArn",
    "DatabaseWriterEndpoint",
    "DatabaseReaderEndpoint",
    "DatabaseSecretArn",
    "SecretKeySecretArn",
    "RedisEndpoint",
    "ImportBucketName",
)
S3_IMPORT_FUNCTION = "cache_worker.s3_import.import_s3_object"
# Amazon's RDS CA bundle, which `make package` ships when it is put in rds-ca/.
RDS_CA = "/var/task/rds-ca/global-bundle.pem"


class StackError(Exception):
    pass


def describe(stack_name: str, client=None) -> tuple[dict[str, str], dict[str, str]]:
    """The stack's outputs and parameters, by name."""
    client = client or boto3.client("cloudformation")
    stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    stack = stacks[0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    missing = [name for name in OUTPUTS if name not in outputs]
    if missing:
        raise StackError(f"stack {stack_name} ({stack['StackStatus']}) has no output {', '.join(missing)}")
    return outputs, parameters


def effective(settings: dict, stage: str) -> dict:
    """A stage with what it extends merged in, the way Zappa does it (one level of keys)."""
    own = settings[stage]
    base = effective(settings, own["extends"]) if "extends" in own else {}
    return {**base, **own}


def fill_stage(
    settings: dict,
    stage: str,
    outputs: dict[str, str],
    parameters: dict[str, str],
    *,
    extends: str | None = None,
    zappa_bucket: str | None = None,
    database_user: str = "heroapp_app",
    ssl_ca: str = RDS_CA,
) -> dict:
    """
    The settings with ``stage`` filled from the stack; ``extends`` creates the stage.

    Zappa merges an extended stage's keys without looking inside them, so a stage that sets
    one environment variable must carry all of them: each value written here is the whole
    setting, taken from what the stage sees today.
    """
    settings = copy.deepcopy(settings)
    if stage not in settings:
        if not extends:
            raise StackError(f"no stage {stage!r} in the settings: name the stage it extends with --extends")
        settings[stage] = {"extends": extends}
    current = effective(settings, stage)
    database = parameters.get("DatabaseName", "heroapp")
    query = f"?ssl-ca={ssl_ca}" if ssl_ca else ""
    cluster = "?cluster=true" if int(parameters.get("CacheShards", "1")) > 1 else ""
    environment = dict(current.get("aws_environment_variables", {}))
    environment.update(
        DATABASE_URL=f"mysql://{database_user}@{outputs['DatabaseWriterEndpoint']}:3306/{database}{query}",
        DATABASE_READER_URL=f"mysql://{database_user}@{outputs['DatabaseReaderEndpoint']}:3306/{database}{query}",
        DATABASE_SECRET_ARN=outputs["DatabaseSecretArn"],
        SECRET_KEY_SECRET_ARN=outputs["SecretKeySecretArn"],
        REDIS_URL=f"rediss://{outputs['RedisEndpoint']}:6379/0{cluster}",
    )
    events = copy.deepcopy(current.get("events", []))
    imports = [e for e in events if e.get("function") == S3_IMPORT_FUNCTION]
    if not imports:
        raise StackError(f"stage {stage!r} has no S3 event for {S3_IMPORT_FUNCTION}")
    for event in imports:
        event["event_source"]["arn"] = f"arn:aws:s3:::{outputs['ImportBucketName']}"
    target = settings[stage]
    target.update(
        role_name=outputs["FunctionRoleName"],
        role_arn=outputs["FunctionRoleArn"],
        vpc_config={
            "SubnetIds": [s.strip() for s in outputs["SubnetIds"].split(",") if s.strip()],
            "SecurityGroupIds": [outputs["LambdaSecurityGroupId"]],
        },
        aws_environment_variables=environment,
        events=events,
    )
    if zappa_bucket:
        target["s3_bucket"] = zappa_bucket
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("stack_name")
    parser.add_argument("--stage", default="production")
    parser.add_argument("--extends", help="create the stage, extending this one, if it does not exist")
    parser.add_argument("--settings", default="zappa_settings.json", type=Path)
    parser.add_argument("--zappa-bucket", help="s3_bucket: where Zappa uploads packages")
    parser.add_argument(
        "--database-user",
        default="heroapp_app",
        help="the user in DATABASE_URL (its password comes from DATABASE_SECRET_ARN)",
    )
    parser.add_argument(
        "--ssl-ca", default=RDS_CA, help="the CA bundle for TLS to the database ('' for none)"
    )
    args = parser.parse_args(argv)
    try:
        outputs, parameters = describe(args.stack_name)
        settings = json.loads(args.settings.read_text())
        filled = fill_stage(
            settings,
            args.stage,
            outputs,
            parameters,
            extends=args.extends,
            zappa_bucket=args.zappa_bucket,
            database_user=args.database_user,
            ssl_ca=args.ssl_ca,
        )
    except (StackError, OSError, json.JSONDecodeError, BotoCoreError, ClientError) as error:
        # No such stack or stage, no credentials, an unreadable file: one line, not a traceback.
        print(f"stage_from_stack: {error}", file=sys.stderr)
        return 1
    args.settings.write_text(json.dumps(filled, indent=4) + "\n")
    print(f"{args.settings}: stage {args.stage} filled from stack {args.stack_name}")
    if args.ssl_ca == RDS_CA and not Path("rds-ca/global-bundle.pem").exists():
        print(
            "note: put Amazon's RDS CA bundle in rds-ca/global-bundle.pem so the package ships it",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
