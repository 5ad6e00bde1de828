"""infra/heroapp.yaml: valid CloudFormation, and the security properties it promises."""

import json
import re

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode

from cache_worker.handler import METRICS
from tests.conftest import ROOT

TEMPLATE = ROOT / "infra" / "heroapp.yaml"


@pytest.fixture(scope="module")
def template() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors
    return parsed


def resources(template, kind):
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == kind}


def test_cfn_lint_finds_nothing_down_to_informational_rules():
    """Informational rules included: I3011 reports stateful resources without deletion policies."""
    matches = lint_file(TEMPLATE, config=ManualArgs(include_checks=["I"]))
    assert [str(match) for match in matches] == []


STATEFUL = {
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
}


def test_every_stateful_resource_says_what_deleting_or_replacing_it_does(template):
    stateful = {name: r for name, r in template["Resources"].items() if r["Type"] in STATEFUL}
    assert len(stateful) >= 7
    for name, resource in stateful.items():
        assert resource.get("DeletionPolicy") in ("Retain", "Snapshot", "Delete"), name
        assert resource.get("UpdateReplacePolicy") == resource["DeletionPolicy"], name
    # What holds data that exists nowhere else is kept.
    policies = {name: r["DeletionPolicy"] for name, r in stateful.items()}
    assert policies["DatabaseCluster"] == "Snapshot"
    assert (
        policies["DjangoSecretKey"] == policies["ImportBucket"] == policies["AppDatabaseSecret"] == "Retain"
    )


def test_the_engine_version_is_pinned_and_the_database_logs_go_to_cloudwatch(template):
    (cluster,) = resources(template, "AWS::RDS::DBCluster").values()
    assert re.fullmatch(r"8\.0\.mysql_aurora\.3\.\d+\.\d+", cluster["EngineVersion"])
    assert all(
        i["AutoMinorVersionUpgrade"] is False for i in resources(template, "AWS::RDS::DBInstance").values()
    )
    assert {"audit", "error", "slowquery"} <= set(cluster["EnableCloudwatchLogsExports"])
    (parameters,) = resources(template, "AWS::RDS::DBClusterParameterGroup").values()
    assert (
        parameters["Parameters"]["server_audit_logging"] == "1"
        and "CONNECT" in parameters["Parameters"]["server_audit_events"]
    )
    assert parameters["Parameters"]["slow_query_log"] == "1"


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
    assert all(
        not p.get("PubliclyAccessible", False) for p in resources(template, "AWS::RDS::DBInstance").values()
    )


def test_the_function_role_is_least_privilege(template):
    (role,) = resources(template, "AWS::IAM::Role").values()
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    # rds-db:connect only with DatabaseAuthentication=iam, and only as the application user.
    (iam,) = [s for s in statements if "Fn::If" in s]
    condition, connect, otherwise = iam["Fn::If"]
    assert condition == "IamAuthentication" and otherwise == {"Ref": "AWS::NoValue"}
    assert connect["Action"] == "rds-db:connect" and connect["Resource"]["Fn::Sub"].endswith("/heroapp_app")
    statements = [s for s in statements if "Fn::If" not in s]
    actions = sorted(s["Action"] for s in statements)
    assert actions == ["lambda:InvokeFunction", "s3:GetObject", "secretsmanager:GetSecretValue"]
    for statement in statements:
        assert statement["Effect"] == "Allow" and "*" != statement["Resource"]
    (secrets,) = [s["Resource"] for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    # The application user's secret and the Django key; never the master user's.
    assert secrets == [{"Ref": "AppDatabaseSecret"}, {"Ref": "DjangoSecretKey"}]


def test_the_application_user_has_a_secret_of_its_own_attached_to_the_cluster(template):
    secret = template["Resources"]["AppDatabaseSecret"]["Properties"]["GenerateSecretString"]
    assert json.loads(secret["SecretStringTemplate"]) == {"username": "heroapp_app"}
    assert secret["GenerateStringKey"] == "password"
    attachment = template["Resources"]["AppDatabaseSecretAttachment"]["Properties"]
    assert attachment["TargetId"] == {"Ref": "DatabaseCluster"} and attachment["SecretId"] == {
        "Ref": "AppDatabaseSecret"
    }
    assert template["Outputs"]["DatabaseSecretArn"]["Value"] == {"Ref": "AppDatabaseSecret"}


def metric_names(alarm: dict) -> set[tuple[str, str]]:
    """(namespace, metric) pairs an alarm reads, whether a single metric or metric math."""
    if "MetricName" in alarm:
        return {(json.dumps(alarm["Namespace"]), alarm["MetricName"])}
    return {
        (json.dumps(m["MetricStat"]["Metric"]["Namespace"]), m["MetricStat"]["Metric"]["MetricName"])
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }


def test_the_alarms_watch_the_invocation_metrics_and_the_database_connections(template):
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    emitted = {metric["Name"] for metric in METRICS}
    ours = json.dumps({"Ref": "MetricsNamespace"})
    read = {name: metric_names(alarm) for name, alarm in alarms.items()}
    # errors, p99 time, hit ratio and SQL per invocation, from the metrics the handler emits.
    assert read["ErrorRateAlarm"] == {(ours, "errors"), (ours, "total_ms")}
    assert (
        read["ReadLatencyAlarm"] == {(ours, "total_ms")}
        and alarms["ReadLatencyAlarm"]["ExtendedStatistic"] == "p99"
    )
    assert read["HitRatioAlarm"] == {(ours, "hits"), (ours, "misses")}
    assert read["SqlPerReadAlarm"] == {(ours, "db_queries")}
    assert read["DatabaseConnectionsAlarm"] == {(json.dumps("AWS/RDS"), "DatabaseConnections")}
    assert read["ThrottleAlarm"] == {(json.dumps("AWS/Lambda"), "Throttles")}
    for name, pairs in read.items():
        assert all(metric in emitted for namespace, metric in pairs if namespace == ours), name
        assert alarms[name]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarms[name]["TreatMissingData"] == "notBreaching", name  # no traffic is not an incident


def test_the_dashboard_shows_every_metric_the_invocation_line_emits(template):
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # Substitute the template's references with plain values to read it as the JSON it becomes.
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "1", body))
    shown = {
        row[1]
        for widget in dashboard["widgets"]
        for row in widget["properties"]["metrics"]
        if isinstance(row[0], str) and row[0] == "1"
    }
    assert shown == {metric["Name"] for metric in METRICS}
    namespaces = {
        row[0]
        for widget in dashboard["widgets"]
        for row in widget["properties"]["metrics"]
        if isinstance(row[0], str)
    }
    assert {"AWS/RDS", "AWS/Lambda"} <= namespaces


def test_the_outputs_fill_zappa_settings(template):
    assert {
        "SubnetIds",
        "LambdaSecurityGroupId",
        "FunctionRoleName",
        "FunctionRoleArn",
        "DatabaseWriterEndpoint",
        "DatabaseSecretArn",
        "SecretKeySecretArn",
        "RedisEndpoint",
        "ImportBucketName",
        "AdminDatabaseSecretArn",
        "AlarmTopicArn",
        "DashboardName",
    } <= set(template["Outputs"])
