import sys

import pytest

# What `zappa package` writes for the stage, as far as Zappa's handler reads it for the
# events these tests send (tests/cache_worker/test_dispatch.py has the same).
ZAPPA_SETTINGS = """
EXCEPTION_HANDLER=None
DEBUG=False
LOG_LEVEL='INFO'
BINARY_SUPPORT=True
CONTEXT_HEADER_MAPPINGS={}
DOMAIN=None
BASE_PATH=None
ENVIRONMENT_VARIABLES={}
API_STAGE='production'
PROJECT_NAME='heroapp'
SETTINGS_FILE=None
DJANGO_SETTINGS='heroapp.settings'
AWS_EVENT_MAPPING={'arn:aws:s3:::hero-imports': ['cache_worker.s3_import.import_s3_object']}
AWS_BOT_EVENT_MAPPING={}
COGNITO_TRIGGER_MAPPING={}
ASYNC_RESPONSE_TABLE=''
ADDITIONAL_TEXT_MIMETYPES=[]
"""


@pytest.fixture
def zappa_stage(tmp_path, monkeypatch):
    """Zappa's handler, reading a zappa_settings module like the packaged one."""
    from zappa.handler import LambdaHandler

    (tmp_path / "zappa_settings.py").write_text(ZAPPA_SETTINGS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "zappa_settings", raising=False)
    # Zappa keeps one handler per process; each test builds its own from these settings.
    monkeypatch.setattr(LambdaHandler, "_LambdaHandler__instance", None)


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
def lambda_context():
    return LambdaContext
