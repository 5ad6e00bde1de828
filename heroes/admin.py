from django.contrib import admin

from heroes.models import Hero


@admin.register(Hero)
class HeroAdmin(admin.ModelAdmin):
    # Saves and deletes here go through Hero.save()/delete(), whose signals keep the
    # cache consistent (heroes/signals.py); nothing in this class touches the cache.
    list_display = ["id", "name", "hero", "power", "xp", "color", "version", "updated_at"]
    list_display_links = ["id", "name"]
    list_filter = ["hero", "color", "power"]
    search_fields = ["name", "power"]
    readonly_fields = ["version", "created_at", "updated_at"]
    # COUNT(*) over a million rows on every change-list page is slow on MySQL.
    show_full_result_count = False
    list_per_page = 50
