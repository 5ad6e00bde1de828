"""
SnapStart (cache_worker/snapstart.py): nothing environment-specific survives a snapshot,
and what a start must do is done at each restore. The hooks are run in-process, as the
Lambda runtime runs them, through snapshot_restore_py's registry.
"""

import json
import random

import pytest
from django.db import connection

from cache_worker import snapstart
from heroes.models import CacheDebt, Hero
from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)

INIT = """
import json, sys
ZAPPA_CODE = ("zappa.handler", "cache_worker.invocations")
from cache_worker import handler  # Lambda's initialisation: the module import
from heroes.models import CacheDebt
from snapshot_restore_py import get_after_restore, get_before_snapshot
owed_after_init = CacheDebt.objects.count()
for hook, args, kwargs in get_before_snapshot():
    hook(*args, **kwargs)
for hook, args, kwargs in get_after_restore():
    hook(*args, **kwargs)
print("RESULT " + json.dumps({"before": len(get_before_snapshot()), "after": len(get_after_restore()),
                             "owed_after_init": owed_after_init,
                             "zappa_code_loaded": [m in sys.modules for m in ZAPPA_CODE],
                             "owed_after_restore": CacheDebt.objects.count()}))
"""


def database_session() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("init_type, registered", [("snap-start", 1), ("on-demand", 0)])
def test_the_settlement_runs_after_each_restore_not_in_the_snapshot(
    subprocess_env, run_python, make_heroes, init_type, registered
):
    (hero,) = make_heroes(1)
    CacheDebt.objects.create(hero_id=hero.id)
    env = {**subprocess_env, "AWS_LAMBDA_INITIALIZATION_TYPE": init_type}

    done = run_python(["-c", INIT], env)

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert (result["before"], result["after"]) == (registered, registered)
    # A plain start settles at import; a snapshot's initialisation leaves it to the restore.
    assert result["owed_after_init"] == registered
    assert result["owed_after_restore"] == 0
    # Web and Zappa events' code is in the snapshot; a plain start leaves it to their first use.
    assert result["zappa_code_loaded"] == [bool(registered)] * 2


def test_no_connection_is_left_open_in_the_snapshot_and_new_ones_are_made_after_restore(redis_client):
    database_before = database_session()
    redis_before = redis_client.client_id()

    snapstart.before_snapshot()
    assert connection.connection is None
    snapstart.after_restore()

    assert database_session() != database_before
    assert redis_client.client_id() != redis_before


def test_each_restored_environment_draws_its_own_random_numbers():
    random.seed(1234)  # the state every environment restored from one snapshot would share
    shared = random.Random(1234).random()
    snapstart.after_restore()
    assert random.random() != shared


def test_debts_left_by_an_outage_are_settled_after_restore(make_heroes, hero_cache):
    (hero,) = make_heroes(1, power="old")
    hero_cache.store_heroes([(hero.id, hero.version, hero.to_json())])
    Hero.objects.filter(pk=hero.id).update(power="new")  # its invalidation reached Redis...
    hero_cache.store_heroes([(hero.id, 2, b'{"power":"old"}')])  # ...but say a failover lost it
    CacheDebt.objects.create(hero_id=hero.id)

    snapstart.after_restore(on_restore=lambda: None)

    assert get_heroes(ids=[hero.id]).heroes[0]["power"] == "new"
    assert not CacheDebt.objects.exists()


def test_the_restore_marks_the_next_invocation_as_a_cold_start():
    calls = []
    snapstart.after_restore(on_restore=lambda: calls.append("restored"))
    assert calls == ["restored"]
