"""The blog's middleware: input no view should ever see, old addresses, the early beacon."""

import logging

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http import HttpResponseBadRequest, HttpResponsePermanentRedirect
from django.urls import reverse

from caching.pages import PRIVATE_COOKIES, resolved

from .models import OldPath
from .views import readers

logger = logging.getLogger(__name__)


class RejectNulBytesMiddleware:
    """Answer 400 to a NUL byte anywhere in the path or the query string.

    No text the site stores or looks up can contain NUL (PostgreSQL refuses it outright, which
    would surface as a 500 from any lookup), so such a request is malformed, whatever the URL.
    Form fields already refuse NUL through Django's ProhibitNullCharactersValidator.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest(
                "Bad request: NUL bytes are not allowed in addresses.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class OldPathRedirectMiddleware:
    """Answer an imported blog's old addresses (``blog.models.OldPath``) with a 301 to the post.

    The query forms on the home page (``/?p=12``) are looked up before the page cache, which
    would otherwise serve them the home page; any other address only once the site has answered
    404, so an address that is a page here costs no query. Unknown old addresses stay what they
    were (the home page, a 404), and so do all of them while the database cannot be read (the home
    page still comes from the page cache).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        if request.path_info == "/" and any(name in request.GET for name in OldPath.QUERY_NAMES):
            redirect = self.redirect(request)
            if redirect:
                return redirect
        response = self.get_response(request)
        if response.status_code == 404:
            return self.redirect(request) or response
        return response

    def redirect(self, request):
        path = OldPath.normalize(request.path_info)
        candidates = [path] + [
            f"{path}?{name}={value}"
            for name in OldPath.QUERY_NAMES
            for value in request.GET.getlist(name)
        ]
        try:
            post_id = (
                OldPath.objects.filter(path__in=candidates)
                .values_list("post_id", flat=True)
                .first()
            )
        except DatabaseError:
            logger.warning(
                "old address %s not looked up: database error",
                request.get_full_path(),
                exc_info=True,
            )
            return None
        if post_id is None:
            return None
        return HttpResponsePermanentRedirect(reverse("blog:post_detail", args=[post_id]))


class ReaderBeaconMiddleware:
    """Answer an anonymous reader's beacon before sessions, CSRF, authentication and messages.

    The beacon uses none of them (it is csrf_exempt and checks the origin itself), and it is the
    request a page view sends most, so for a request without a session or ``messages`` cookie the
    beacon view (``blog.views.readers.post_read``) is called here, as an anonymous user. A request
    with one of those cookies (staff may be reading) goes down the stack to the same view.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and not PRIVATE_COOKIES & request.COOKIES.keys():
            match = resolved(request.path_info)
            if match is not None and match.func is readers.post_read:
                request.resolver_match = match
                request.user = AnonymousUser()
                response = match.func(request, *match.args, **match.kwargs)
                # What CommonMiddleware, below, does for every other answer.
                response["Content-Length"] = str(len(response.content))
                return response
        return self.get_response(request)
