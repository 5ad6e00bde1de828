import pytest


@pytest.fixture
def kill_database_connection():
    """
    End a Django connection from the server's side, as a server restart, a failover or
    wait_timeout does: the client still holds it and learns only when it next uses it.
    """

    def kill(conn) -> None:
        with conn.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            (thread_id,) = cursor.fetchone()
        admin = conn.get_new_connection(conn.get_connection_params())
        try:
            admin.cursor().execute(f"KILL {int(thread_id)}")
        finally:
            admin.close()

    return kill


class LambdaContext:
    """The parts of Lambda's context object the handler reads; ``parts`` limits the time."""

    aws_request_id = "req-s3-import"
    function_name = "heroapp-production"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:heroapp-production"

    def __init__(self, remaining_ms: list[int] | None = None):
        self.remaining_ms = list(remaining_ms or [])

    def get_remaining_time_in_millis(self) -> int:
        # Each answer is used once; after the list, plenty of time.
        return self.remaining_ms.pop(0) if self.remaining_ms else 30_000


@pytest.fixture
def timed_context():
    """LambdaContext itself: a test makes contexts with the time left it wants each to report."""
    return LambdaContext
