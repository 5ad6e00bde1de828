"""
Secrets read from AWS Secrets Manager once per process (a Lambda container reads them
in its init phase, when settings are imported, never per request).

Nothing secret is committed or put in zappa_settings.json: the deployment names the
secrets by ARN and the function's IAM role may read exactly those.

The database secret is the exception that proves the rule: RDS rotates it, so a
connection the server refuses re-reads it once (heroapp/mysql/base.py).
"""

import json
from functools import cache


def fetch_secret(arn: str) -> str:
    import boto3  # in the Lambda runtime; imported only when a secret is configured

    # boto3 takes the region from the ARN's own endpoint resolution via the environment
    # (AWS_REGION on Lambda) and honours AWS_ENDPOINT_URL, which the tests point at moto.
    return boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]


read_secret = cache(fetch_secret)

# Database secrets re-read after a rotation, by ARN; they replace what read_secret kept.
_reread: dict[str, dict] = {}


def database_secret(arn: str) -> dict:
    """
    An RDS-style secret: {"username", "password", "host", "port", "dbname"}, the shape
    RDS writes for a managed master password and Secrets Manager's rotation uses.
    """
    return _reread.get(arn) or json.loads(read_secret(arn))


def reread_database_secret(arn: str) -> dict:
    """The secret as Secrets Manager has it now, kept for the rest of the process."""
    _reread[arn] = json.loads(fetch_secret(arn))
    return _reread[arn]
