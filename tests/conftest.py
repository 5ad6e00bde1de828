"""
Fixtures shared by the whole suite.

The suite runs against real servers: ``make test`` points DATABASE_URL at MariaDB and
REDIS_URL at a Redis database of its own (15), and this file refuses to run the suite
on anything else, so a green run always means "tested against MariaDB and Redis". The
tests marked ``embedded`` run a second time with neither variable set (SQLite and the
in-process cache), as ``make run`` does.
"""

import io
import logging
import os
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection

from heroes.cache import get_hero_cache
from heroes.models import Hero
from heroes.schema import HeroRecord
from scripts.private_mariadb import PrivateMariaDB
from tests.cache_worker.events import LambdaContext

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED = os.environ.get("HEROAPP_EMBEDDED_TEST") == "1"


@pytest.fixture(scope="session", autouse=True)
def real_services(django_db_setup, django_db_blocker):
    """Stop at once, with the fix, if the suite is not pointed at the servers it needs."""
    with django_db_blocker.unblock():
        vendor = connection.vendor
    backend = get_hero_cache().backend_name
    if EMBEDDED:
        assert (vendor, backend) == ("sqlite", "local"), "the embedded run expects SQLite and the local cache"
    elif (vendor, backend) != ("mysql", "redis"):
        pytest.exit(
            f"The test suite needs MariaDB and Redis, but it got {vendor} and a {backend} cache. "
            "Run it with `make test`, or set DATABASE_URL=mysql://... and REDIS_URL=redis://...",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache (Redis database 15 is the suite's own)."""
    hero_cache = get_hero_cache()
    if hero_cache.backend_name == "redis":
        hero_cache.store.client.flushdb()
    else:
        caches["default"].clear()
    hero_cache.reset()
    yield


@pytest.fixture
def hero_cache():
    return get_hero_cache()


@pytest.fixture
def redis_client(hero_cache):
    if hero_cache.backend_name != "redis":
        pytest.skip("needs Redis")
    return hero_cache.store.client


@pytest.fixture
def redis_commands(redis_client):
    """
    Count the commands Redis executed, from the server's own INFO commandstats.

    ``take()`` returns the calls per command since the last take (or the fixture's start),
    leaving out the INFO calls this fixture makes itself.
    """

    def snapshot() -> Counter:
        if get_hero_cache().store.cluster:
            # Every primary counts its own; the suite's total is their sum.
            per_node = redis_client.info("commandstats", target_nodes=redis_client.PRIMARIES).values()
        else:
            per_node = [redis_client.info("commandstats")]
        total = Counter()
        for stats in per_node:
            total.update({name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()})
        return total

    class Tracker:
        def __init__(self):
            self.last = snapshot()

        def take(self) -> Counter:
            now = snapshot()
            delta = Counter(
                {name: now[name] - self.last[name] for name in now if now[name] != self.last[name]}
            )
            delta.pop("info", None)
            self.last = snapshot()
            return delta

    return Tracker()


@pytest.fixture
def redis_primaries(redis_client):
    """How many primaries the suite's Redis has (1 unless REDIS_URL is a cluster), and slots."""

    class Primaries:
        cluster = get_hero_cache().store.cluster
        count = len(redis_client.get_primaries()) if cluster else 1

        @staticmethod
        def slot(key: str) -> int:
            return redis_client.keyslot(key)

    return Primaries()


@pytest.fixture
def round_trips(monkeypatch, redis_client):
    """
    Count requests sent to Redis: one per command, one per whole pipeline.

    It wraps redis-py's real connection method and calls through, so the servers see
    exactly what they would without it.
    """
    from redis.connection import AbstractConnection

    counter = Counter()
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        counter["requests"] += 1
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return counter


@pytest.fixture
def make_heroes():
    """Create heroes through the ORM, without touching the cache."""

    def make(count: int = 1, **fields) -> list[Hero]:
        defaults = {"hero": True, "power": "flight", "xp": 10, "color": "red"}
        heroes = [
            Hero(
                name=fields.get("name", f"Hero {i}"),
                **{**defaults, **{k: v for k, v in fields.items() if k != "name"}},
            )
            for i in range(count)
        ]
        Hero.objects.bulk_create(heroes)
        return heroes

    return make


@pytest.fixture
def record():
    def make(**fields) -> HeroRecord:
        values = {"name": "fireman", "hero": True, "power": "fire", "xp": 10, "color": "red"}
        values.update(fields)
        return HeroRecord(**values)

    return make


@pytest.fixture
def subprocess_env(transactional_db):
    """
    The environment for a child process that must see this test's committed data: the
    test database (pytest-django renamed it) and the suite's Redis database.
    """
    settings_dict = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    if connection.vendor == "mysql":
        env["DATABASE_URL"] = (
            f"mysql://{settings_dict['USER']}:{settings_dict['PASSWORD']}@{settings_dict['HOST']}:"
            f"{settings_dict['PORT'] or 3306}/{settings_dict['NAME']}"
        )
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def aws(monkeypatch) -> dict:
    """
    A local AWS (moto's server mode on 127.0.0.1), reached over HTTP by the real boto3:
    the environment points boto3 at it, as AWS_ENDPOINT_URL would on any machine.
    Returns those variables, for child processes.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    # moto keeps its state in this process, across servers: the next test starts empty.
    urllib.request.urlopen(urllib.request.Request(f"{env['AWS_ENDPOINT_URL']}/moto-api/reset", method="POST"))
    server.stop()


def list_function_url_configs(app):
    """
    WSGI middleware adding ListFunctionUrlConfigs, which moto lacks and `zappa update` calls:
    it answers from moto's own GetFunctionUrlConfig for the same function (one URL or none).
    """
    import json
    import re

    route = re.compile(r"^/(?P<version>[^/]+)/functions/(?P<name>[^/]+)/urls/?$")

    def middleware(environ, start_response):
        match = route.match(environ.get("PATH_INFO", ""))
        if not match or environ["REQUEST_METHOD"] != "GET":
            return app(environ, start_response)
        path = f"/{match['version']}/functions/{match['name']}/url"
        status = []
        body = b"".join(
            app(
                {**environ, "PATH_INFO": path, "RAW_URI": path, "REQUEST_URI": path, "QUERY_STRING": ""},
                lambda code, headers, exc_info=None: status.append(code),
            )
        )
        payload = json.dumps(
            {"FunctionUrlConfigs": [json.loads(body)] if status[0].startswith("200") else []}
        ).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        )
        return [payload]

    return middleware


@pytest.fixture(scope="module")
def aws_for_zappa() -> dict:
    """
    Like ``aws``, for a whole module and for Zappa: moto's server with ListFunctionUrlConfigs
    added. Returns the variables that point boto3 (and so Zappa) at it, for child processes.
    """
    import threading

    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = list_function_url_configs(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    server.shutdown()
    thread.join()


def create_outputs_stack(prefix: str = "heroapp-test", **parameters: str) -> str:
    """
    Create a CloudFormation stack with infra/heroapp.yaml's outputs (tests/infra/outputs-only.yaml)
    on the local AWS the environment points at; returns its name. moto's servers share one
    state per process, hence a new name each time.
    """
    import uuid

    import boto3

    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client = boto3.client("cloudformation")
    client.create_stack(
        StackName=name,
        TemplateBody=(ROOT / "tests" / "infra" / "outputs-only.yaml").read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    client.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    return name


@pytest.fixture
def outputs_stack():
    return create_outputs_stack


@pytest.fixture
def private_mariadb_factory(tmp_path):
    servers = []

    def make(*options: str) -> PrivateMariaDB:
        server = PrivateMariaDB(tmp_path / f"mariadb{len(servers)}", *options)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def run_python():
    """Run ``python ARGS`` in the project folder as a separate process."""

    def run(args: list[str], env: dict, input: str | None = None, timeout: float = 60):
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def log_output():
    """
    What the configured log handlers write, as text: their stream is swapped for a buffer
    for the test (the handlers, formatter and filters stay those of settings.LOGGING).
    """
    buffer = io.StringIO()
    handlers = {
        handler
        for name in ("django.request", "heroes", "cache_worker")
        for handler in logging.getLogger(name).handlers
        if type(handler) is logging.StreamHandler
    }
    previous = {handler: handler.setStream(buffer) for handler in handlers}
    yield buffer
    for handler, stream in previous.items():
        handler.setStream(stream)


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


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A test CA, and a server certificate it signed for localhost and 127.0.0.1."""
    folder = tmp_path_factory.mktemp("tls")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=heroapp test CA",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    )
    (folder / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    )
    os.chmod(folder / "server.key", 0o644)
    return folder


@pytest.fixture
def tls_mariadb(certificates, private_mariadb_factory):
    """A private MariaDB that requires TLS, with the test CA's certificate; returns its port."""
    server = private_mariadb_factory(
        f"--ssl-ca={certificates / 'ca.pem'}",
        f"--ssl-cert={certificates / 'server.pem'}",
        f"--ssl-key={certificates / 'server.key'}",
        "--require-secure-transport=ON",
    )
    return server.port
