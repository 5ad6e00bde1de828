"""
The importer's fast path on MySQL/MariaDB: validated rows are bulk-loaded into a staging
table with ``LOAD DATA LOCAL INFILE`` and merged into heroes_hero with one
``INSERT ... SELECT ... ON DUPLICATE KEY UPDATE`` per chunk; a chunk of heroes that do not
exist yet (a first import) is loaded straight into heroes_hero instead.

Three things run at once, so an import costs about what its slowest part costs rather
than the sum of all three (the server's own bulk load is the yardstick, see
docs/benchmarks-import-coldstart.md):

* the calling thread reads and validates the CSV (heroes/schema.py, as every other path)
  and writes each chunk of valid rows to a tab-separated temporary file;
* a database thread loads each file into the staging table and merges it, on its own
  connection, the only one opened with LOCAL INFILE enabled;
* a cache thread invalidates (or, with ``warm_cache``, stores) each merged chunk's ids at
  their new versions, in pipelined batches, after the chunk's commit.

Versions follow commit order as the model's own writes do: the merge bumps
``version = version + 1`` on the rows it locks, and the versions given to the cache are
read back inside the same transaction. With ``single_transaction`` (strict imports)
every chunk is merged in one transaction and the cache is told only
after it commits.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field

from django.db import connections, router
from django.utils import timezone

from heroes.schema import HeroRecord, encode_hero

logger = logging.getLogger(__name__)

# Cache calls per pipelined request: large enough to amortise the round trip, small
# enough that one request does not hold Redis for long.
CACHE_BATCH = 5000
STAGING = "heroes_import_staging"

# Backslash, tab and newlines are the characters LOAD DATA's default escaping gives a
# meaning to; names may contain newlines (a quoted CSV field).
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Few values need escaping, and a search is far cheaper than a translate.
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]").search

# Whether any hero exists with an id in a chunk's range; a chunk loaded straight into the
# table must create every row (tests replace it to play a hero created after it ran).
ANY_IN_RANGE = "SELECT EXISTS (SELECT 1 FROM heroes_hero WHERE id BETWEEN %s AND %s)"
_MERGE_COLUMNS = "id, name, hero, power, xp, color, version, created_at, updated_at"
_MERGE_UPDATE = (
    "name = VALUES(name), hero = VALUES(hero), power = VALUES(power), xp = VALUES(xp), "
    "color = VALUES(color), version = heroes_hero.version + 1, updated_at = VALUES(updated_at)"
)


def available(alias: str) -> bool:
    """The fast path needs MySQL/MariaDB; the server must allow LOCAL INFILE (checked at start)."""
    return connections[alias].vendor == "mysql"


@dataclass(slots=True)
class Chunk:
    number: int
    path: str
    records: list[HeroRecord]
    with_id: set[int] = field(default_factory=set)
    versions: dict[int, int] = field(default_factory=dict)
    created: int = 0
    updated: int = 0


class LocalInfileDisabled(Exception):
    """The server refuses LOAD DATA LOCAL INFILE (local_infile=OFF)."""


class BulkWriter:
    """
    Accepts chunks of validated records and writes them through the pipeline above.

    ``add`` returns at once (the chunk is queued); ``close`` waits for every chunk,
    commits (or rolls back with ``commit=False``) and returns (created, updated).
    """

    def __init__(self, *, warm_cache: bool, single_transaction: bool, alias: str | None = None):
        from heroes.models import Hero

        self.alias = alias or router.db_for_write(Hero)
        self.warm_cache = warm_cache
        self.single_transaction = single_transaction
        self.created = self.updated = 0
        # Seconds each thread spent working (not waiting), for the benchmark's breakdown.
        self.timings: dict[str, float] = {"load": 0.0, "merge": 0.0, "cache": 0.0}
        self._chunks = 0
        self._folder = tempfile.mkdtemp(prefix="hero-import-")
        self._db_queue: queue.Queue = queue.Queue(maxsize=2)
        self._cache_queue: queue.Queue = queue.Queue(maxsize=4)
        self._held: list[Chunk] = []  # single transaction: told to the cache after commit
        self._error: BaseException | None = None
        # Asked here, in the calling thread: in the database thread Django would open a
        # connection of its own just to answer.
        self._ops = connections[self.alias].ops
        self._returning = connections[self.alias].features.can_return_rows_from_bulk_insert
        self._conn = self._connect()
        self._started = threading.Event()
        self._db_thread = threading.Thread(target=self._db_loop, name="hero-import-db", daemon=True)
        self._cache_thread = threading.Thread(target=self._cache_loop, name="hero-import-cache", daemon=True)
        self._db_thread.start()
        self._cache_thread.start()
        self._started.wait()
        if self._error is not None:
            self._cache_thread.join()
            self._cleanup()
            raise self._error

    # The calling thread -----------------------------------------------------------------

    def add(self, records: list[HeroRecord], *, first_seq: int) -> None:
        """Queue a chunk; rows without an id are told apart by their position ``first_seq + i``."""
        self._raise_if_failed()
        self._chunks += 1
        path = os.path.join(self._folder, f"{self._chunks}.tsv")
        chunk = Chunk(number=self._chunks, path=path, records=records)
        lines = []
        for seq, r in enumerate(records, first_seq):
            if r.id is None:
                key = -seq  # unique in the staging table, and never a hero id
            else:
                key = r.id
                chunk.with_id.add(key)
            name, power, color = r.name, r.power, r.color
            if _NEEDS_ESCAPE(name) or _NEEDS_ESCAPE(power) or _NEEDS_ESCAPE(color):
                name, power, color = (value.translate(_ESCAPE) for value in (name, power, color))
            lines.append(f"{key}\t{name}\t{int(r.hero)}\t{power}\t{r.xp}\t{color}\n")
        with open(chunk.path, "w", encoding="utf-8", newline="") as handle:
            handle.write("".join(lines))
        self._put(self._db_queue, chunk)

    def close(self, *, commit: bool = True) -> tuple[int, int]:
        try:
            self._put(self._db_queue, ("end", commit))
            self._db_thread.join()
            self._cache_thread.join()
            self._raise_if_failed()
        finally:
            self._cleanup()
        return self.created, self.updated

    def abort(self) -> None:
        """Stop after an error in the calling thread: roll back what is not committed."""
        if self._db_thread.is_alive():
            try:
                self._put(self._db_queue, ("end", False))
            except BaseException:
                pass
            self._db_thread.join(timeout=60)
            self._cache_thread.join(timeout=60)
        self._cleanup()

    def _put(self, target: queue.Queue, item) -> None:
        # A failed thread stops consuming: never block on its full queue.
        while True:
            self._raise_if_failed()
            try:
                target.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _cleanup(self) -> None:
        for name in os.listdir(self._folder):
            os.unlink(os.path.join(self._folder, name))
        os.rmdir(self._folder)

    # The database thread ----------------------------------------------------------------

    def _connect(self):
        """
        A connection of its own, made by the project's database backend as Django's are (so
        a rotated password is re-read: heroapp/mysql/), plus LOCAL INFILE, at the same
        isolation level. The app's connections keep LOCAL INFILE off: a client that lets the
        server ask for local files is only wanted where a file is being loaded.
        """
        wrapper = connections[self.alias]
        params = wrapper.get_connection_params()
        conn = wrapper.get_new_connection({**params, "local_infile": True})
        if wrapper.isolation_level:
            level = wrapper.isolation_level.upper()
            conn.cursor().execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {level}")
        conn.autocommit(False)
        return conn

    def _db_loop(self) -> None:
        cursor = self._conn.cursor()
        try:
            cursor.execute("SELECT @@local_infile")
            if not cursor.fetchone()[0]:
                raise LocalInfileDisabled("the database server has local_infile=OFF")
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} (chunk INT NOT NULL, id BIGINT NOT NULL, "
                "name VARCHAR(100) NOT NULL, hero TINYINT(1) NOT NULL, power VARCHAR(100) NOT NULL, "
                "xp INT UNSIGNED NOT NULL, color VARCHAR(50) NOT NULL, PRIMARY KEY (chunk, id)) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )
        except BaseException as exc:
            self._fail(exc)
            self._conn.close()
            self._cache_queue.put(None)
            self._started.set()
            return
        self._started.set()
        try:
            while True:
                item = self._db_queue.get()
                if isinstance(item, tuple):
                    self._finish(cursor, commit=item[1])
                    return
                self._merge(cursor, item)
                if not self.single_transaction:
                    self._conn.commit()
                    self._put(self._cache_queue, item)
                else:
                    self._held.append(item)
        except BaseException as exc:
            self._fail(exc)
            try:
                self._conn.rollback()
            except Exception:
                pass
        finally:
            try:
                cursor.execute(f"DROP TEMPORARY TABLE IF EXISTS {STAGING}")
            except Exception:
                pass
            self._conn.close()
            self._cache_queue.put(None)

    def _finish(self, cursor, *, commit: bool) -> None:
        if not commit:
            self._conn.rollback()
            self.created = self.updated = 0
            return
        self._conn.commit()
        for chunk in self._held:
            self._put(self._cache_queue, chunk)

    def _merge(self, cursor, chunk: Chunk) -> None:
        started = time.perf_counter()
        now = self._ops.adapt_datetimefield_value(timezone.now())
        if self._load_new(cursor, chunk, now):
            self.created += chunk.created
            self.timings["load"] += time.perf_counter() - started
            return
        # REPLACE: within a chunk the last row for an id wins, as it did row by row.
        cursor.execute(
            f"LOAD DATA LOCAL INFILE %s REPLACE INTO TABLE {STAGING} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
            "(id, name, hero, power, xp, color) SET chunk = %s",
            [chunk.path, chunk.number],
        )
        os.unlink(chunk.path)
        loaded = time.perf_counter()
        self.timings["load"] += loaded - started
        if chunk.with_id:
            affected = cursor.execute(
                f"INSERT INTO heroes_hero ({_MERGE_COLUMNS}) "
                f"SELECT id, name, hero, power, xp, color, 1, %s, %s FROM {STAGING} "
                f"WHERE chunk = %s AND id > 0 ORDER BY id ON DUPLICATE KEY UPDATE {_MERGE_UPDATE}",
                [now, now, chunk.number],
            )
            # ON DUPLICATE KEY UPDATE counts 1 per inserted row and 2 per updated one.
            chunk.updated = affected - len(chunk.with_id)
            chunk.created = len(chunk.with_id) - chunk.updated
            chunk.versions = dict.fromkeys(chunk.with_id, 1)
            if chunk.updated:
                # Read back inside the transaction that holds their locks: exactly the
                # versions this merge wrote.
                cursor.execute(
                    f"SELECT h.id, h.version FROM heroes_hero h JOIN {STAGING} s ON s.id = h.id "
                    "WHERE s.chunk = %s AND s.id > 0 AND h.version > 1",
                    [chunk.number],
                )
                chunk.versions.update(cursor.fetchall())
        without_id = len(chunk.records) - sum(1 for r in chunk.records if r.id is not None)
        if without_id:
            new_ids = self._insert_new(cursor, chunk, now)
            new = [r for r in chunk.records if r.id is None]
            chunk.records = [r for r in chunk.records if r.id is not None] + [
                HeroRecord(name=r.name, hero=r.hero, power=r.power, xp=r.xp, color=r.color, id=i)
                for r, i in zip(new, new_ids)
            ]
            chunk.versions.update(dict.fromkeys(new_ids, 1))
            chunk.created += len(new_ids)
        self.created += chunk.created
        self.updated += chunk.updated
        self.timings["merge"] += time.perf_counter() - loaded

    def _load_new(self, cursor, chunk: Chunk, now) -> bool:
        """
        Load a chunk of heroes that do not exist yet straight into heroes_hero, as the
        server's own bulk load does: the staging load and the INSERT ... SELECT took about
        a sixth longer for the same rows (docs/benchmarks-import-coldstart.md). Only for a
        chunk whose rows all have ids, each once, none in use (a first import, new ids).
        Returns False, having written nothing, when the chunk needs the merge.
        """
        if len(chunk.with_id) != len(chunk.records):
            return False  # rows without an id, or an id twice (the last row wins)
        cursor.execute(ANY_IN_RANGE, [min(chunk.with_id), max(chunk.with_id)])
        if cursor.fetchone()[0]:
            return False
        # LOAD DATA LOCAL skips a duplicate key with a warning (the server cannot stop the
        # client's file midway): if a row was created meanwhile, fewer rows are loaded, and
        # the savepoint takes the others back so the merge can bump versions as it must.
        cursor.execute("SAVEPOINT hero_import_direct")
        loaded = cursor.execute(
            "LOAD DATA LOCAL INFILE %s INTO TABLE heroes_hero CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
            "(id, name, hero, power, xp, color) SET version = 1, created_at = %s, updated_at = %s",
            [chunk.path, now, now],
        )
        if loaded != len(chunk.records):
            cursor.execute("ROLLBACK TO SAVEPOINT hero_import_direct")
            return False
        os.unlink(chunk.path)
        chunk.created = loaded
        chunk.versions = dict.fromkeys(chunk.with_id, 1)
        return True

    def _insert_new(self, cursor, chunk: Chunk, now) -> list[int]:
        select = (
            "SELECT name, hero, power, xp, color, 1, %s, %s "
            f"FROM {STAGING} WHERE chunk = %s AND id < 0 ORDER BY id DESC"
        )
        insert = "INSERT INTO heroes_hero (name, hero, power, xp, color, version, created_at, updated_at) "
        if self._returning:
            # MariaDB returns the new ids, in insertion order.
            cursor.execute(insert + select + " RETURNING id", [now, now, chunk.number])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT @@innodb_autoinc_lock_mode")
        if cursor.fetchone()[0] in (0, 1):
            # MySQL: with these lock modes an INSERT ... SELECT gets consecutive ids.
            count = cursor.execute(insert + select, [now, now, chunk.number])
            first = self._conn.insert_id()
            return list(range(first, first + count))
        # Interleaved lock mode (MySQL 8's default): ids may have gaps, so one row at a time.
        cursor.execute(
            f"SELECT name, hero, power, xp, color FROM {STAGING} "
            "WHERE chunk = %s AND id < 0 ORDER BY id DESC",
            [chunk.number],
        )
        ids = []
        for row in cursor.fetchall():
            cursor.execute(insert + "VALUES (%s, %s, %s, %s, %s, 1, %s, %s)", [*row, now, now])
            ids.append(self._conn.insert_id())
        return ids

    # The cache thread -------------------------------------------------------------------

    def _cache_loop(self) -> None:
        from heroes.cache import get_hero_cache

        cache = get_hero_cache()
        while True:
            chunk = self._cache_queue.get()
            if chunk is None:
                return
            started = time.perf_counter()
            try:
                if self.warm_cache:
                    rows = [(r.id, chunk.versions[r.id], _encode(r)) for r in _last_per_id(chunk.records)]
                    for start in range(0, len(rows), CACHE_BATCH):
                        cache.store_heroes(rows[start : start + CACHE_BATCH])
                else:
                    items = list(chunk.versions.items())
                    for start in range(0, len(items), CACHE_BATCH):
                        cache.invalidate(dict(items[start : start + CACHE_BATCH]))
            except BaseException as exc:  # the rows are committed; say so, keep draining
                self._fail(exc)
            self.timings["cache"] += time.perf_counter() - started

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc


def _last_per_id(records: list[HeroRecord]) -> list[HeroRecord]:
    return list({r.id: r for r in records}.values())


def _encode(record: HeroRecord) -> bytes:
    return encode_hero(record.id, list(record.values().values()))
