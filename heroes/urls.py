from django.urls import path

from heroes import api, views

app_name = "heroes"

urlpatterns = [
    path("", views.hero_list, name="list"),
    path("heroes/new/", views.hero_create, name="create"),
    path("heroes/<int:hero_id>/", views.hero_detail, name="detail"),
    path("heroes/<int:hero_id>/edit/", views.hero_edit, name="edit"),
    path("heroes/<int:hero_id>/delete/", views.hero_delete, name="delete"),
    path("cache/", views.cache_status, name="cache"),
    path("cache/warm/", views.cache_warm, name="cache-warm"),
    path("cache/flush/", views.cache_flush, name="cache-flush"),
    path("api/events", api.events, name="api-events"),
    path("healthz", views.health, name="health"),
]
