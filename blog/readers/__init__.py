"""Reader counts (N位读者): who counts as a reader, and how a read reaches the database.

One read = one browser reading one post within ``BLOG_READ_WINDOW`` (24 h). Staff, known bots and
crawlers, prefetches and prerenders are not counted, nor HEAD requests (the beacon takes POST only).
New visitors are bounded per client address (``within_bounds``), so a script inventing visitors
adds a few reads an hour, not thousands a minute.
Reads arrive by a POST beacon that static/js/readers.js sends after the page has loaded, so no
JavaScript means no count, and the post page itself carries nothing per visitor: a proxy may cache
it. The beacon's answer carries the new count for the byline.

A read is stored in one of two ways:

- directly (the default): one transaction of database-side increments, ``F()`` on
  ``Post.reader_count`` and an upsert of the day's ``ReadDay`` row. Exact under any concurrency.
- buffered (``BLOG_READER_BUFFER`` with ``REDIS_URL``): ``HINCRBY`` into a Redis hash, moved into
  the database by ``flush()`` (the ``flush_reader_counts`` command and task). The shown count is
  database + pending buffer. docs/readers.md describes the protocol and what a Redis crash loses.
"""

import contextlib
import functools
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import crawleruseragents
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from redis.exceptions import RedisError

from ..clients import client_address, client_hash, hit
from ..models import Post, ReadDay
from .buffer import Buffer, FlushResult, flush, pending_reads

__all__ = ["Buffer", "FlushResult", "flush", "pending_reads"]  # the buffer's API, re-exported

COOKIE_NAME = "reader"
_TOKEN = re.compile(r"[0-9a-f]{32}")
_PREFETCH_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
_PREFETCH_WORDS = ("prefetch", "prerender", "preview")


@dataclass(frozen=True)
class Visitor:
    """Who is reading, as far as dedupe needs to know: ``key`` is never a raw address."""

    key: str
    new_cookie: str = ""  # a fresh token to hand to the browser ("" when it has one or refuses)


@dataclass(frozen=True)
class Read:
    readers: int | None  # the count to show in the byline (None: counted, but unknown now)
    counted: bool
    visitor: Visitor | None = None


