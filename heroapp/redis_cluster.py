"""
django-redis on a Redis Cluster (ElastiCache with cluster mode enabled).

django-redis builds a plain ``redis.Redis`` over a connection pool; a cluster needs
redis-py's ``RedisCluster``, which learns the slot map from any node, sends each key's
command to the primary that owns its slot, and follows the map through resharding and
failover. settings.py selects these classes when REDIS_URL carries ``?cluster=true`` (or
REDIS_CLUSTER=1 is set):

* ``ClusterConnectionFactory`` makes one ``RedisCluster`` per URL per process;
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
            self._clusters[url] = RedisCluster.from_url(
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
        return self._clusters[url]

    def disconnect(self, connection: RedisCluster) -> None:
        connection.disconnect_connection_pools()


class ClusterClient(DefaultClient):
    def get_many(self, keys, version: int | None = None, client: Any = None) -> dict:
        if client is None:
            client = self.get_client(write=False)
        if not keys:
            return {}
        made = {self.make_key(key, version=version): key for key in keys}
        values = client.mget_nonatomic(list(made))
        return {made[key]: self.decode(value) for key, value in zip(made, values) if value is not None}
