"""
The reader/writer router (heroapp/routers.py), and the cache's consistency on top of it,
against a real MariaDB primary and a replica replicating from it.

The pair is started by the fixture below (two private servers on free ports, binlog
replication), and the application runs in a child process pointed at both, exactly as a
Lambda container with DATABASE_URL and DATABASE_READER_URL would. The replica is made
to lag with STOP REPLICA SQL_THREAD: it then keeps receiving the primary's changes but
applies none of them.
"""

import json
import os
import subprocess
import sys

import MySQLdb
import pytest

from heroapp.routers import READER, WRITER, ReaderRouter
from heroes.models import ApiToken, CacheDebt, Hero
from scripts.private_mariadb import PrivateMariaDB
from tests.conftest import ROOT

DATABASE = "heroapp_replicated"
APP_USER, APP_PASSWORD = "heroapp", "app-password-for-tests"

# The child: one command per line on stdin, one JSON answer per line on stdout (the
# worker's log lines go to stderr).
DRIVER = r"""
import json, sys
from cache_worker.handler import lambda_handler
from heroes import services
from heroes.cache import get_hero_cache
from heroes.models import Hero
from heroes.schema import HeroRecord

for line in sys.stdin:
    command = json.loads(line)
    op = command["op"]
    if op == "event":
        answer = lambda_handler(command["event"])
    elif op == "update":
        answer = services.update_hero(hero_id=command["id"], record=HeroRecord(**command["record"])).version
    elif op == "queryset_update":
        answer = Hero.objects.filter(id__in=command["ids"]).update(xp=command["xp"])
    elif op == "save_loaded":
        hero = Hero.objects.get(id=command["id"])  # read from the replica
        hero.xp = command["xp"]
        hero.save()
        answer = [hero._state.db, hero.version]
    elif op == "delete":
        answer = services.delete_hero(hero_id=command["id"])
    elif op == "cached":
        cache = get_hero_cache()
        value = cache.store.client.get(cache.key(command["id"]))
        # "{version}:{payload}", without the checksum that ends a payload.
        version, _, body = (value or b"").partition(b":")
        answer = (version + b":" + body[:-4]).decode() if value is not None else None
    elif op == "search":
        # Which database ran the full-text probe, and what the read counted.
        from django.db import connections
        from heroes.selectors import list_heroes
        matched_on = []

        def spy(alias):
            def wrapper(execute, sql, params, many, context):
                if "MATCH" in sql:
                    matched_on.append(alias)
                return execute(sql, params, many, context)
            return wrapper

        with (
            connections["default"].execute_wrapper(spy("default")),
            connections["reader"].execute_wrapper(spy("reader")),
        ):
            found = [hero.name for hero in list_heroes(search=command["text"]).heroes]
        answer = {"found": found, "fulltext_on": matched_on}
    elif op == "replica_read_miss_write_back":
        # What a read-miss that queried the replica just before a write would write back.
        row = Hero.objects.filter(id=command["id"]).values_list("id", "version").get()
        stale = Hero.objects.filter(id=command["id"]).get()
        get_hero_cache().write_back(found=[(row[0], row[1], stale.to_json())], missing=[])
        answer = row[1]
    print(json.dumps(answer), flush=True)
"""


class Server:
    """Administrative access (as root) to one of the pair."""

    def __init__(self, mariadb: PrivateMariaDB):
        self.mariadb = mariadb
        self.port = mariadb.port

    def query(self, sql: str, *args) -> list[tuple]:
        conn = MySQLdb.connect(host="127.0.0.1", port=self.port, user="root", passwd="", autocommit=True)
        try:
            cursor = conn.cursor()
            cursor.execute(sql, args or None)
            return list(cursor.fetchall())
        finally:
            conn.close()

    def statements(self) -> dict[str, int]:
        """
        What the application's user has run on this server so far, from MariaDB's user
        statistics (--userstat): the replica's own replication thread is not counted.
        """
        rows = self.query(
            "SELECT SELECT_COMMANDS, UPDATE_COMMANDS, ROWS_INSERTED, ROWS_UPDATED"
            " FROM information_schema.USER_STATISTICS WHERE USER = %s",
            APP_USER,
        )
        return dict(zip(("selects", "updates", "inserted", "updated"), rows[0] if rows else (0, 0, 0, 0)))

    def since(self, before: dict[str, int]) -> dict[str, int]:
        now = self.statements()
        return {name: now[name] - before[name] for name in now}

    def url(self) -> str:
        return f"mysql://{APP_USER}:{APP_PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"


