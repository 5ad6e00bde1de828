"""
Settings for one variant of the peers benchmark (bench/sections/peers.py): heroapp's own,
plus django-cacheops or django-cachalot configured as their documentation recommends.
BENCH_PEER names the variant; the peers are installed only in .venv-bench.
"""

import os

from heroapp.settings import *  # noqa: F403
from heroapp.settings import INSTALLED_APPS

PEER = os.environ.get("BENCH_PEER", "")

if PEER == "cacheops":
    # cacheops' README: list the app, point it at Redis, and name the models and the
    # operations to cache ("all": get, fetch, count, aggregate, exists) with a timeout.
    INSTALLED_APPS = [*INSTALLED_APPS, "cacheops"]
    CACHEOPS_REDIS = os.environ["REDIS_URL"]
    CACHEOPS = {"heroes.hero": {"ops": "all", "timeout": 60 * 60}}
elif PEER == "cachalot":
    # cachalot's quick start: list the app; it caches every query in the default cache
    # (django-redis here) and invalidates per table on any write.
    INSTALLED_APPS = [*INSTALLED_APPS, "cachalot"]
    CACHALOT_TIMEOUT = 60 * 60
