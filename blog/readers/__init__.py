"""Reader counts (N位读者): who counts as a reader, and how a read reaches the database.

One read = one browser reading one post within ``BLOG_READ_WINDOW`` (24 h). Staff, known bots and
crawlers, prefetches and prerenders are not counted, nor HEAD requests (the beacon takes POST only).
New visitors are bounded per client address (BLOG_READER_NEW_PER_POST and _PER_ADDRESS), so a
script inventing visitors adds a few reads an hour, not thousands a minute.
Reads arrive by a POST beacon that static/js/readers.js sends after the page has loaded, so no
JavaScript means no count, and the post page itself carries nothing per visitor: a proxy may cache
it. The beacon's answer carries the new count for the byline.

Whether a post is public comes from what the process knows for the current content generation,
so a beacon reads no database row. A read is stored in one of two ways:

- directly (the default): this process's tally, written to the database in one transaction of
  database-side increments every second (``local.py``): requests never queue on the write lock.
- buffered (``BLOG_READER_BUFFER`` with ``REDIS_URL``): one Redis script does the dedupe, the
  bounds and the increment and returns the count to show (``Buffer.read``): one round trip. A
  flush moves the buffer into the database (the ``flush_reader_counts`` command and task).
  docs/readers.md describes both and what a crash can lose.
"""

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import crawleruseragents
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac
from redis.exceptions import RedisError

from caching.store import cached

from ..clients import client_address, client_hash, hit
from ..models import Post, ReadDay
from .buffer import Buffer, FlushResult, flush, pending_reads
from .local import tally
from .tasks import flush_reader_counts

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
    if post_id not in public_posts():
        raise Post.DoesNotExist
    agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    if is_bot(agent) or is_prefetch(request) or request.user.is_staff:
        return Read(current_count(post_id), counted=False)
    visitor = identify(request)
    address = client_hash(request, "blog.readers.address")
    if settings.BLOG_READER_BUFFER:
        outcome = Buffer.default().read(post_id, visitor.key, address, timezone.localdate())
        if outcome.flush_due:
            _start_flush()
        counted, within, shown = outcome.counted, outcome.within_bounds, outcome.shown
    else:
        counted, within = _first_read(post_id, visitor.key, address)
        shown = tally.add(post_id, timezone.localdate()) if counted else tally.shown(post_id)
    return Read(shown, counted=counted, visitor=visitor if within else None)


def public_posts() -> frozenset[int]:
    """The ids of the public posts, known to every process for the current content generation
    (a scheduled post's publication moves the generation): the beacon asks no database."""
    return cached(
        "public-post-ids", lambda: frozenset(Post.objects.published().values_list("pk", flat=True))
    )


def _first_read(post_id: int, visitor: str, address: str) -> tuple[bool, bool]:
    """(counted, within the bounds) for reads stored directly: the dedupe mark and the bounds in
    the default and ``limits`` caches (this process's memory, or Redis)."""
    seen = f"readers:seen:{post_id}:{visitor}"
    # cache.add is atomic (SET NX on Redis), so of two racing requests one wins.
    if not cache.add(seen, 1, timeout=settings.BLOG_READ_WINDOW):
        return False, True
    if hit(f"readers:new:{address}:{post_id}", settings.BLOG_READER_NEW_PER_POST) and hit(
        f"readers:new:{address}", settings.BLOG_READER_NEW_PER_ADDRESS
    ):
        return True, True
    cache.delete(seen)  # this browser may count once its address is within the bounds
    return False, False


def current_count(post_id: int) -> int:
    """The count to show for a public post: stored, plus what waits to be stored."""
    if settings.BLOG_READER_BUFFER:
        return Buffer.default().shown_count(post_id)
    return tally.shown(post_id)


def _start_flush() -> None:
    """Flush the buffer (at most once per BLOG_READER_FLUSH_INTERVAL across all processes).

    The default task backend (immediate) runs it here, after the read is buffered; a queue
    backend runs it in its worker. A failed flush is logged by django.tasks and leaves the reads
    in Redis for the next one: the beacon's answer does not depend on it.
    """
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
