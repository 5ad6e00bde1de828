import sys

import pytest

from tests.cache_worker.events import LambdaContext

# The zappa_settings module `zappa package` generates for the production stage (the
# packaged one is checked in tests/scripts), with the S3 import as the stage's event.
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
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def zappa_settings(tmp_path, monkeypatch):
    """Zappa's handler reads the zappa_settings module; each test gets a fresh handler on it."""
    from zappa.handler import LambdaHandler

    (tmp_path / "zappa_settings.py").write_text(ZAPPA_SETTINGS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "zappa_settings", raising=False)
    # Zappa keeps one handler per process; each test builds its own from these settings.
    monkeypatch.setattr(LambdaHandler, "_LambdaHandler__instance", None)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
