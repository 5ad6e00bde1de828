"""
django-redis on a Redis Cluster (ElastiCache with cluster mode enabled).

django-redis builds a plain ``redis.Redis`` over a connection pool; a cluster needs
redis-py's ``RedisCluster``, which learns the slot map from any node, sends each key's
command to the primary that owns its slot, and follows the map through resharding and
failover. settings.py selects these classes when REDIS_URL carries ``?cluster=true`` (or
REDIS_CLUSTER=1 is set):

``ClusterConnectionFactory`` makes one ``RedisCluster`` per URL per process, and counts
its slot map reloads (a failover or resharding) for the hero cache, which uses the same
client (heroes/cache/redis_store.py); every command it sends touches one hash slot.
"""

from __future__ import annotations

from django_redis.pool import ConnectionFactory
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import ConnectionError
from redis.retry import Retry

# One immediate retry, on a fresh connection, of a command whose connection failed: it
# covers a pooled connection that went stale while a Lambda container was frozen. Not on a
# timeout: a server that accepts and never answers would make each call wait twice, and
# the cache layer's own back-off handles a server that stays sick. Nor any back-off here:
# callers should not wait on a dead server.
RETRY = Retry(NoBackoff(), 1, supported_errors=(ConnectionError,))


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
                # As for a single node (RETRY above), after refreshing the slot map.
                retry=RETRY,
                # While a shard fails over, keys of the other shards keep working; the
                # default (True) would refuse the whole slot map until the failover ends.
                require_full_coverage=False,
                # Reload the whole slot map on every MOVED reply (by default only every fifth
                # one; the others patch one slot), so each is counted below: MOVED follows a
                # failover or resharding, rare enough for a full reload.
                reinitialize_steps=1,
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
    (a failover can lose writes the old primary had not replicated; docs/design.md), and
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