class Pair:
    def __init__(self, primary: Server, replica: Server):
        self.primary, self.replica = primary, replica

    def caught_up(self) -> None:
        """Wait until the replica has applied everything the primary has logged."""
        position = self.primary.query("SELECT @@gtid_binlog_pos")[0][0]
        waited = self.replica.query("SELECT MASTER_GTID_WAIT(%s, 30)", position)[0][0]
        assert waited == 0, "the replica did not catch up within 30 s"

    def pause(self) -> None:
        self.replica.query("STOP REPLICA SQL_THREAD")

    def resume(self) -> None:
        self.replica.query("START REPLICA SQL_THREAD")
        self.caught_up()

    def rows_on(self, server: Server, hero_id: int) -> list[tuple]:
        return server.query(f"SELECT version, xp FROM {DATABASE}.heroes_hero WHERE id = %s", hero_id)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replication")
    primary = PrivateMariaDB(
        folder / "primary", "--log-bin=primary-bin", "--server-id=1", "--binlog-format=ROW", "--userstat=ON"
    )
    # read_only: an ordinary user (the application's) cannot write here at all.
    replica = PrivateMariaDB(folder / "replica", "--server-id=2", "--read-only=ON", "--userstat=ON")
    try:
        primary.start()
        replica.start()
        writer, reader = Server(primary), Server(replica)
        writer.query("CREATE USER 'replication'@'%' IDENTIFIED BY 'replication'")
        writer.query("GRANT REPLICATION SLAVE ON *.* TO 'replication'@'%'")
        reader.query(
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={writer.port}, "
            "MASTER_USER='replication', MASTER_PASSWORD='replication', MASTER_USE_GTID=slave_pos"
        )
        reader.query("START REPLICA")
        writer.query(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4")
        writer.query(f"CREATE USER '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}'")
        writer.query(f"GRANT ALL ON {DATABASE}.* TO '{APP_USER}'@'%'")
        env = {**child_env(writer, reader), "HERO_CACHE_KEY_PREFIX": "replication-migrate"}
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        the_pair = Pair(writer, reader)
        the_pair.caught_up()
        yield the_pair
    finally:
        replica.stop()
        primary.stop()


def child_env(writer: Server, reader: Server) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "HERO_CACHE_"))}
    env.update(
        DATABASE_URL=writer.url(),
        DATABASE_READER_URL=reader.url(),
        REDIS_URL=os.environ["REDIS_URL"],
        PYTHONPATH=str(ROOT),
        LOG_STREAM="stderr",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="heroapp.settings",
    )
    return env


