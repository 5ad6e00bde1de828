"""
Bad bytes in Redis, put there by something other than the cache (a person with redis-cli,
another program, a damaged value): each kind is a miss for that id alone, repaired by the
read's write-back or the next write, logged once with its key; never served, never a 500,
never a back-off for the whole process, never a debt that cannot be settled.
"""

import json
import logging

import pytest

from cache_worker.handler import lambda_handler
from heroes.cache.values import encode
from heroes.models import Hero
from heroes.schema import HeroRecord
from heroes.selectors import get_heroes
from heroes.services import delete_hero, update_hero

pytestmark = [pytest.mark.django_db(transaction=True)]


def poison(redis_client, key: str, kind: str, other: Hero) -> None:
    redis_client.delete(key)
    if kind == "a list":
        redis_client.rpush(key, "x")
    elif kind == "a hash":
        redis_client.hset(key, "field", "value")
    elif kind == "not JSON":
        redis_client.set(key, b"1:garbage")
    elif kind == "no version":
        redis_client.set(key, b"abc:")
    elif kind == "invalid UTF-8":
        redis_client.set(key, b"1:\xff")
    elif kind == "truncated JSON":
        redis_client.set(key, encode(other.id, 1, other.to_json())[:-7])
    elif kind == "a huge version":
        redis_client.set(key, b"99999999999999999999999:{}")
    elif kind == "another hero's value":
        redis_client.set(key, encode(other.id, other.version, other.to_json()))
    else:
        raise AssertionError(kind)


KINDS = [
    "a list",
    "a hash",
    "not JSON",
    "no version",
    "invalid UTF-8",
    "truncated JSON",
    "a huge version",
    "another hero's value",
]


@pytest.fixture
def hot(make_heroes, redis_client, hero_cache):
    """100 heroes, all cached; ``poisoned`` is the one whose key is then poisoned."""
    heroes = make_heroes(100)
    get_heroes(ids=[h.id for h in heroes])

    class Hot:
        ids = [h.id for h in heroes]
        poisoned = heroes[10]
        other = heroes[20]

        @staticmethod
        def expected(ids):
            rows = {h.id: h.to_json() for h in Hero.objects.filter(id__in=ids)}
            return [json.loads(rows[i]) for i in ids if i in rows]

    return Hot


@pytest.mark.parametrize("kind", KINDS)
def test_a_poisoned_hot_key_is_a_miss_for_that_id_alone_and_is_repaired_by_the_read(
    kind, hot, redis_client, hero_cache, caplog
):
    key = hero_cache.key(hot.poisoned.id)
    poison(redis_client, key, kind, hot.other)

    with caplog.at_level(logging.WARNING, logger="heroes.cache"):
        one = get_heroes(ids=[hot.poisoned.id])
        many = get_heroes(ids=hot.ids)

    assert one.cache == "redis" and one.heroes == hot.expected([hot.poisoned.id])
    assert json.loads(one.json_array()) == one.heroes
    assert (one.hits, one.misses) == (0, 1)
    # The read's write-back replaced the bad bytes: the 100-id read is all hits.
    assert many.cache == "redis" and (many.hits, many.misses) == (100, 0)
    assert json.loads(many.json_array()) == hot.expected(hot.ids)
    assert redis_client.get(key) == encode(hot.poisoned.id, 1, hot.poisoned.to_json())
    logged = [r for r in caplog.records if r.name == "heroes.cache"]
    assert len(logged) == 1 and logged[0].key == key
    assert hero_cache.available and hero_cache.stats["failures"] == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_poisoned_key_in_a_100_id_read_leaves_the_other_99_hits(kind, hot, redis_client, hero_cache):
    poison(redis_client, hero_cache.key(hot.poisoned.id), kind, hot.other)

    result = get_heroes(ids=hot.ids)

    assert result.cache == "redis" and (result.hits, result.misses) == (99, 1) and result.db_queries == 1
    assert json.loads(result.json_array()) == hot.expected(hot.ids)
    assert get_heroes(ids=hot.ids).hits == 100


@pytest.mark.parametrize("kind", KINDS)
def test_a_write_or_delete_over_a_poisoned_key_succeeds_and_heals_it(kind, hot, redis_client, hero_cache):
    """The reproduction: RPUSH onto a hero's key, then update it; the cache must stay on."""
    key = hero_cache.key(hot.poisoned.id)
    poison(redis_client, key, kind, hot.other)

    updated = update_hero(
        hero_id=hot.poisoned.id, record=HeroRecord(name="Renamed", hero=False, power="p", xp=3, color="blue")
    )

    assert redis_client.get(key) == encode(updated.id, updated.version, updated.to_json())
    after = get_heroes(ids=hot.ids)
    assert after.cache == "redis" and after.hits == 100
    assert hero_cache.stats["failures"] == 0 and hero_cache.debts.pending() == {}

    poison(redis_client, key, kind, hot.other)
    assert delete_hero(hero_id=hot.poisoned.id)
    gone = get_heroes(ids=[hot.poisoned.id])
    assert gone.cache == "redis" and gone.heroes == [] and gone.not_found == [hot.poisoned.id]


