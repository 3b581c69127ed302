"""The site's URLs plus a trivial view: the yardstick benchmarks report their ratios against."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def trivial(request):
    """Does nothing but go through the same middleware as every other view."""
    return HttpResponse(b'{"ok": true}', content_type="application/json")


urlpatterns = [path("bench/trivial", trivial), path("", include("config.urls"))]
