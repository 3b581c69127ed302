"""A test-only URLconf: the site's URLs plus a view that fails, to see the 500 page."""

from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as site_urlpatterns

LEAKY_MESSAGE = "secret-in-exception-7c1e DATABASES SECRET_KEY"


def failing_view(request):
    raise RuntimeError(LEAKY_MESSAGE)


urlpatterns = [path("boom/", failing_view), *site_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
