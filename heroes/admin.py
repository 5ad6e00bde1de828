from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList

from heroes import services
from heroes.cache import CacheUnavailable, get_hero_cache
from heroes.models import ApiToken, Hero


class HeroChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # One MGET for the whole page, rather than one lookup per row.
        ids = [hero.pk for hero in self.result_list]
        try:
            cached = get_hero_cache().cached_ids(ids)
        except CacheUnavailable:
            cached = None
        for hero in self.result_list:
            hero.cache_state = None if cached is None else hero.pk in cached


@admin.register(Hero)
class HeroAdmin(admin.ModelAdmin):
    # Saves and deletes here go through Hero.save()/delete(), whose signals keep the
    # cache consistent (heroes/signals.py); nothing in this class writes the cache.
    list_display = ["id", "name", "hero", "power", "xp", "color", "version", "cached", "updated_at"]
    list_display_links = ["id", "name"]
    list_filter = ["hero", "color", "power"]
    search_fields = ["name", "power"]
    readonly_fields = ["version", "created_at", "updated_at"]
    # COUNT(*) over a million rows on every change-list page is slow on MySQL.
    show_full_result_count = False
    list_per_page = 50
    actions = ["warm_cache", "evict_from_cache"]

    def get_changelist(self, request, **kwargs):
        return HeroChangeList

    @admin.display(description="cached", boolean=True)
    def cached(self, hero):
        # None (shown as "unknown") when the cache could not be reached.
        return getattr(hero, "cache_state", None)

    @admin.action(description="Warm the cache for the selected heroes", permissions=["view"])
    def warm_cache(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        try:
            count = services.warm_heroes(ids=ids)
        except CacheUnavailable:
            self.message_user(request, "The cache is unavailable; nothing was warmed.", messages.ERROR)
        else:
            self.message_user(request, f"Cached {count} heroes.", messages.SUCCESS)

    @admin.action(description="Evict the selected heroes from the cache", permissions=["change"])
    def evict_from_cache(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        if services.evict_heroes(ids=ids):
            self.message_user(request, f"Evicted {len(ids)} heroes.", messages.SUCCESS)
        else:
            self.message_user(request, "The cache is unavailable; nothing was evicted.", messages.ERROR)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with `manage.py create_api_token`, which shows the key once; revoke here."""

    list_display = ["name", "user", "created_at"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["user", "name", "created_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False
