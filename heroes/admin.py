from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.template.response import TemplateResponse

from heroes import services
from heroes.cache import CacheUnavailable, get_hero_cache
from heroes.models import ApiToken, Hero

admin.site.site_header = "heroapp administration"
admin.site.site_title = "heroapp admin"
admin.site.index_title = "Heroes, API tokens and users"


class SideFilter(admin.SimpleListFilter):
    """Hero or villain, named as the site names them (the column is a boolean, "is a hero")."""

    title = "side"
    parameter_name = "side"

    def lookups(self, request, model_admin):
        return [("hero", "Heroes"), ("villain", "Villains")]

    def queryset(self, request, queryset):
        if self.value() in ("hero", "villain"):
            return queryset.filter(hero=self.value() == "hero")
        return queryset


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
    # Few, narrow columns: at 1280 px with the sidebar open, all of them (the cache state
    # last) fit without scrolling sideways; the version is on each hero's page.
    list_display = ["name", "side", "power", "experience", "color", "cached"]
    list_display_links = ["name"]
    # The color filter's choices come from the palette (the field's choices), not from a
    # SELECT DISTINCT over the table; power is free text, so it has no filter (a DISTINCT
    # took ~400 ms at 1M rows on every change-list page) and is found by the search box.
    list_filter = [SideFilter, "color"]
    search_fields = ["name", "power"]
    readonly_fields = ["version", "created_at", "updated_at"]
    # COUNT(*) over a million rows on every change-list page is slow on MySQL.
    show_full_result_count = False
    # Facet counts are a COUNT per filter choice over the whole table: off at this size.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    actions = ["warm_cache", "evict_from_cache"]

    def get_changelist(self, request, **kwargs):
        return HeroChangeList

    @admin.display(description="XP", ordering="xp")
    def experience(self, hero):
        return f"{hero.xp:,}"

    @admin.display(description="side", ordering="hero")
    def side(self, hero):
        return "Hero" if hero.hero else "Villain"

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


class TokenStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


class ApiTokenCreationForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """
    Issue tokens here (the key is shown once, on the page after Save, as the command
    prints it) or with `manage.py create_api_token`; revoke them with the action. Nothing
    about a token is edited afterwards.
    """

    list_display = ["name", "user", "prefix_shown", "created_at", "last_used_at", "status"]
    list_filter = [TokenStatusFilter]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "name", "prefix_shown", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="key prefix", ordering="prefix")
    def prefix_shown(self, token):
        return f"{token.prefix}…" if token.prefix else "(issued before prefixes)"

    @admin.display(description="status", ordering="revoked_at")
    def status(self, token):
        return "active" if token.active else f"revoked {token.revoked_at:%Y-%m-%d %H:%M}"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["user", "name"] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # Viewing is allowed (view permission); there is nothing to change.
        return False

    def has_delete_permission(self, request, obj=None):
        # Revoking keeps the row, so the list still says which token was used when.
        return False

    def save_model(self, request, obj, form, change):
        token, key = services.issue_api_token(user=form.cleaned_data["user"], name=form.cleaned_data["name"])
        obj.pk = token.pk
        request._issued_api_key = key

    def response_add(self, request, obj, post_url_continue=None):
        # The key is rendered into this response only: not stored, not put in a message
        # (messages travel in a cookie), not shown again.
        context = {
            **self.admin_site.each_context(request),
            "title": "API token issued",
            "token": ApiToken.objects.get(pk=obj.pk),
            "key": request._issued_api_key,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/heroes/apitoken/issued.html", context)

    def has_revoke_permission(self, request):
        return request.user.has_perm("heroes.change_apitoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        count = services.revoke_api_tokens(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Revoked {count} token{'s' if count != 1 else ''}.", messages.SUCCESS)
