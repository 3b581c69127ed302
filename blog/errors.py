"""404 and 500 pages in the site's style. The 500 page renders without the database or context."""

from django.http import HttpResponseNotFound, HttpResponseServerError
from django.template import loader


def page_not_found(request, exception):
    return HttpResponseNotFound(loader.render_to_string("404.html", request=request))


def server_error(request):
    # No request context: the failure may be the database the sidebar would query.
    return HttpResponseServerError(loader.render_to_string("500.html"))
