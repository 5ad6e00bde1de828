"""scripts/stage_from_stack.py fills a Zappa stage from the CloudFormation stack's outputs."""

import json

import pytest
from cfnlint.decode import decode

from scripts.stage_from_stack import OUTPUTS, effective, main
from tests.conftest import ROOT


@pytest.fixture
def settings_file(tmp_path):
    path = tmp_path / "zappa_settings.json"
    path.write_text((ROOT / "zappa_settings.json").read_text())
    return path


def test_the_outputs_it_reads_are_the_templates_outputs():
    template, errors = decode(str(ROOT / "infra" / "heroapp.yaml"))
    stand_in, _ = decode(str(ROOT / "tests" / "infra" / "outputs-only.yaml"))
    assert not errors
    # The ten the stage needs; the template has more (alarms, the admin's secret, ...).
    assert set(OUTPUTS) <= set(template["Outputs"]) and set(OUTPUTS) == set(stand_in["Outputs"])


def test_the_ten_values_are_written_and_the_rest_of_the_stage_kept(aws, outputs_stack, settings_file):
    """Every CHANGE-ME a stack decides is replaced; the stage's other settings stay as they were."""
    stack = outputs_stack()
    before = json.loads(settings_file.read_text())

    assert (
        main(
            [stack, "--stage", "production", "--settings", str(settings_file), "--zappa-bucket", "zappa-pkgs"]
        )
        == 0
    )

    after = json.loads(settings_file.read_text())
    stage = effective(after, "production")
    assert stage["vpc_config"] == {
        "SubnetIds": ["subnet-0aaa1111", "subnet-0bbb2222"],
        "SecurityGroupIds": ["sg-0ccc3333"],
    }
    assert stage["role_name"].startswith(f"{stack}-FunctionRole")
    assert stage["role_arn"] == f"arn:aws:iam::123456789012:role/{stage['role_name']}"
    assert stage["s3_bucket"] == "zappa-pkgs"
    env = stage["aws_environment_variables"]
    ca = "?ssl-ca=/var/task/rds-ca/global-bundle.pem"
    assert (
        env["DATABASE_URL"]
        == f"mysql://heroapp_app@heroapp.cluster-abc.us-east-1.rds.amazonaws.com:3306/heroapp{ca}"
    )
    assert env["DATABASE_READER_URL"] == (
        f"mysql://heroapp_app@heroapp.cluster-ro-abc.us-east-1.rds.amazonaws.com:3306/heroapp{ca}"
    )
    assert env["DATABASE_SECRET_ARN"].endswith(":secret:rds-db-credentials-AbCdEf")
    assert env["SECRET_KEY_SECRET_ARN"].endswith(":secret:heroapp-django-key-GhIjKl")
    assert env["REDIS_URL"] == "rediss://master.heroapp.abc.use1.cache.amazonaws.com:6379/0"
    (event,) = stage["events"]
    assert event["event_source"]["arn"].startswith(f"arn:aws:s3:::{stack.lower()}-importbucket")
    assert event["event_source"]["suffix"] == ".csv"
    assert "CHANGE-ME" not in json.dumps({k: v for k, v in stage.items() if k != "aws_environment_variables"})
    assert [v for v in env.values() if "CHANGE-ME" in v] == []
    # Untouched: the other stage, and the stage's own other settings.
    assert after["dev"] == before["dev"]
    assert (
        env["HERO_CACHE_WAIT_REPLICAS"] == "1" and stage["memory_size"] == before["production"]["memory_size"]
    )


def test_a_new_stage_extends_another_and_a_sharded_cache_gets_the_cluster_url(
    aws, outputs_stack, settings_file
):
    stack = outputs_stack("heroapp-sharded", CacheShards="3", DatabaseName="heroes")

    assert (
        main([stack, "--stage", "staging", "--extends", "production", "--settings", str(settings_file)]) == 0
    )

    settings = json.loads(settings_file.read_text())
    assert settings["staging"]["extends"] == "production"
    env = effective(settings, "staging")["aws_environment_variables"]
    assert env["REDIS_URL"].endswith(":6379/0?cluster=true")
    assert env["DATABASE_URL"].split("?")[0].endswith(":3306/heroes")
    assert env["METRICS_NAMESPACE"] == "heroapp"  # inherited from production, carried over whole


def test_a_missing_stack_or_stage_is_a_one_line_error_that_writes_nothing(
    aws, outputs_stack, settings_file, capsys
):
    original = settings_file.read_text()

    assert main(["no-such-stack", "--settings", str(settings_file)]) == 1
    assert main([outputs_stack(), "--stage", "staging", "--settings", str(settings_file)]) == 1

    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and "no-such-stack" in errors[0] and "--extends" in errors[1]
    assert "Traceback" not in "".join(errors)
    assert settings_file.read_text() == original
