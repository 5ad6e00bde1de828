from django.db import DatabaseError, connection
from django.http import JsonResponse

from heroes.cache import CacheUnavailable, get_hero_cache


def health(request):
    """Liveness of the database and the cache, for load balancers and operators."""
    status = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        status["database"] = "unavailable"
    cache = get_hero_cache()
    try:
        cache.ping()
        status["cache"] = cache.backend_name
    except CacheUnavailable:
        status["cache"] = "unavailable"
    code = 200 if status["database"] == "ok" else 503
    return JsonResponse(status, status=code)
