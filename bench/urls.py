"""The site's URLs plus a trivial view: the yardstick every benchmark reports its ratios against."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as site_urlpatterns


@csrf_exempt
def floor(request):
    """The framework floor: goes through the same middleware as every view, then does nothing."""
    return HttpResponse(b'{"ok": true}', content_type="application/json")


urlpatterns = [path("bench/floor", floor), *site_urlpatterns]
