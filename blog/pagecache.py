"""Whole-page caching for anonymous readers, and HTTP caching headers for proxies and browsers.

A public page's body is cached under a key made of the content generation (any saved post,
series, category, tag or approved comment changes it), the templates' version and the URL, so an
edit shows on the next request. Only anonymous requests (no session or messages cookie) are
served from or stored in the cache, and a response that set a cookie or used the CSRF token is
never stored. Responses carry ETag, Last-Modified and Cache-Control so a reverse proxy can cache
them and conditional requests get 304.
"""

import hashlib
from functools import cache as memoize
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from .cache import _safely, generation, last_changed

PRIVATE_COOKIES = {settings.SESSION_COOKIE_NAME, "messages"}
UNCACHED_HEADERS = {
    "set-cookie",
    "cache-control",
    "etag",
    "last-modified",
    "vary",
    "content-length",
}


@memoize
def templates_version() -> str:
    """A digest of every project template: a deploy that changes a template changes all keys."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def public_page(view):
    """Serve ``view`` from the page cache for anonymous readers; add HTTP caching headers."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or PRIVATE_COOKIES & request.COOKIES.keys():
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response
        key = _key(request)
        entry = _safely(cache.get, key)
        if entry is None:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # a TemplateResponse (the sitemap view returns one)
            if not _storable(request, response):
                patch_cache_control(response, private=True, no_cache=True)
                return response
            entry = {
                "body": response.content,
                "headers": {
                    name: value
                    for name, value in response.items()
                    if name.lower() not in UNCACHED_HEADERS
                },
                "etag": f'"{hashlib.blake2b(response.content, digest_size=12).hexdigest()}"',
                "last_modified": int(last_changed().timestamp()),
            }
            _safely(cache.set, key, entry, settings.BLOG_PAGE_CACHE_SECONDS)
        conditional = get_conditional_response(
            request, etag=entry["etag"], last_modified=entry["last_modified"]
        )
        response = conditional or HttpResponse(entry["body"], headers=entry["headers"])
        response["ETag"] = entry["etag"]
        response["Last-Modified"] = http_date(entry["last_modified"])
        patch_cache_control(
            response,
            public=True,
            max_age=settings.BLOG_PAGE_MAX_AGE,
            stale_while_revalidate=settings.BLOG_PAGE_MAX_AGE * 10,
        )
        return response

    return wrapper


def _key(request) -> str:
    url = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"page:{generation()}:{templates_version()}:{url}"


def _storable(request, response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not getattr(getattr(request, "_messages", None), "_queued_messages", None)
        and not response.has_header("Cache-Control")
    )
