from django.contrib import admin
from django.urls import include, path

from heroes import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("heroes.urls")),
]
