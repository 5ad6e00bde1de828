"""Every setting comes from the environment over a working default (heroapp/settings.py)."""

import json

import pytest

from tests.conftest import ROOT

PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST"), "port": db.get("PORT"),
    "charset": db.get("OPTIONS", {}).get("charset"), "conn_max_age": db.get("CONN_MAX_AGE"),
    "health_checks": db.get("CONN_HEALTH_CHECKS"), "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"), "debug": settings.DEBUG,
    "ttl": settings.HERO_CACHE_TTL, "hosts": settings.ALLOWED_HOSTS,
}))
"""


@pytest.fixture
def settings_for(run_python):
    """Settings as a fresh process with only ``env`` set loads them (printed by ``script``)."""

    def load(script: str = PRINT_SETTINGS, **env):
        base = {
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "heroapp.settings",
            "PYTHONPATH": str(ROOT),
        }
        done = run_python(["-c", script], {**base, **env})
        return done if done.returncode else json.loads(done.stdout)

    return load


def test_with_no_environment_it_runs_on_sqlite_in_the_project_and_the_local_cache(settings_for):
    loaded = settings_for()
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(ROOT / "db.sqlite3")
    assert loaded["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert loaded["debug"] is True and loaded["ttl"] == 3600


def test_database_url_selects_mysql_with_utf8mb4_and_reused_checked_connections(settings_for):
    loaded = settings_for(DATABASE_URL="mysql://app:s3cret@db.example.com:3307/heroes")
    assert loaded["engine"] == "django.db.backends.mysql"
    assert (loaded["host"], loaded["port"], loaded["name"]) == ("db.example.com", 3307, "heroes")
    assert loaded["charset"] == "utf8mb4"
    assert loaded["conn_max_age"] == 600 and loaded["health_checks"] is True


def test_redis_url_selects_django_redis_including_tls(settings_for):
    loaded = settings_for(REDIS_URL="rediss://cache.example.com:6379/0", HERO_CACHE_TTL="120")
    assert loaded["cache"] == "django_redis.cache.RedisCache"
    assert loaded["cache_location"] == "rediss://cache.example.com:6379/0"
    assert loaded["ttl"] == 120


def test_production_refuses_the_public_development_secret_key(settings_for):
    refused = settings_for(DEBUG="false")
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr

    on_lambda = settings_for(AWS_LAMBDA_FUNCTION_NAME="heroapp-production")
    assert on_lambda.returncode != 0 and "SECRET_KEY must be set" in on_lambda.stderr

    accepted = settings_for(DEBUG="false", SECRET_KEY="a-real-secret", ALLOWED_HOSTS="heroes.example.com")
    assert accepted["debug"] is False and accepted["hosts"] == ["heroes.example.com"]


def test_a_malformed_boolean_is_an_error_not_a_guess(settings_for):
    done = settings_for(DEBUG="perhaps")
    assert done.returncode != 0 and "DEBUG must be true or false" in done.stderr


def test_production_settings_pass_djangos_deployment_checks(run_python):
    """manage.py check --deploy reports nothing: HTTPS only, HSTS, secure cookies, no DEBUG."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdef",
        "ALLOWED_HOSTS": "heroes.example.com",
    }
    done = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


