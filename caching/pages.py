"""Whole-page caching for anonymous readers, and HTTP caching headers for proxies and browsers.

Views wrapped in ``public_page`` are cached for anonymous readers; ``PageCacheMiddleware`` stores
their responses and serves the cached ones. It sits near the top of MIDDLEWARE, after WhiteNoise:
a hit skips sessions, CSRF, authentication, messages, URL resolving and the view, and still gets
the security and CSP headers of the middleware above it; the headers of the middleware below it
(X-Frame-Options) are stored with the body.

A page is cached (caching.store: this process's memory, then Redis) under a key made of the
content generation (caching.generation), the templates' version and the URL, so an edit shows on
the next request. The URL's query string is first cut down to the parameters the view reads
(``public_page(query=...)``), so ``?cb=<random>`` or ``?utm_source=…`` neither stores a new copy
of the page nor reaches the view (and so never shows up in a cached page's links). Before a
cached page is served, the ``Host`` header is checked against ALLOWED_HOSTS exactly as for an
uncached request (400 otherwise). Only anonymous requests (no session or messages cookie) are
served from or stored in the cache, and a response that set a cookie (a CSRF token, messages) is
never stored. The body is stored as rendered and gzip-compressed (once, when stored); a client
that accepts gzip gets the compressed bytes. Responses carry ETag, Last-Modified and
Cache-Control so a reverse proxy can cache them and conditional requests get 304.
"""

import gzip
import hashlib
import re
import time
from functools import cache as memoize
from functools import lru_cache, wraps
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse, QueryDict
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from . import store
from .generation import generation

PRIVATE_COOKIES = {settings.SESSION_COOKIE_NAME, "messages"}
UNCACHED_HEADERS = {
    "set-cookie",
    "cache-control",
    "etag",
    "last-modified",
    "vary",
    "content-length",
}
COMPRESS_MIN_BYTES = 1024
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


@memoize
def templates_version() -> str:
    """A digest of every project template: a deploy that changes a template changes all keys."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def parts_version(current: int | None = None) -> str:
    """What every shared part (caching.parts) varies on: the content and the templates."""
    return f"{generation() if current is None else current}.{templates_version()}"


def public_page(view=None, *, query: tuple[str, ...] = ()):
    """Mark ``view``'s pages as public: cached for anonymous readers by PageCacheMiddleware,
    ``Cache-Control: private`` for everyone else. ``query`` names the query parameters the view
    reads; every other one is dropped before the view runs (``@public_page(query=("page",))``)."""
    if view is None:
        return lambda view: public_page(view, query=query)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if getattr(request, "page_cache_key", None):
            request.page_cache_store = True
        else:
            patch_cache_control(response, private=True, no_cache=True)
        return response

    wrapper.public_query = frozenset(query)
    return wrapper


@lru_cache(maxsize=4096)
def resolved(path: str) -> ResolverMatch | None:
    """``resolve(path)`` kept per path, or None when nothing matches: the answers given before
    Django resolves the URL (cached pages, the reader beacon) would otherwise spend a good part
    of their time resolving it."""
    try:
        return resolve(path)
    except Resolver404:
        return None


def public_query(path: str) -> frozenset[str] | None:
    """The query parameters of the ``public_page`` view at ``path``, or None when ``path`` is not
    a public page (other URLs skip the cache lookup)."""
    match = resolved(path)
    return None if match is None else getattr(match.func, "public_query", None)


def _keep_only(request, names: frozenset[str]) -> None:
    """Cut the request's query string down to ``names``, in one order (by name)."""
    if not request.META.get("QUERY_STRING"):
        return
    kept = QueryDict(mutable=True)
    for name in sorted(names.intersection(request.GET)):
        kept.setlist(name, request.GET.getlist(name))
    request.GET = kept
    request.META["QUERY_STRING"] = kept.urlencode()


@receiver(setting_changed)
def _urls_changed(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        resolved.cache_clear()


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        names = public_query(request.path_info)
        if names is None:
            return self.get_response(request)
        _keep_only(request, names)
        if PRIVATE_COOKIES & request.COOKIES.keys():
            return self.get_response(request)
        request.get_host()  # DisallowedHost (400) for a Host outside ALLOWED_HOSTS, as uncached
        current = generation()
        key = _key(request, current)
        entry = store.get(key)
        if entry is None:
            request.page_cache_key = key
            request.parts_version = parts_version(current)
            response = self.get_response(request)
            if not getattr(request, "page_cache_store", False):
                return response
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # a TemplateResponse (the sitemap view returns one)
            if not _storable(request, response):
                patch_cache_control(response, private=True, no_cache=True)
                return response
            entry = _entry(response, current)
            store.put(key, entry, settings.BLOG_PAGE_CACHE_SECONDS)
        return _respond(request, entry)


def _key(request, current: int) -> str:
    url = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"page:{current}:{templates_version()}:{url}"


def _storable(request, response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not getattr(getattr(request, "_messages", None), "_queued_messages", None)
        and not response.has_header("Cache-Control")
    )


def _entry(response, current: int) -> dict:
    """What is stored: the body (plain and gzipped), its headers and its validators."""
    body = response.content
    compressed = None
    if len(body) >= COMPRESS_MIN_BYTES and not response.has_header("Content-Encoding"):
        # mtime=0: the same body always compresses to the same bytes (and the same ETag).
        compressed = gzip.compress(body, compresslevel=6, mtime=0)
        if len(compressed) >= len(body):
            compressed = None
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    last_modified = current // 10**9
    return {
        "body": body,
        "gzip": compressed,
        "headers": {
            name: value for name, value in response.items() if name.lower() not in UNCACHED_HEADERS
        },
        "etag": f'"{etag}"',
        "gzip_etag": f'"{etag}-gzip"',
        "last_modified": last_modified,
        "last_modified_http": http_date(last_modified),
        "expires": time.time() + settings.BLOG_PAGE_CACHE_SECONDS,
    }


def _respond(request, entry: dict):
    compressed = entry["gzip"] is not None and _ACCEPTS_GZIP.search(
        request.META.get("HTTP_ACCEPT_ENCODING", "")
    )
    etag = entry["gzip_etag"] if compressed else entry["etag"]
    response = None
    if "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MODIFIED_SINCE" in request.META:
        response = get_conditional_response(
            request, etag=etag, last_modified=entry["last_modified"]
        )
    if response is None:
        body = entry["gzip"] if compressed else entry["body"]
        response = HttpResponse(body, headers=entry["headers"])
        response["Content-Length"] = str(len(body))
        if compressed:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["Last-Modified"] = entry["last_modified_http"]
    response["Cache-Control"] = (
        f"public, max-age={settings.BLOG_PAGE_MAX_AGE}, "
        f"stale-while-revalidate={settings.BLOG_PAGE_MAX_AGE * 10}"
    )
    if entry["gzip"] is not None:
        response["Vary"] = "Accept-Encoding"
    return response
