"""
Settings for heroapp.

Every value comes from an environment variable that overrides a working default, so
``python manage.py runserver`` works on a fresh clone (SQLite and Django's in-process
cache) and production only has to set the variables it needs:

    DATABASE_URL   mysql://user:pass@host:3306/name   (unset: SQLite in the project folder)
    REDIS_URL      redis://host:6379/0 or rediss://...  (unset: in-process cache)
    SECRET_KEY, DEBUG, ALLOWED_HOSTS, HERO_CACHE_TTL and the others documented below.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from heroapp.env import env_bool, env_float, env_int, env_list
from heroapp.secrets import database_secret, read_secret

BASE_DIR = Path(__file__).resolve().parent.parent


# A container started by AWS Lambda has this variable; there the safe defaults apply
# even if an operator forgets to set DEBUG.
ON_LAMBDA = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))

DEVELOPMENT_SECRET_KEY = "django-insecure-heroapp-development-key-do-not-use-in-production"
# On AWS the key lives in Secrets Manager (a plain-text secret), named by its ARN.
if os.environ.get("SECRET_KEY_SECRET_ARN"):
    SECRET_KEY = read_secret(os.environ["SECRET_KEY_SECRET_ARN"])
else:
    SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
DEBUG = env_bool("DEBUG", default=not ON_LAMBDA)

# The development key is public (it is in this file), so anything that is not a
# development server must refuse to start with it rather than sign sessions with it.
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off: the development key is public.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Outside development the site is HTTPS only. API Gateway and function URLs end TLS and
# say so in X-Forwarded-Proto, which only they can set in front of Lambda.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0, unit="seconds")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# The directive alone changes nothing until the domain is submitted to the preload list.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)

INSTALLED_APPS = [
    # First, so that its admin/base_site.html (the admin's stylesheet additions) wins.
    "heroes",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django.contrib.humanize",
    "csp",
]

MIDDLEWARE = [
    # First, so every response (a 500 too) names the id its log lines carry.
    "heroapp.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "heroapp.csp.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Static files from the app itself, so the same build works behind API Gateway.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp). The site's pages have no scripts, no inline styles
# and no third-party anything, so the policy allows only this origin's CSS and images and
# no scripts at all; the admin, which has script files of its own, gets script-src 'self'
# on top (heroapp/csp.py). A page that breaks the policy shows it in the browser console,
# which the end-to-end tests check.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'none'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    },
}
# Permissions-Policy (django-permissions-policy): none of the powerful browser features,
# for this origin or anything it might embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

ROOT_URLCONF = "heroapp.urls"
WSGI_APPLICATION = "heroapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database. Connections are kept for CONN_MAX_AGE seconds and checked before reuse, so
# a warm Lambda container or a long-running server does not reconnect per request but
# also never hands out a connection the server has dropped. DATABASE_CONN_MAX_AGE=0
# connects per request (per invocation on Lambda): see docs/scaling.md.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Optional: an Aurora reader endpoint (or any replica). Hero reads go there, everything
# else to DATABASE_URL (heroapp/routers.py).
DATABASE_READER_URL = os.environ.get("DATABASE_READER_URL", "")
CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0, unit="seconds")
# Django runs SET SESSION TRANSACTION ISOLATION LEVEL on every new MySQL connection (RDS
# Proxy tracks it without pinning). An empty value sends nothing and leaves the level to
# the server: set transaction_isolation in the DB parameter group instead, and save a
# round trip per connection.
DATABASE_ISOLATION_LEVEL = os.environ.get("DATABASE_ISOLATION_LEVEL", "read committed")


# libmariadb loads its authentication plugins (caching_sha2_password, mysql_clear_password
# for IAM tokens, client_ed25519, ...) at run time from the build host's folder unless
# MARIADB_PLUGIN_DIR names another; the Lambda package carries them here
# (scripts/lambda_package.py). A development checkout has no such folder and uses the system's.
PACKAGED_MARIADB_PLUGINS = BASE_DIR / "lib" / "mariadb" / "plugin"
if PACKAGED_MARIADB_PLUGINS.is_dir():
    os.environ.setdefault("MARIADB_PLUGIN_DIR", str(PACKAGED_MARIADB_PLUGINS))


def database_from_url(url: str, *, endpoint_from_secret: bool) -> dict:
    database = dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    # The password (and, for the writer, the endpoint) from an RDS secret in Secrets
    # Manager, so DATABASE_URL in the deployment settings carries no password. The secret
    # names the writer's host, so a reader keeps the host its URL gives.
    if os.environ.get("DATABASE_SECRET_ARN"):
        secret = database_secret(os.environ["DATABASE_SECRET_ARN"])
        database.update(
            {"USER": secret.get("username", database.get("USER")), "PASSWORD": secret["password"]}
        )
        if endpoint_from_secret:
            database.update(
                {
                    "HOST": secret.get("host", database.get("HOST")),
                    "PORT": secret.get("port", database.get("PORT")),
                }
            )
        # The backend takes the password from the secret at each connect, and re-reads the
        # secret once when the server refuses it (a rotation): heroapp/mysql/base.py.
        database["SECRET_ARN"] = os.environ["DATABASE_SECRET_ARN"]
    if database["ENGINE"] == "django.db.backends.mysql" and env_bool("DATABASE_IAM_AUTH", default=False):
        # The password is an RDS IAM token, sent in clear text (mysql_clear_password), so
        # only over TLS with the server's certificate verified against a CA: ?ssl-ca=.
        if not (database.get("OPTIONS", {}).get("ssl") or {}).get("ca"):
            raise ImproperlyConfigured(
                "DATABASE_IAM_AUTH sends a token in clear text: it needs TLS, "
                "?ssl-ca=/path/to/rds-ca.pem on the database URL."
            )
        if os.environ.get("DATABASE_SECRET_ARN"):
            raise ImproperlyConfigured(
                "DATABASE_IAM_AUTH and DATABASE_SECRET_ARN are two ways to log in: set one."
            )
        database["IAM_AUTH"] = True
        database["IAM_REGION"] = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if database.get("SECRET_ARN") or database.get("IAM_AUTH"):
        database["ENGINE"] = "heroapp.mysql"
    if database["ENGINE"] in ("django.db.backends.mysql", "heroapp.mysql"):
        database.setdefault("OPTIONS", {})
        database["OPTIONS"].setdefault("charset", "utf8mb4")
        # A short connect timeout turns an unreachable database into a quick 503
        # instead of a Lambda invocation that hangs until its own timeout.
        database["OPTIONS"].setdefault(
            "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1, unit="seconds")
        )
        database["OPTIONS"].setdefault("isolation_level", DATABASE_ISOLATION_LEVEL or None)
        database["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return database


if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL, endpoint_from_secret=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH") or BASE_DIR / "db.sqlite3",
        }
    }
if DATABASE_READER_URL:
    if not DATABASE_URL:
        raise ImproperlyConfigured("DATABASE_READER_URL needs DATABASE_URL (the writer) as well.")
    DATABASES["reader"] = database_from_url(DATABASE_READER_URL, endpoint_from_secret=False)
    # Tests run against one test database, which the reader alias mirrors.
    DATABASES["reader"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["heroapp.routers.ReaderRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache. With REDIS_URL the default cache is django-redis and the hero cache layer
# (heroes/cache/) talks to the same connection pool; without it both use Django's
# in-process cache, which is enough for one development server.
# A Redis Cluster (ElastiCache with cluster mode enabled) is named by ?cluster=true on
# REDIS_URL, or REDIS_CLUSTER=1: the URL is then any node's (the configuration endpoint).
REDIS_URL = os.environ.get("REDIS_URL", "")
_redis_url = urlsplit(REDIS_URL)
_redis_query = parse_qsl(_redis_url.query)
REDIS_CLUSTER = env_bool("REDIS_CLUSTER", default=False) or any(
    name == "cluster" and value.lower() in {"1", "true", "yes"} for name, value in _redis_query
)
if REDIS_CLUSTER and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_CLUSTER needs REDIS_URL (any node of the cluster).")
if any(name == "cluster" for name, _ in _redis_query):
    # The option is this project's, not redis-py's, which would pass it on to every connection.
    REDIS_URL = _redis_url._replace(
        query=urlencode([(n, v) for n, v in _redis_query if n != "cluster"])
    ).geturl()


def redis_cache(url: str, *, cluster: bool) -> dict:
    """The django-redis cache for ``url``: one server, or a cluster reached through any node."""
    options = {
        # Redis sits next to the application (same VPC); a call that takes longer than
        # this is a sick server, and the cache layer would rather fall back to the
        # database than make the caller wait.
        "SOCKET_CONNECT_TIMEOUT": env_float("REDIS_CONNECT_TIMEOUT", 0.25, minimum=0.001, unit="seconds"),
        "SOCKET_TIMEOUT": env_float("REDIS_SOCKET_TIMEOUT", 0.5, minimum=0.001, unit="seconds"),
    }
    if cluster:
        # The cluster client takes its retry policy itself (heroapp/redis_cluster.py).
        options["CONNECTION_FACTORY"] = "heroapp.redis_cluster.ClusterConnectionFactory"
    else:
        from heroapp.redis_cluster import RETRY

        options["CONNECTION_POOL_KWARGS"] = {"retry": RETRY}
    return {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url, "OPTIONS": options}


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL, cluster=REDIS_CLUSTER)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "heroapp",
        }
    }

# The hero cache layer (heroes/cache/; docs/design.md). Every value is checked here, so a
# bad one stops start-up naming the variable. HERO_CACHE_ENABLED=false serves every read
# from the database (an operator's switch); writes still invalidate their entries, so
# switching it back on never serves a value replaced meanwhile.
HERO_CACHE_ENABLED = env_bool("HERO_CACHE_ENABLED", default=True)
HERO_CACHE_KEY_PREFIX = os.environ.get("HERO_CACHE_KEY_PREFIX", "heroapp")
if not HERO_CACHE_KEY_PREFIX or any(c in HERO_CACHE_KEY_PREFIX for c in " {}*?[]"):
    raise ImproperlyConfigured(
        "HERO_CACHE_KEY_PREFIX must be non-empty, without spaces, braces or glob characters"
    )
HERO_CACHE_TTL = env_int("HERO_CACHE_TTL", 3600, minimum=1, unit="seconds")
HERO_CACHE_NOT_FOUND_TTL = env_int("HERO_CACHE_NOT_FOUND_TTL", 30, minimum=1, unit="seconds")
HERO_CACHE_TOMBSTONE_TTL = env_int("HERO_CACHE_TOMBSTONE_TTL", 60, minimum=1, unit="seconds")
HERO_CACHE_RETRY_AFTER = env_float("HERO_CACHE_RETRY_AFTER", 2.0, minimum=0, unit="seconds")
# Stampede protection: how long a reader's "loading" lock lives, and how long other
# readers of the same id wait for it before loading the row themselves.
HERO_CACHE_LOCK_TTL_MS = env_int("HERO_CACHE_LOCK_TTL_MS", 250, minimum=1, unit="milliseconds")
HERO_CACHE_LOCK_WAIT_MS = env_int("HERO_CACHE_LOCK_WAIT_MS", 200, minimum=0, unit="milliseconds")
# Redis replicates asynchronously: a failover can lose writes its primary acknowledged. With
# HERO_CACHE_WAIT_REPLICAS=1 every cache write (not read write-backs) is followed by WAIT;
# writes no replica confirmed within the timeout are owed like failed ones.
HERO_CACHE_WAIT_REPLICAS = env_int("HERO_CACHE_WAIT_REPLICAS", 0, minimum=0, unit="replicas")
HERO_CACHE_WAIT_TIMEOUT_MS = env_int("HERO_CACHE_WAIT_TIMEOUT_MS", 20, minimum=1, unit="milliseconds")
# On a Redis Cluster, hero keys share this many hash slots (docs/design.md, "Keys"): a read of
# many ids sends one MGET per slot it touches, and fewer slots spread memory less evenly.
HERO_CACHE_KEY_BUCKETS = env_int("HERO_CACHE_KEY_BUCKETS", 16, minimum=1, maximum=16384, unit="buckets")

# Lambda events that run code beyond the allow-list (cache_worker/invocations.py): off
# unless an operator sets them on the function for a session. Read once per container,
# so no event (Zappa copies stageVariables into os.environ) can turn them on.
HEROAPP_ALLOW_RAW_COMMAND = env_bool("HEROAPP_ALLOW_RAW_COMMAND", default=False)
HEROAPP_ALLOW_ANY_COMMAND = env_bool("HEROAPP_ALLOW_ANY_COMMAND", default=False)

# Imports (heroes/importer.py, heroes/bulk_import.py, cache_worker/s3_import.py): rows per
# bulk-load chunk, bytes of an S3 object per part, and the milliseconds an S3 import leaves
# itself before Lambda's timeout to hand the rest to a new invocation.
HERO_IMPORT_CHUNK_ROWS = env_int("HEROAPP_IMPORT_CHUNK_ROWS", 20_000, minimum=1, unit="rows")
HERO_S3_IMPORT_PART_BYTES = env_int("HEROAPP_S3_IMPORT_PART_BYTES", 4 << 20, minimum=1024, unit="bytes")
HERO_S3_IMPORT_RESERVE_MS = env_int("HEROAPP_S3_IMPORT_RESERVE_MS", 5000, minimum=0, unit="milliseconds")

# Limits on what one request may ask for; the Lambda worker and the importer enforce
# the same ones (heroes/schema.py).
HERO_MAX_READ_IDS = env_int("HERO_MAX_READ_IDS", 1000, minimum=1, unit="ids")
HERO_MAX_WRITE_RECORDS = env_int("HERO_MAX_WRITE_RECORDS", 1000, minimum=1, unit="records")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = os.environ.get("STATIC_URL", "static/")
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Without collected files (a development checkout) WhiteNoise serves from the apps.
WHITENOISE_USE_FINDERS = True

# Login lockout (django-axes): after AXES_FAILURE_LIMIT failed logins for one username, or
# from one address, further attempts for it are refused (429 and the lockout page, even with
# the right password) until AXES_COOLOFF_MINUTES pass; a successful login resets the count.
# Both the site's login and the admin's go through it. Attempts are rows in the database
# (visible in the admin), so every container enforces the same count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1, unit="failed logins")
AXES_COOLOFF_TIME = timedelta(minutes=env_float("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one alone locks
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The address is the one API Gateway saw (Zappa puts it in REMOTE_ADDR); X-Forwarded-For is
# whatever the client sent, and trusting it would let an attacker pick a new address per try.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# heroes/logins.py writes one JSON line per failure and lockout; axes's own prose lines
# would repeat them.
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "heroes:list"
LOGOUT_REDIRECT_URL = "heroes:list"

# One JSON object per line on stdout: CloudWatch Logs stores each line as an event
# and Logs Insights can query the fields without parsing rules.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_STREAM = os.environ.get("LOG_STREAM", "stdout")  # python -m cache_worker logs to stderr
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "heroapp.logging.JSONFormatter"}},
    "filters": {"request": {"()": "heroapp.logging.RequestFilter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": f"ext://sys.{LOG_STREAM}",
            "formatter": "json",
            "filters": ["request"],
        },
    },
    "loggers": {
        "heroes": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "cache_worker": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        # Django logs an unhandled error (with its traceback) and every 5xx here, but
        # its own configuration prints them only with DEBUG on: without this, a web 500
        # on Lambda reaches CloudWatch nowhere. ERROR leaves out the 4xx lines.
        "django.request": {"handlers": ["stdout"], "level": "ERROR", "propagate": False},
        # DisallowedHost, CSRF failures and other suspicious requests.
        "django.security": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
        "heroapp": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "axes": {"handlers": ["stdout"], "level": "ERROR", "propagate": False},
    },
}
