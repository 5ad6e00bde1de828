"""The browse-and-edit web UI. Each view is a thin interface over selectors and services."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

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


# The list's own parameters: the only ones a "back" link may carry.
LIST_PARAMS = ("q", "side", "color", "sort", "page")


def list_query(params) -> str:
    """The list's parameters among ``params``, as a query string (no "?"), empty ones dropped."""
    return urlencode([(key, params[key]) for key in LIST_PARAMS if params.get(key)])


def back_query(request) -> str:
    """
    The list query a detail, edit or delete page was reached from (its ``back`` parameter),
    re-encoded from the list's own parameters only, so it can never point anywhere but
    the list.
    """
    return list_query(QueryDict(request.GET.get("back", "")))


def with_back(url: str, back: str) -> str:
    return f"{url}?{urlencode({'back': back})}" if back else url


def list_url(back: str) -> str:
    return reverse("heroes:list") + (f"?{back}" if back else "")


def hero_list(request):
    form = HeroFilterForm(request.GET, colors=selectors.hero_colors())
    form.is_valid()
    # Only the valid fields: a made-up color or page=abc is dropped, not an error page. A
    # search that is too long is not dropped (the list would pass for "everything
    # matched"): it is an error, and nothing is listed.
    filters = form.cleaned_data
    search_error = form.errors.get("q")
    sort = filters.get("sort") or "newest"
    query = {k: v for k, v in filters.items() if v and k != "page"}
    if search_error:
        query["q"] = request.GET.get("q", "")
    page = None
    if not search_error:
        side = filters.get("side")
        page = selectors.list_heroes(
            search=filters.get("q", ""),
            hero={"hero": True, "villain": False}.get(side),
            color=filters.get("color", ""),
            sort=sort,
            page=filters.get("page") or 1,
        )
    here = list_query({**query, "page": page.number if page and page.number > 1 else ""})
    return render(
        request,
        "heroes/hero_list.html",
        {
            "form": form,
            "page": page,
            "search_error": search_error,
            "search": filters.get("q", ""),
            "filtered": bool({k: v for k, v in query.items() if k != "sort"}),
            "back": urlencode({"back": here}) if here else "",
            "columns": _sort_columns(query, sort),
            "previous_query": urlencode({**query, "page": page.number - 1}) if page else "",
            "next_query": urlencode({**query, "page": page.number + 1}) if page else "",
            "last_query": urlencode({**query, "page": page.last_number}) if page and page.last_number else "",
            "first_query": urlencode(query),
        },
    )


# Sortable columns: (label, sort that puts it in its natural order first, the reverse).
_SORTABLE = {"name": ("Name", "name", "-name", "ascending"), "xp": ("XP", "xp", "-xp", "descending")}


def _sort_columns(query: dict, sort: str) -> dict:
    """For each sortable column header: its link (the other direction when it is the
    current sort) and its aria-sort state."""
    columns = {}
    for key, (label, first, reverse_, natural) in _SORTABLE.items():
        if sort == first:
            state, target = natural, reverse_
        elif sort == reverse_:
            state, target = ("descending" if natural == "ascending" else "ascending"), first
        else:
            state, target = None, first
        columns[key] = {
            "label": label,
            "state": state,
            "url": "?" + urlencode({**{k: v for k, v in query.items() if k != "sort"}, "sort": target}),
        }
    return columns


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
    back = back_query(request)
    return render(
        request,
        "heroes/hero_detail.html",
        {
            "hero": result.heroes[0],
            "source": source,
            "elapsed_ms": result.elapsed_ms,
            "result": result,
            "list_url": list_url(back),
            "back": urlencode({"back": back}) if back else "",
        },
    )


@permission("add")
def hero_create(request):
    form = HeroForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        (hero,) = services.create_heroes(records=[form.to_record()]).heroes
        messages.success(request, f"Created {hero.name}.")
        return redirect("heroes:detail", hero_id=hero.id)
    return render(
        request,
        "heroes/hero_form.html",
        {"form": form, "title": "New hero", "cancel_url": reverse("heroes:list")},
    )


@permission("change")
def hero_edit(request, hero_id: int):
    hero = get_object_or_404(Hero, pk=hero_id)
    back = back_query(request)
    form = HeroForm(request.POST or None, instance=hero)
    detail_url = with_back(reverse("heroes:detail", args=[hero_id]), back)
    if request.method == "POST" and form.is_valid():
        services.update_hero(hero_id=hero_id, record=form.to_record())
        messages.success(request, f"Saved {form.cleaned_data['name']}.")
        return redirect(detail_url)
    return render(
        request,
        "heroes/hero_form.html",
        {"form": form, "title": f"Edit {hero.name}", "hero": hero, "cancel_url": detail_url},
    )


@permission("delete")
def hero_delete(request, hero_id: int):
    hero = get_object_or_404(Hero, pk=hero_id)
    back = back_query(request)
    if request.method == "POST":
        services.delete_hero(hero_id=hero_id)
        messages.success(request, f"Deleted {hero.name}.")
        return redirect(list_url(back))
    return render(
        request,
        "heroes/hero_confirm_delete.html",
        {"hero": hero, "cancel_url": with_back(reverse("heroes:detail", args=[hero_id]), back)},
    )


# The cache page shows Redis details and can empty the cache: it is for the same people as
# the admin's evict action (staff with the change permission), not for all staff.
@permission("change")
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
            "chart": hit_ratio_svg(list(cache.recent), now=timezone.now()),
            "key_example": cache.key(42),
        },
    )


@require_POST
@permission("change")
def cache_warm(request):
    try:
        warmed = services.warm_all_heroes()
    except CacheUnavailable:
        messages.error(request, "The cache is unavailable; nothing was warmed.")
    else:
        messages.success(request, f"Warmed the cache with {warmed} heroes.")
    return redirect("heroes:cache")


@require_http_methods(["GET", "POST"])
@permission("change")
def cache_flush(request):
    """GET asks for confirmation (a flush makes every next read a miss); POST flushes."""
    if request.method == "GET":
        return render(request, "heroes/cache_confirm_flush.html", {"cache": get_hero_cache()})
    try:
        deleted = services.flush_hero_cache()
    except CacheUnavailable:
        messages.error(request, "The cache is unavailable; nothing was flushed.")
    else:
        messages.success(request, f"Flushed the hero namespace ({deleted} keys).")
    return redirect("heroes:cache")


class LoginView(auth_views.LoginView):
    """Django's login, saying that it worked."""

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Signed in as {form.get_user().get_username()}.")
        return response


class LogoutView(auth_views.LogoutView):
    """Django's logout, saying that it worked."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "Signed out.")
        return response


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
