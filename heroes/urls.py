from django.urls import path, register_converter

from heroes import api, views
from heroes.schema import RecordError, clean_id


class HeroIdConverter:
    """Only ids a hero can have (1 to 2^63-1, the worker's rule): others are a 404 before
    any cache or database lookup, so made-up ids cannot fill the cache with markers."""

    regex = "[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        try:
            return clean_id(value)
        except RecordError:
            raise ValueError(value) from None

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(HeroIdConverter, "hero_id")

app_name = "heroes"

urlpatterns = [
    path("", views.hero_list, name="list"),
    path("heroes/new/", views.hero_create, name="create"),
    path("heroes/<hero_id:hero_id>/", views.hero_detail, name="detail"),
    path("heroes/<hero_id:hero_id>/edit/", views.hero_edit, name="edit"),
    path("heroes/<hero_id:hero_id>/delete/", views.hero_delete, name="delete"),
    path("cache/", views.cache_status, name="cache"),
    path("cache/warm/", views.cache_warm, name="cache-warm"),
    path("cache/flush/", views.cache_flush, name="cache-flush"),
    path("api/events", api.events, name="api-events"),
    path("healthz", views.health, name="health"),
]