class App:
    """The application in a child process, pointed at the writer and the reader."""

    def __init__(self, env: dict):
        self.process = subprocess.Popen(
            [sys.executable, "-c", DRIVER],
            cwd=ROOT,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def send(self, op: str, **fields):
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the application process ended (exit code {self.process.poll()})"
        return json.loads(line)

    def event(self, request: str, sqls: list, use_cache: bool = True) -> list[dict]:
        response = self.send("event", event={"REQUEST": request, "SQLS": sqls, "USE_CACHE": str(use_cache)})
        assert response["statusCode"] == 200, response
        return json.loads(response["body"])

    def create(self, count: int = 1, use_cache: bool = True) -> list[int]:
        records = [
            {"name": f"replicated {i}", "hero": True, "power": "echo", "xp": 1, "color": "grey"}
            for i in range(count)
        ]
        return [hero["id"] for hero in self.event("write", records, use_cache)]

    def read(self, ids: list[int], use_cache: bool = True) -> dict[int, dict]:
        return {hero["id"]: hero for hero in self.event("read", ids, use_cache)}

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def app(pair, request):
    application = App({**child_env(pair.primary, pair.replica), "HERO_CACHE_KEY_PREFIX": request.node.name})
    yield application
    application.close()
    # Whatever a test did, the next one starts with a replica that applies and has caught up.
    pair.replica.query("START REPLICA SQL_THREAD")
    pair.caught_up()


RECORD = {"name": "renamed", "hero": True, "power": "echo", "xp": 77, "color": "grey"}


def test_hero_reads_reach_the_replica_and_writes_reach_the_primary(pair, app):
    """Reads of heroes are queries on the replica only; writes run on the primary only."""
    before = (pair.primary.statements(), pair.replica.statements())
    ids = app.create(3)
    assert pair.primary.since(before[0])["inserted"] == 3
    assert pair.replica.since(before[1]) == {"selects": 0, "updates": 0, "inserted": 0, "updated": 0}
    pair.caught_up()
    app.read(ids, use_cache=False)  # the first read also opens the reader's connection

    before = (pair.primary.statements(), pair.replica.statements())
    for _ in range(5):
        assert sorted(app.read(ids, use_cache=False)) == sorted(ids)
    assert pair.replica.since(before[1])["selects"] == 5
    assert pair.primary.since(before[0])["selects"] == 0

    before = (pair.primary.statements(), pair.replica.statements())
    assert app.send("update", id=ids[0], record=RECORD) == 2
    assert pair.primary.since(before[0])["updated"] == 1
    assert pair.replica.since(before[1]) == {"selects": 0, "updates": 0, "inserted": 0, "updated": 0}
    assert pair.rows_on(pair.primary, ids[0]) == [(2, 77)]


def test_an_instance_read_from_the_replica_is_saved_to_the_primary(pair, app):
    """Model.save() on a hero loaded from the replica writes to the primary, at the next version."""
    [hero_id] = app.create()
    pair.caught_up()
    assert app.send("save_loaded", id=hero_id, xp=5) == ["default", 2]
    assert pair.rows_on(pair.primary, hero_id) == [(2, 5)]
    assert app.read([hero_id])[hero_id]["xp"] == 5


def test_while_the_replica_lags_reads_through_the_cache_get_the_written_values(pair, app):
    """A write fills the cache from the values it wrote, so a lagging replica never shows."""
    [hero_id] = app.create()
    pair.caught_up()
    pair.pause()
    app.send("update", id=hero_id, record=RECORD)

    # The replica really is behind: a read that skips the cache gets the old row from it.
    assert pair.rows_on(pair.replica, hero_id) == [(1, 1)]
    assert app.read([hero_id], use_cache=False)[hero_id]["xp"] == 1
    # Through the cache: the written value, for as long as the replica lags.
    for _ in range(3):
        assert app.read([hero_id])[hero_id]["xp"] == 77
    assert app.send("cached", id=hero_id).startswith("2:")


def test_a_replica_read_that_lost_the_race_with_a_write_does_not_replace_its_value(pair, app):
    """A read-miss's write-back carrying the replica's older version is dropped."""
    [hero_id] = app.create()
    pair.caught_up()
    pair.pause()
    app.send("update", id=hero_id, record=RECORD)
    assert app.send("replica_read_miss_write_back", id=hero_id) == 1
    assert app.send("cached", id=hero_id).startswith("2:")
    assert app.read([hero_id])[hero_id]["xp"] == 77


def test_a_miss_on_an_invalidated_entry_is_read_again_from_the_primary_when_the_replica_lags(pair, app):
    """An update that only invalidates leaves a marker; a replica row older than it is not served."""
    ids = app.create(2)
    pair.caught_up()
    app.read(ids, use_cache=False)  # opens the reader's connection
    pair.pause()
    assert app.send("queryset_update", ids=ids, xp=55) == 2
    assert [row[0] for row in pair.rows_on(pair.replica, ids[0])] == [1]

    before = (pair.primary.statements(), pair.replica.statements())
    heroes = app.read(ids)
    assert {hero["xp"] for hero in heroes.values()} == {55}
    # One query on the replica, then one on the primary for the rows it had too old.
    assert pair.replica.since(before[1])["selects"] == 1
    assert pair.primary.since(before[0])["selects"] == 1
    # What was cached is the primary's version, so the next read is a hit with it.
    assert app.send("cached", id=ids[0]).startswith("2:")
    assert app.read(ids) == heroes


def test_heroes_written_without_caching_are_found_while_the_replica_lags(pair, app):
    """New rows the replica does not have yet are not answered (or cached) as missing."""
    pair.pause()
    ids = app.create(2, use_cache=False)
    assert pair.rows_on(pair.replica, ids[0]) == []
    assert sorted(app.read(ids)) == sorted(ids)
    assert app.send("cached", id=ids[0]).startswith("1:{")


def test_a_hero_deleted_while_the_replica_lags_is_not_served_from_the_replica(pair, app):
    """The tombstone a delete leaves makes the replica's copy of the row count as stale."""
    [hero_id] = app.create()
    pair.caught_up()
    pair.pause()
    assert app.send("delete", id=hero_id) is True
    assert pair.rows_on(pair.replica, hero_id) == [(1, 1)]
    assert app.read([hero_id]) == {}
    pair.resume()
    assert pair.rows_on(pair.replica, hero_id) == []


class TestRouter:
    """The routing rules themselves, without a replica: they only name databases."""

    router = ReaderRouter()

    def test_hero_reads_go_to_the_reader_outside_a_transaction(self, transactional_db):
        assert self.router.db_for_read(Hero) == READER

    def test_reads_inside_a_transaction_on_the_writer_stay_on_the_writer(self, db):
        # pytest-django's db fixture runs the test inside a transaction on the writer.
        assert self.router.db_for_read(Hero) == WRITER

    def test_other_models_are_read_from_the_writer(self, transactional_db):
        assert {self.router.db_for_read(model) for model in (ApiToken, CacheDebt)} == {WRITER}

    def test_writes_and_migrations_go_to_the_writer_only(self):
        assert self.router.db_for_write(Hero) == WRITER
        assert self.router.allow_migrate(WRITER, "heroes") is True
        assert self.router.allow_migrate(READER, "heroes") is False


def test_full_text_search_runs_on_the_replica_and_replica_reads_are_counted(pair, app):
    """
    With reads routed to the replica, the search's full-text probe runs there (it is not
    skipped for a scan of the whole table), and a read's db_queries counts its replica query.
    """
    ids = app.create(2)
    app.send("update", id=ids[0], record={**RECORD, "name": "Quetzalcoatl the Feathered"})
    pair.caught_up()

    searched = app.send("search", text="quetzal")
    response = app.send("event", event={"REQUEST": "read", "SQLS": ids, "USE_CACHE": "False"})

    assert searched == {"found": ["Quetzalcoatl the Feathered"], "fulltext_on": ["reader"]}
    assert response["meta"]["cache"] == "off" and response["meta"]["db_queries"] == 1
