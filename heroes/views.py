"""The browse-and-edit web UI. Each view is a thin interface over selectors and services."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from heroes import selectors, services
from heroes.cache import CacheUnavailable, get_hero_cache
from heroes.charts import hit_ratio_svg
from heroes.forms import HeroFilterForm, HeroForm
from heroes.models import Hero
from heroes.permissions import may_change_heroes


def permission(action: str):
    """
    Changing data is for staff with the model permission (heroes/permissions.py): anonymous
    users are sent to log in, other signed-in users get a 403.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not may_change_heroes(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def hero_list(request):
    form = HeroFilterForm(request.GET, colors=selectors.hero_colors())
    # An invalid parameter (a made-up color, page=abc) is dropped, not an error page.
    filters = form.cleaned_data if form.is_valid() else {}
    side = filters.get("side")
    page = selectors.list_heroes(
        search=filters.get("q", ""),
        hero={"hero": True, "villain": False}.get(side),
        color=filters.get("color", ""),
        sort=filters.get("sort") or "newest",
        page=filters.get("page") or 1,
    )
    query = {k: v for k, v in filters.items() if v and k != "page"}
    return render(
        request,
        "heroes/hero_list.html",
        {
            "form": form,
            "page": page,
            "filtered": bool(query),
            "previous_query": urlencode({**query, "page": page.number - 1}),
            "next_query": urlencode({**query, "page": page.number + 1}),
        },
    )


def hero_detail(request, hero_id: int):
    result = selectors.get_heroes(ids=[hero_id])
    if not result.found:
        raise Http404("No hero with that id.")
    if result.cache in ("redis", "local") and result.hits:
        source = "Redis cache hit" if result.cache == "redis" else "In-process cache hit"
    elif result.cache == "unavailable":
        source = "Database (cache unavailable)"
    else:
        source = "Database (cache miss, now cached)"
    return render(
        request,
        "heroes/hero_detail.html",
        {"hero": result.heroes[0], "source": source, "elapsed_ms": result.elapsed_ms, "result": result},
    )


@permission("add")
def hero_create(request):
    form = HeroForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        (hero,) = services.create_heroes(records=[form.to_record()]).heroes
        messages.success(request, f"Created {hero.name}.")
        return redirect("heroes:detail", hero_id=hero.id)
    return render(request, "heroes/hero_form.html", {"form": form, "title": "New hero"})


@permission("change")
def hero_edit(request, hero_id: int):
    hero = get_object_or_404(Hero, pk=hero_id)
    form = HeroForm(request.POST or None, instance=hero)
    if request.method == "POST" and form.is_valid():
        services.update_hero(hero_id=hero_id, record=form.to_record())
        messages.success(request, f"Saved {form.cleaned_data['name']}.")
        return redirect("heroes:detail", hero_id=hero_id)
    return render(request, "heroes/hero_form.html", {"form": form, "title": f"Edit {hero.name}", "hero": hero})


@permission("delete")
def hero_delete(request, hero_id: int):
    hero = get_object_or_404(Hero, pk=hero_id)
    if request.method == "POST":
        services.delete_hero(hero_id=hero_id)
        messages.success(request, f"Deleted {hero.name}.")
        return redirect("heroes:list")
    return render(request, "heroes/hero_confirm_delete.html", {"hero": hero})


@staff_member_required
def cache_status(request):
    cache = get_hero_cache()
    try:
        info = cache.server_info()
        cached_keys = cache.count_keys()
        reachable = True
    except CacheUnavailable:
        info, cached_keys, reachable = {}, None, False
    hits, misses = cache.stats["hits"], cache.stats["misses"]
    return render(
        request,
        "heroes/cache_status.html",
        {
            "cache": cache,
            "reachable": reachable,
            "info": info,
            "cached_keys": cached_keys,
            "hits": hits,
            "misses": misses,
            "hit_ratio": hits / (hits + misses) if hits + misses else None,
            "chart": hit_ratio_svg(list(cache.recent)),
            "key_example": cache.key(42),
        },
    )


@require_POST
@staff_member_required
def cache_warm(request):
    try:
        warmed = services.warm_all_heroes()
    except CacheUnavailable:
        messages.error(request, "The cache is unavailable; nothing was warmed.")
    else:
        messages.success(request, f"Warmed the cache with {warmed} heroes.")
    return redirect("heroes:cache")


@require_POST
@staff_member_required
def cache_flush(request):
    try:
        deleted = services.flush_hero_cache()
    except CacheUnavailable:
        messages.error(request, "The cache is unavailable; nothing was flushed.")
    else:
        messages.success(request, f"Flushed the hero namespace ({deleted} keys).")
    return redirect("heroes:cache")


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
    return JsonResponse(status, status=200 if status["database"] == "ok" else 503)
