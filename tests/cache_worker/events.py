"""Lambda events and context as AWS and Zappa send them, for the worker's tests."""


class LambdaContext:
    aws_request_id = "req-dispatch"
    function_name = "heroapp-production"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:heroapp-production"

    def get_remaining_time_in_millis(self):
        return 30_000


def s3_put_event(
    key: str,
    *,
    bucket: str = "hero-imports",
    configuration: str = "heroapp-production:cache_worker.s3_import.import_s3_object",
) -> dict:
    """The notification S3 sends for a new object, as Zappa configures it."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-27T00:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration,
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key, "size": 1234, "eTag": "0123456789abcdef"},
                },
            }
        ]
    }


def scheduled_event(rule: str) -> dict:
    """What EventBridge sends for a Zappa schedule: the rule is "<lambda name>-<function>"."""
    return {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"],
        "detail": {},
    }
