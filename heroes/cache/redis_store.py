"""
The hero cache's commands on Redis: one server, or a Redis Cluster.

Each operation is one request per server involved: a read is one MGET; a claim or a write
batch is one script call per hash slot, pipelined per primary. Hero keys carry a hash tag
(heroes/cache/hero_cache.py, ``key``), so on a cluster the ids of a request fall in a few
slots, and a lock always lives in its value's slot: the scripts may touch both at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from hiredis import pack_command
from redis.crc import key_slot
from redis.exceptions import (
    ConnectionError,
    NoScriptError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TimeoutError,
)

from heroes.cache.values import CLAIM_SCRIPT, CLAIM_SHA, PUT_SCRIPT, PUT_SHA, Write


@lru_cache(maxsize=1 << 16)
def _slot(key: str) -> int:
    # Memoised, as the hero cache's keys are (they repeat, and hashing costs more than
    # the lookup): every read groups its keys by slot.
    return key_slot(key.encode())


# Keys per script call: Lua's unpack() and the server's argument buffers stay small, and
# one call does not hold the server for long.
BATCH = 500


class RedisStore:
    name = "redis"
    # RedisClusterException is not a RedisError; a cluster client raises it when no node can
    # be reached, or a slot has no reachable primary (a failover).
    errors: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError)

    def __init__(self, connect: Callable[[], object], *, cluster: bool = False):
        self._connect = connect
        self._client = None
        self.cluster = cluster
        # (redis-py's slot table, the routes learnt from it), replaced as one.
        self._routes: tuple[object, dict[int, tuple]] = (None, {})

    @property
    def client(self):
        # Made on first use, inside the cache's failure handling: a cluster client connects
        # when it is made (to learn the slot map), and an unreachable cluster must mean
        # "serve from the database", not a process that cannot start.
        if self._client is None:
            self._client = self._connect()
        return self._client

    def slot_map_version(self) -> int:
        """How many times the cluster client has reloaded its slot map (0 on a single node)."""
        return getattr(self._client, "slot_map_version", 0)

    # Reads and writes of entries -------------------------------------------------------

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        if self.cluster:
            return self._cluster_get_many(keys)
        return _request(self.client.connection_pool, [pack_command(("MGET", *keys))])[0]

    def _cluster_get_many(self, keys: list[str]) -> list[bytes | None]:
        """
        One MGET per hash slot, all of a primary's in one write, every primary's sent before
        any answer is read: the cost of one round trip, where redis-py's cluster pipeline
        spends more per command than the MGET itself. Anything unusual (a moved slot, a
        refused connection) is handed to redis-py's own mget_nonatomic, which follows the
        cluster's new slot map (and counts the reload, so the hero cache notices).
        """
        client = self.client
        by_slot: dict[int, list[str]] = {}
        for key in keys:
            by_slot.setdefault(_slot(key), []).append(key)
        by_node: dict[str, tuple] = {}
        try:
            for slot, group in by_slot.items():
                name, pool = self._route(slot)
                by_node.setdefault(name, (pool, []))[1].append(group)
        except (RedisClusterException, AttributeError):  # a slot with no primary known
            return client.mget_nonatomic(keys)
        taken = []
        found: dict[str, bytes | None] = {}
        current = None  # the primary being written to or read from
        try:
            for current, (pool, groups) in by_node.items():  # noqa: B007 (used on failure)
                connection = pool.get_connection()
                taken.append((current, pool, connection, groups))
                connection.send_packed_command([b"".join(pack_command(("MGET", *group)) for group in groups)])
            for current, _, connection, groups in taken:  # noqa: B007 (used on failure)
                for group in groups:
                    found.update(zip(group, connection.read_response()))
        except BaseException as exc:
            # Replies may be left unread on any of them.
            for _, _, connection, _ in taken:
                connection.disconnect()
            if isinstance(exc, ResponseError | ConnectionError | RedisClusterException):
                # MOVED, ASK, TRYAGAIN, CLUSTERDOWN or a dead node: redis-py's own path
                # follows them. Not a timeout, which would make the caller wait twice.
                return client.mget_nonatomic(keys)
            if isinstance(exc, TimeoutError) and current is not None:
                # A primary that stopped answering may be failing over: as redis-py does
                # after a timeout, drop its idle connections and reload the slot map (asking
                # it last), so that reads follow its replica once promoted.
                by_node[current][0].disconnect(inuse_connections=False)
                client.nodes_manager.initialize(last_failed_node_name=current)
            raise
        finally:
            for _, pool, connection, _ in taken:
                pool.release(connection)
        return [found[key] for key in keys]

    def _route(self, slot: int) -> tuple[str, object]:
        """The name and connection pool of the primary that serves ``slot``."""
        nodes = self.client.nodes_manager
        # redis-py replaces its slot table when it reloads the slot map (on every MOVED, as
        # heroapp/redis_cluster.py sets reinitialize_steps=1), so routes learnt from one
        # table hold for as long as the client uses it. A route is kept only if the table
        # it came from is still the current one.
        table = nodes.slots_cache
        learnt, routes = self._routes
        if learnt is not table:
            routes = {}
            self._routes = (table, routes)
        route = routes.get(slot)
        if route is None:
            node = nodes.get_node_from_slot(slot)
            route = (node.name, node.redis_connection.connection_pool)
            if nodes.slots_cache is table:
                routes[slot] = route
        return route

    def claim(self, pairs: list[tuple[str, str]], ttl_ms: int) -> list[tuple[bool, bytes | None]]:
        """For each (lock key, value key): SET NX the lock and, if taken, read the value."""
        calls = [
            ([key for pair in group for key in pair], [ttl_ms])
            for group in self._groups(pairs, key=lambda pair: pair[1])
        ]
        replies = [reply for group_reply in self._scripts(CLAIM_SHA, calls) for reply in group_reply]
        return [(bool(replies[i]), replies[i + 1]) for i in range(0, len(replies), 2)]

    def put(
        self,
        writes: list[tuple[str, Write]],
        release: list[str] = (),
        *,
        replicas: int = 0,
        timeout_ms: int = 0,
    ) -> tuple[set[str], list[str]]:
        """
        Run the version-checked ``writes`` (key, write) and delete the ``release`` keys.
        Returns the keys whose primary could not confirm the writes to ``replicas`` replicas
        within ``timeout_ms`` (WAIT; a failover before a replica catches up would lose them),
        and the keys whose values were not the cache's (another type, bad bytes), replaced.
        """
        items = [(key, write) for key, write in writes] + [(key, None) for key in release]
        calls = []
        for group in self._groups(items, key=lambda item: item[0]):
            puts = [(key, write) for key, write in group if write is not None]
            args: list = [len(puts)]
            for _, write in puts:
                args += (write.value(), write.ttl * 1000)
            calls.append(([key for key, _ in puts] + [key for key, write in group if write is None], args))
        waits = self._primaries([key for key, _ in writes]) if replicas and writes else {}
        replies = self._scripts(PUT_SHA, calls, waits={node: (replicas, timeout_ms) for node in waits})
        replaced = [key.decode() for reply in replies[: len(calls)] for key in reply]
        acks = replies[len(calls) :]
        unconfirmed = {
            key for keys, confirmed in zip(waits.values(), acks) if confirmed < replicas for key in keys
        }
        return unconfirmed, replaced

    def _groups(self, items: list, *, key) -> Iterator[list]:
        """``items`` in batches a script may take at once: of one hash slot on a cluster."""
        if self.cluster:
            by_slot: dict[int, list] = {}
            for item in items:
                by_slot.setdefault(self.client.keyslot(key(item)), []).append(item)
            batches = by_slot.values()
        else:
            batches = [items]
        for batch in batches:
            for start in range(0, len(batch), BATCH):
                yield batch[start : start + BATCH]

    def _primaries(self, keys: list[str]) -> dict:
        """The primaries that own ``keys``, each with its keys (one entry, None, on a single node)."""
        if not self.cluster:
            return {None: keys}
        nodes: dict = {}
        for key in keys:
            nodes.setdefault(self.client.get_node_from_key(key).name, []).append(key)
        return nodes

    def _scripts(self, sha: str, calls: list[tuple[list[str], list]], waits: dict | None = None) -> list:
        """Run one script per call (and the WAITs), in one request per server; reload on NOSCRIPT."""
        try:
            return self._send(sha, calls, waits or {})
        except NoScriptError:
            # A restarted or failed-over server has an empty script cache.
            self._load_scripts()
            return self._send(sha, calls, waits or {})

    def _send(self, sha: str, calls: list[tuple[list[str], list]], waits: dict) -> list:
        client = self.client
        if not self.cluster:
            commands = [pack_command(("EVALSHA", sha, len(keys), *keys, *args)) for keys, args in calls]
            commands += [pack_command(("WAIT", *wait)) for wait in waits.values()]
            return _request(client.connection_pool, commands)
        pipe = client.pipeline(transaction=False)
        for keys, args in calls:
            # A cluster pipeline refuses evalsha(), and for EVALSHA through execute_command
            # redis-py asks the server for the script's keys (COMMAND GETKEYS) unless told
            # the node; every key of a call is in one slot, so its node is known here.
            target = {"target_nodes": client.get_node_from_key(keys[0])} if self.cluster else {}
            pipe.execute_command("EVALSHA", sha, len(keys), *keys, *args, **target)
        # WAIT covers the writes sent before it on the same connection: on a cluster, one
        # per primary written to, which the pipeline sends after that primary's scripts.
        for node_name, (replicas, timeout_ms) in waits.items():
            target = {"target_nodes": client.get_node(node_name=node_name)} if self.cluster else {}
            pipe.execute_command("WAIT", replicas, timeout_ms, **target)
        return pipe.execute()

    def _load_scripts(self) -> None:
        # A cluster client sends SCRIPT LOAD to every primary.
        self.client.script_load(PUT_SCRIPT)
        self.client.script_load(CLAIM_SCRIPT)

    # Operations for the status page and the admin --------------------------------------

    def ping(self) -> None:
        self.client.ping()

    def scan_keys(self, pattern: str) -> Iterator[bytes]:
        # SCAN walks the keyspace in steps without blocking the server as KEYS would; a
        # cluster client scans every node.
        return self.client.scan_iter(match=pattern, count=1000)

    def delete_matching(self, pattern: str) -> int:
        # UNLINK frees memory in the background; one key per command keeps it valid on a
        # cluster, and a pipeline per thousand keys keeps the round trips few.
        deleted = 0
        batch: list[bytes] = []
        for key in self.scan_keys(pattern):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += self._unlink(batch)
                batch = []
        return deleted + (self._unlink(batch) if batch else 0)

    def _unlink(self, keys: list[bytes]) -> int:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.unlink(key)
        return sum(pipe.execute())

    def server_info(self) -> dict:
        if not self.cluster:
            return self._summary(self.client.info(), nodes=1)
        # A cluster answers per primary: memory and clients are summed over them.
        per_node = list(self.client.info(target_nodes=self.client.PRIMARIES).values())
        total = dict(per_node[0])
        for name in ("used_memory", "connected_clients"):
            total[name] = sum(node.get(name, 0) for node in per_node)
        total["used_memory_human"] = f"{total['used_memory'] / 2**20:.2f}M"
        return self._summary(total, nodes=len(per_node))

    @staticmethod
    def _summary(info: dict, *, nodes: int) -> dict:
        return {
            "version": info.get("redis_version"),
            "used_memory": info.get("used_memory_human"),
            "connected_clients": info.get("connected_clients"),
            "uptime_days": info.get("uptime_in_days"),
            "maxmemory_policy": info.get("maxmemory_policy"),
            "primaries": nodes,
        }


def _request(pool, commands: list[bytes]) -> list:
    """
    Send packed ``commands`` in one write on a pooled connection and read their replies.

    redis-py's own connection, parser and retry policy, without its per-command layer
    (argument checks, observability hooks, response callbacks) that costs as much as a
    small MGET itself. The first error reply is raised after every reply is read, so the
    connection stays usable.
    """
    connection = pool.get_connection()

    def exchange():
        # One buffer: a list would be one send() per command.
        connection.send_packed_command([b"".join(commands)])
        replies, error = [], None
        for _ in commands:
            try:
                replies.append(connection.read_response())
            except ResponseError as exc:
                replies.append(exc)
                error = error or exc
        if error is not None:
            raise error
        return replies

    try:
        return connection.retry.call_with_retry(exchange, lambda _error: connection.disconnect())
    except BaseException as exc:
        if not isinstance(exc, ResponseError):
            # A timeout or a broken connection may leave a reply unread.
            connection.disconnect()
        raise
    finally:
        pool.release(connection)