# -- who counts ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """Known bots, crawlers, link previewers and HTTP libraries (the maintained
    crawler-user-agents list: Googlebot, Baiduspider, curl, python-requests, HeadlessChrome, ...).
    A request without a User-Agent is no browser either."""
    return not user_agent.strip() or crawleruseragents.is_crawler(user_agent)


def is_prefetch(request) -> bool:
    """Speculative loads: link prefetch, prerender (whose scripts do run) and preview fetches."""
    return any(
        word in request.META.get(header, "").lower()
        for header in _PREFETCH_HEADERS
        for word in _PREFETCH_WORDS
    )


def is_same_origin(request) -> bool:
    """Whether a POST comes from one of this site's own pages.

    This replaces Django's CSRF token for the beacon (the view is csrf_exempt on purpose): the post
    page is cached by proxies and must not carry a per-visitor token or set a CSRF cookie. Every
    current browser labels its requests with Sec-Fetch-Site; older ones still send Origin with any
    POST, checked like Django's CSRF middleware does. A request with neither header does not come
    from a browser page and is refused as well.
    """
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.META.get("HTTP_ORIGIN", "")
    if not origin or origin == "null":
        return False
    return origin in {
        f"{request.scheme}://{request.get_host()}",
        _origin(settings.SITE_URL),
        *settings.CSRF_TRUSTED_ORIGINS,
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def identify(request) -> Visitor:
    """The visitor: a random first-party cookie, else a keyed hash of address and user agent.

    The cookie is scoped to the post's beacon URL, so it never travels with page requests (which
    stay cacheable) and cannot link one reader's visits to different posts. A browser that says it
    accepts cookies (``cookies=1`` in the beacon body) gets a fresh one on its first beacon; one
    that refuses cookies is recognised by the hash, which is keyed with SECRET_KEY and stored in
    place of the address.
    """
    token = request.COOKIES.get(COOKIE_NAME, "")
    if _TOKEN.fullmatch(token):
        return Visitor(key="c" + token)
    if request.POST.get("cookies") == "1":
        token = secrets.token_hex(16)
        return Visitor(key="c" + token, new_cookie=token)
    agent = request.META.get("HTTP_USER_AGENT", "")
    digest = salted_hmac(
        "blog.readers.visitor", f"{client_address(request)}\n{agent}", algorithm="sha256"
    )
    return Visitor(key="h" + digest.hexdigest()[:32])


def set_visitor_cookie(response, post_id: int, visitor: Visitor | None, *, secure: bool) -> None:
    if visitor and visitor.new_cookie:
        response.set_cookie(
            COOKIE_NAME,
            visitor.new_cookie,
            max_age=settings.BLOG_READ_WINDOW,
            path=_beacon_path(post_id),
            secure=secure,
            httponly=True,
            samesite="Strict",
        )


def _beacon_path(post_id: int) -> str:
    from django.urls import reverse

    return reverse("blog:post_read", args=[post_id])


# -- counting --------------------------------------------------------------------------------


class Unavailable(Exception):
    """Reads cannot be counted right now: Redis (the dedupe marks, the buffer) is unreachable.

    Nothing was counted (unless Redis took the increment and its answer was lost); the beacon
    answers 503. Counting without the dedupe marks would count a reload twice, so it does not.
    """


def record_read(request, post_id: int) -> Read:
    """Count this request as a read of the post if it is one; return the count to show.

    Raises Post.DoesNotExist for a post that is unknown or not public, and Unavailable when the
    cache or the buffer cannot be reached.
    """
    try:
        return _record_read(request, post_id)
    except RedisError as exc:  # Django's Redis cache and the buffer both raise these
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc


def _record_read(request, post_id: int) -> Read:
    agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    if is_bot(agent) or is_prefetch(request) or request.user.is_staff:
        return Read(current_count(post_id), counted=False)
    visitor = identify(request)
    seen = f"readers:seen:{post_id}:{visitor.key}"
    # The dedupe: cache.add is atomic (SET NX on Redis), so of two racing requests one wins.
    if not cache.add(seen, 1, timeout=settings.BLOG_READ_WINDOW):
        return Read(current_count(post_id), counted=False, visitor=visitor)
    try:
        if not within_bounds(request, post_id):
            cache.delete(seen)  # this browser may count once its address is within the bounds
            return Read(current_count(post_id), counted=False)
        if settings.BLOG_READER_BUFFER:
            readers, flush_due = _add_buffered(post_id)
        else:
            readers, flush_due = _add(post_id), False
    except Exception:
        with contextlib.suppress(Exception):  # Redis may be the thing that failed
            cache.delete(seen)  # nothing was counted: a retry may count
        raise
    if flush_due:
        _start_flush()
    return Read(readers, counted=True, visitor=visitor)


def within_bounds(request, post_id: int) -> bool:
    """Whether the client's address may add one more new visitor to this post.

    A script can invent visitors (a new cookie per beacon, a new user agent per request), so new
    visitors are bounded per address: BLOG_READER_NEW_PER_POST to one post and
    BLOG_READER_NEW_PER_ADDRESS to all posts together, per window (docs/readers.md). Only new
    visitors are counted against the bounds: a repeat read never reaches here.
    """
    address = client_hash(request, "blog.readers.address")
    return hit(f"readers:new:{address}:{post_id}", settings.BLOG_READER_NEW_PER_POST) and hit(
        f"readers:new:{address}", settings.BLOG_READER_NEW_PER_ADDRESS
    )


def current_count(post_id: int) -> int:
    """The count to show for a public post: the database, plus the pending buffer if any."""
    if settings.BLOG_READER_BUFFER:
        return Buffer.default().shown_count(post_id)
    return Post.objects.published().values_list("reader_count", flat=True).get(pk=post_id)


def _add(post_id: int) -> int:
    with transaction.atomic():
        public = Post.objects.published().filter(pk=post_id)
        if not public.update(reader_count=F("reader_count") + 1):
            raise Post.DoesNotExist
        ReadDay.objects.add(post_id, timezone.localdate())
        return Post.objects.values_list("reader_count", flat=True).get(pk=post_id)


def _add_buffered(post_id: int) -> tuple[int, bool]:
    if not Post.objects.published().filter(pk=post_id).exists():
        raise Post.DoesNotExist
    return Buffer.default().add(post_id, timezone.localdate())


def _start_flush() -> None:
    """Flush the buffer (at most once per BLOG_READER_FLUSH_INTERVAL across all processes).

    The default task backend (immediate) runs it here, after the read is buffered; a queue
    backend runs it in its worker. A failed flush is logged by django.tasks and leaves the reads
    in Redis for the next one: the beacon's answer does not depend on it.
    """
    from ..tasks import flush_reader_counts

    flush_reader_counts.enqueue()


def daily_reads(post_id: int, days: int = 90, today: date | None = None) -> list[tuple[date, int]]:
    """The post's reads per day over the last ``days`` days, oldest first, zeros filled in."""
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    counts = dict(
        ReadDay.objects.filter(post_id=post_id, day__gte=start, day__lte=today).values_list(
            "day", "count"
        )
    )
    return [(day, counts.get(day, 0)) for day in (start + timedelta(n) for n in range(days))]
