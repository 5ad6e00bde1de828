from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from heroes import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:heroes_hero_changelist"), name="home"),
    path("healthz", views.health, name="health"),
    path("admin/", admin.site.urls),
]
