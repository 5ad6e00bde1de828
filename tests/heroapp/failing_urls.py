"""The site's URLs plus one view that always fails: an unhandled error, on purpose, for the logging tests."""

from django.urls import include, path


def fail(request):
    raise RuntimeError("forced failure for the logging test")


urlpatterns = [
    path("forced-failure/", fail),
    path("", include("heroapp.urls")),
]
