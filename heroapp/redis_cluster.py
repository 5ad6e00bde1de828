"""
django-redis on a Redis Cluster (ElastiCache with cluster mode enabled).

django-redis builds a plain ``redis.Redis`` over a connection pool; a cluster needs
redis-py's ``RedisCluster``, which learns the slot map from any node, sends each key's
command to the primary that owns its slot, and follows the map through resharding and
failover. settings.py selects these classes when REDIS_URL carries ``?cluster=true`` (or
REDIS_CLUSTER=1 is set):

* ``ClusterConnectionFactory`` makes one ``RedisCluster`` per URL per process, and counts
  its slot map reloads (a failover or resharding) for the hero cache;
* ``ClusterClient`` is django-redis's client with the multi-key reads that a cluster
  refuses across slots (MGET) split by slot, one pipelined request per node.

The hero cache (heroes/cache.py) uses the same ``RedisCluster`` through
``get_redis_connection``; every command it sends touches one key.
"""

from __future__ import annotations

from typing import Any

from django_redis.client import DefaultClient
from django_redis.pool import ConnectionFactory
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry


class ClusterConnectionFactory(ConnectionFactory):
    _clusters: dict[str, RedisCluster] = {}

    def connect(self, url: str) -> RedisCluster:
        # One client per URL and process, as django-redis keeps one pool per URL: the
        # client holds the slot map and a pool per node, and is thread-safe.
        if url not in self._clusters:
            client = RedisCluster.from_url(
                url,
                socket_timeout=self.options.get("SOCKET_TIMEOUT"),
                socket_connect_timeout=self.options.get("SOCKET_CONNECT_TIMEOUT"),
                # One immediate retry after refreshing the slot map, for the same reason as
                # the single-node settings: the cache layer's own back-off handles a node
                # that stays down, and callers should not wait on it.
                retry=Retry(NoBackoff(), 1),
                # While a shard fails over, keys of the other shards keep working; the
                # default (True) would refuse the whole slot map until the failover ends.
                require_full_coverage=False,
            )
            _count_slot_map_reloads(client)
            self._clusters[url] = client
        return self._clusters[url]

    def disconnect(self, connection: RedisCluster) -> None:
        connection.disconnect_connection_pools()


def _count_slot_map_reloads(client: RedisCluster) -> None:
    """
    Count, in ``client.slot_map_version``, the times the client reloads the slot map.

    redis-py follows a failover by itself: a dead node or a MOVED reply makes it reload the
    map and retry, and the caller only sees the retried answer. The hero cache needs to know
    (a failover can lose writes the old primary had not replicated; heroes/cache.py), and
    redis-py has no hook for it, so the node manager's reload is wrapped here.
    """
    manager = client.nodes_manager
    reload = manager.initialize
    client.slot_map_version = 0

    def initialize(*args, **kwargs):
        try:
            return reload(*args, **kwargs)
        finally:
            client.slot_map_version += 1

    manager.initialize = initialize


class ClusterClient(DefaultClient):
    def get_many(self, keys, version: int | None = None, client: Any = None) -> dict:
        if client is None:
            client = self.get_client(write=False)
        if not keys:
            return {}
        made = {self.make_key(key, version=version): key for key in keys}
        values = client.mget_nonatomic(list(made))
        return {made[key]: self.decode(value) for key, value in zip(made, values) if value is not None}
