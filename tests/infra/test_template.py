"""infra/heroapp.yaml: valid CloudFormation, and the security properties it promises."""

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import decode

from tests.conftest import ROOT

TEMPLATE = ROOT / "infra" / "heroapp.yaml"


@pytest.fixture(scope="module")
def template() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors
    return parsed


def resources(template, kind):
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == kind}


def test_cfn_lint_finds_nothing():
    assert [str(match) for match in lint_file(TEMPLATE)] == []


def test_data_is_encrypted_at_rest_and_in_transit(template):
    (cluster,) = resources(template, "AWS::RDS::DBCluster").values()
    assert cluster["StorageEncrypted"] is True and cluster["ManageMasterUserPassword"] is True
    (parameters,) = resources(template, "AWS::RDS::DBClusterParameterGroup").values()
    assert parameters["Parameters"]["require_secure_transport"] == "ON"
    (cache,) = resources(template, "AWS::ElastiCache::ReplicationGroup").values()
    assert cache["AtRestEncryptionEnabled"] is True and cache["TransitEncryptionEnabled"] is True
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    assert bucket["BucketEncryption"] and all(bucket["PublicAccessBlockConfiguration"].values())


def test_the_database_and_the_cache_are_reachable_only_from_the_functions_group(template):
    groups = resources(template, "AWS::EC2::SecurityGroup")
    for name in ("DatabaseSecurityGroup", "CacheSecurityGroup", "EndpointSecurityGroup"):
        for rule in groups[name]["SecurityGroupIngress"]:
            assert rule["SourceSecurityGroupId"] == {"Ref": "LambdaSecurityGroup"}
            assert "CidrIp" not in rule
    assert all(not p.get("PubliclyAccessible", False) for p in resources(template, "AWS::RDS::DBInstance").values())


def test_the_function_role_is_least_privilege(template):
    (role,) = resources(template, "AWS::IAM::Role").values()
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    actions = sorted(s["Action"] for s in statements)
    assert actions == ["lambda:InvokeFunction", "s3:GetObject", "secretsmanager:GetSecretValue"]
    for statement in statements:
        assert statement["Effect"] == "Allow" and "*" != statement["Resource"]
    (secrets,) = [s["Resource"] for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert len(secrets) == 2  # the database secret and the Django key, nothing else


def test_the_outputs_fill_zappa_settings(template):
    assert {
        "SubnetIds", "LambdaSecurityGroupId", "FunctionRoleName", "FunctionRoleArn", "DatabaseWriterEndpoint",
        "DatabaseSecretArn", "SecretKeySecretArn", "RedisEndpoint", "ImportBucketName",
    } <= set(template["Outputs"])