READER_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
reader = settings.DATABASES.get("reader", {})
print(json.dumps({
    "aliases": sorted(settings.DATABASES), "routers": settings.DATABASE_ROUTERS,
    "reader_host": reader.get("HOST"), "reader_test": reader.get("TEST"),
    "isolation": settings.DATABASES["default"]["OPTIONS"].get("isolation_level"),
}))
"""


@pytest.fixture
def reader_settings_for(settings_for):
    return lambda **env: settings_for(script=READER_SETTINGS, **env)


def test_a_reader_url_adds_the_reader_database_and_its_router(reader_settings_for):
    loaded = reader_settings_for(
        DATABASE_URL="mysql://app:pw@writer.example:3306/heroes",
        DATABASE_READER_URL="mysql://app:pw@reader.example:3306/heroes",
    )
    assert loaded["aliases"] == ["default", "reader"]
    assert loaded["routers"] == ["heroapp.routers.ReaderRouter"]
    assert loaded["reader_host"] == "reader.example"
    # Tests run on one database, which the reader mirrors.
    assert loaded["reader_test"]["MIRROR"] == "default"


def test_without_a_reader_url_there_is_one_database_and_no_router(reader_settings_for):
    loaded = reader_settings_for(DATABASE_URL="mysql://app:pw@writer.example:3306/heroes")
    assert (loaded["aliases"], loaded["routers"]) == (["default"], [])
    assert loaded["isolation"] == "read committed"


def test_a_reader_url_without_a_writer_url_is_refused(reader_settings_for):
    failed = reader_settings_for(DATABASE_READER_URL="mysql://app:pw@reader.example:3306/heroes")
    assert failed.returncode != 0
    assert "DATABASE_READER_URL needs DATABASE_URL" in failed.stderr


def test_an_empty_isolation_level_leaves_it_to_the_server(reader_settings_for):
    """For RDS Proxy: Django then sends no SET SESSION TRANSACTION on connect."""
    loaded = reader_settings_for(
        DATABASE_URL="mysql://app:pw@writer.example:3306/heroes", DATABASE_ISOLATION_LEVEL=""
    )
    assert loaded["isolation"] is None


CACHE_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
cache = settings.CACHES["default"]
print(json.dumps({"location": cache.get("LOCATION"),
                  "factory": cache.get("OPTIONS", {}).get("CONNECTION_FACTORY"),
                  "cluster": settings.REDIS_CLUSTER}))
"""


@pytest.mark.parametrize(
    "env, cluster, location",
    [
        ({"REDIS_URL": "rediss://node.example:6379/0?cluster=true"}, True, "rediss://node.example:6379/0"),
        (
            {"REDIS_URL": "redis://node.example:6379/0", "REDIS_CLUSTER": "1"},
            True,
            "redis://node.example:6379/0",
        ),
        ({"REDIS_URL": "redis://node.example:6379/0?cluster=false"}, False, "redis://node.example:6379/0"),
        ({"REDIS_URL": "redis://node.example:6379/2"}, False, "redis://node.example:6379/2"),
    ],
)
def test_a_cluster_option_selects_the_cluster_client_and_leaves_the_url_to_redis(
    settings_for, env, cluster, location
):
    loaded = settings_for(script=CACHE_SETTINGS, **env)
    assert loaded["cluster"] is cluster and loaded["location"] == location
    assert loaded["factory"] == ("heroapp.redis_cluster.ClusterConnectionFactory" if cluster else None)


@pytest.mark.parametrize(
    "name, value, form",
    [
        ("HERO_CACHE_TTL", "1h", "a whole number of seconds, at least 1"),
        ("HERO_CACHE_TTL", "0", "a whole number of seconds, at least 1"),
        ("HERO_CACHE_NOT_FOUND_TTL", "-5", "a whole number of seconds, at least 1"),
        ("HERO_CACHE_RETRY_AFTER", "soon", "a number of seconds, at least 0"),
        ("HERO_CACHE_LOCK_TTL_MS", "0.5", "a whole number of milliseconds, at least 1"),
        ("HERO_CACHE_KEY_BUCKETS", "0", "a whole number of buckets, at least 1 and at most 16384"),
        ("REDIS_SOCKET_TIMEOUT", "0", "a number of seconds, at least 0.001"),
        ("HERO_CACHE_ENABLED", "maybe", "true or false"),
    ],
)
def test_a_bad_cache_setting_stops_start_up_naming_the_variable_and_the_accepted_form(
    settings_for, name, value, form
):
    """Not a bare ValueError, and not a TTL of 0 that Redis would refuse on every write."""
    env = {"REDIS_URL": "redis://127.0.0.1:6379/15"} if name.startswith("REDIS_") else {}
    failed = settings_for(**env, **{name: value})
    assert failed.returncode != 0
    last_line = failed.stderr.strip().splitlines()[-1]
    assert last_line == f"django.core.exceptions.ImproperlyConfigured: {name} must be {form}, not {value!r}"
