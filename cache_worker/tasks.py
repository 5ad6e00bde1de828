"""
Operator tasks run on the deployed function with ``zappa invoke STAGE 'cache_worker.tasks.NAME'``.

Each is a thin interface over a service function, with Zappa's (event, context) signature.
"""

from heroes.services import flush_hero_cache, warm_all_heroes


def warm_cache(event=None, context=None) -> dict:
    """Load every hero into the cache, e.g. after a deploy that bumped the key schema."""
    return {"warmed": warm_all_heroes()}


def flush_cache(event=None, context=None) -> dict:
    """Delete the hero namespace from the cache (never the rest of the Redis database)."""
    return {"deleted": flush_hero_cache()}