@pytest.mark.parametrize("kind", KINDS)
def test_the_lambda_worker_answers_valid_json_over_a_poisoned_key(kind, hot, redis_client, hero_cache):
    poison(redis_client, hero_cache.key(hot.poisoned.id), kind, hot.other)

    response = lambda_handler({"REQUEST": "read", "SQLS": [hot.ids[0], hot.poisoned.id, hot.ids[-1]]})

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == hot.expected([hot.ids[0], hot.poisoned.id, hot.ids[-1]])


@pytest.mark.parametrize("kind", ["not JSON", "no version", "invalid UTF-8", "a list"])
def test_the_detail_page_of_a_poisoned_hero_is_served(kind, hot, redis_client, hero_cache, client):
    poison(redis_client, hero_cache.key(hot.poisoned.id), kind, hot.other)

    response = client.get(f"/heroes/{hot.poisoned.id}/")

    assert response.status_code == 200 and hot.poisoned.name in response.content.decode()


READ = """
import json, sys
from cache_worker.handler import lambda_handler
response = lambda_handler({"REQUEST": "read", "SQLS": [int(i) for i in sys.argv[1:]]})
print("RESULT " + json.dumps({"status": response["statusCode"], "body": json.loads(response["body"])}))
"""


@pytest.mark.parametrize("kind", ["a list", "not JSON", "invalid UTF-8"])
def test_a_fresh_process_reads_correctly_over_a_poisoned_key_and_leaves_it_healed(
    kind, hot, redis_client, hero_cache, subprocess_env, run_python
):
    """Also after a write failed on it (the old WRONGTYPE debt): nothing is owed for ever."""
    key = hero_cache.key(hot.poisoned.id)
    poison(redis_client, key, kind, hot.other)
    ids = [hot.ids[0], hot.poisoned.id]

    done = run_python(["-c", READ, *map(str, ids)], subprocess_env)

    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert answer["status"] == 200 and answer["body"] == hot.expected(ids)
    assert get_heroes(ids=ids).hits == 2


# What the scripts call a value of the cache's, the reads call one too ------------------

FOREIGN = [
    b"99:junk",  # a version, but no checksum: refused writes below 99 until this fix
    b"99:0000000012",  # eight hex digits and a payload, with the wrong checksum
    b"1e18:",
    b"0x7f:",
    b" 99:",
    b"99.5:",
    b"+99:",
    b"4611686018427387905:",  # 2^62 + 1: above the tombstone (Lua's doubles round it down)
    b"9" * 4301 + b":",  # more digits than Python's int() parses by default
    b":",
    b"",
]


@pytest.mark.parametrize("value", FOREIGN, ids=lambda v: repr(v[:24]))
def test_a_foreign_value_is_a_miss_to_reads_and_is_replaced_by_any_write(
    value, make_heroes, hero_cache, redis_client
):
    """
    The race it closes: a foreign value claiming version 99 refused a writer's version 7,
    and a read then put back version 6 from before the write. Now the write replaces it.
    """
    (hero,) = make_heroes(1)
    key = hero_cache.key(hero.id)
    redis_client.set(key, value)

    assert hero_cache.lookup([hero.id]) == {hero.id: None}
    assert get_heroes(ids=[hero.id]).heroes == [json.loads(hero.to_json())]  # never a 500
    redis_client.set(key, value)
    assert hero_cache.store_heroes([(hero.id, 2, hero.to_json())])
    assert redis_client.get(key) == encode(hero.id, 2, hero.to_json())


@pytest.mark.parametrize("hero_id", [1, 12345, 2**32 - 1, 2**32 + 7, 2**62])
def test_the_scripts_checksum_is_the_one_reads_check(hero_id, hero_cache, redis_client):
    """put.lua computes zlib's CRC-32 seeded with the id: a value the cache wrote is its own."""
    payload = json.dumps({"id": hero_id, "name": "Ünïcode ✓", "hero": "yes"}, ensure_ascii=False)
    value = encode(hero_id, 5, payload.encode())
    redis_client.set(hero_cache.key(hero_id), value)

    # An older version does not replace it (it is the cache's own, at 5)...
    hero_cache.store_heroes([(hero_id, 4, b'{"id":0}')])
    assert redis_client.get(hero_cache.key(hero_id)) == value
    # ...the same value with one byte changed is foreign, and is replaced.
    redis_client.set(hero_cache.key(hero_id), value[:-2] + b"x}")
    hero_cache.store_heroes([(hero_id, 4, b'{"id":0}')])
    assert redis_client.get(hero_cache.key(hero_id)) == encode(hero_id, 4, b'{"id":0}')
