"""Reader counts (N位读者): who counts as a reader, and how a read reaches the database.

One read = one browser reading one post within ``BLOG_READ_WINDOW`` (24 h). Staff, known bots and
crawlers, prefetches and prerenders are not counted, nor HEAD requests (the beacon takes POST only).
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

import functools
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

import crawleruseragents
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import Post, ReadBatch, ReadDay

COOKIE_NAME = "reader"
_TOKEN = re.compile(r"[0-9a-f]{32}")
_PREFETCH_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
_PREFETCH_WORDS = ("prefetch", "prerender", "preview")
# Ledger rows only guard against re-applying a batch that a dead flush left behind; a week of them
# is ample when flushes run every minute.
_LEDGER_DAYS = 7


@dataclass(frozen=True)
class Visitor:
    """Who is reading, as far as dedupe needs to know: ``key`` is never a raw address."""

    key: str
    new_cookie: str = ""  # a fresh token to hand to the browser ("" when it has one or refuses)


@dataclass(frozen=True)
class Read:
    readers: int  # the count to show in the byline
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


def client_address(request) -> str:
    header = settings.BLOG_CLIENT_IP_HEADER
    address = request.META.get(header, "") if header else ""
    return address.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "")


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


def record_read(request, post_id: int) -> Read:
    """Count this request as a read of the post if it is one; return the count to show.

    Raises Post.DoesNotExist for a post that is unknown or not public.
    """
    agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    if is_bot(agent) or is_prefetch(request) or request.user.is_staff:
        return Read(current_count(post_id), counted=False)
    visitor = identify(request)
    seen = f"readers:seen:{post_id}:{visitor.key}"
    # The dedupe: cache.add is atomic (SET NX on Redis), so of two racing requests one wins.
    if not cache.add(seen, 1, timeout=settings.BLOG_READ_WINDOW):
        return Read(current_count(post_id), counted=False, visitor=visitor)
    try:
        if settings.BLOG_READER_BUFFER:
            readers, flush_due = _add_buffered(post_id)
        else:
            readers, flush_due = _add(post_id), False
    except Exception:
        cache.delete(seen)  # nothing was counted: a retry may count
        raise
    if flush_due:
        _start_flush()
    return Read(readers, counted=True, visitor=visitor)


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
    from .tasks import flush_reader_counts

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


# -- the Redis buffer ------------------------------------------------------------------------

# Starts a batch: the pending hash becomes batch:<id> in one atomic step, so an increment lands
# either before (in the batch) or after (in a fresh pending hash), never in between.
_START_BATCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('INCR', KEYS[4])
return 1
"""


@functools.cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url)


@dataclass
class FlushResult:
    batches: int = 0
    reads: int = 0
    posts: set = field(default_factory=set)

    def as_dict(self) -> dict:
        return {"batches": self.batches, "reads": self.reads, "posts": len(self.posts)}


class Buffer:
    """Reads waiting in Redis to be flushed into the database.

    Keys (under BLOG_READER_REDIS_PREFIX): ``pending``, a hash of post id -> reads and
    "id:YYYY-MM-DD" -> reads that day; ``batch:<id>``, a pending hash taken by a flush;
    ``flushing``, the set of batch ids not yet cleaned up; ``renames``, a counter of batches
    started (lets a reader notice a flush that ran while it read); ``flush-due``, the auto-flush
    throttle.
    """

    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix
        self.pending = prefix + "pending"
        self.flushing = prefix + "flushing"
        self.renames = prefix + "renames"
        self.due = prefix + "flush-due"
        self._start_batch = client.register_script(_START_BATCH)

    @classmethod
    def default(cls) -> "Buffer":
        return cls(_redis(settings.REDIS_URL), settings.BLOG_READER_REDIS_PREFIX)

    def batch_key(self, batch_id: str) -> str:
        return f"{self.prefix}batch:{batch_id}"

    def add(self, post_id: int, day: date) -> tuple[int, bool]:
        """Buffer one read; return (count to show, whether an automatic flush is due)."""
        interval = settings.BLOG_READER_FLUSH_INTERVAL
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hincrby(self.pending, str(post_id), 1)
            pipe.hincrby(self.pending, f"{post_id}:{day.isoformat()}", 1)
            pipe.smembers(self.flushing)
            pipe.get(self.renames)
            if interval > 0:
                pipe.set(self.due, 1, nx=True, ex=interval)
            pending, _, flushing, renames, *due = pipe.execute()
        return self._shown(post_id, pending, flushing, renames), bool(due and due[0])

    def shown_count(self, post_id: int) -> int:
        """Database + pending buffer + batches taken by a flush but not yet committed.

        Raises Post.DoesNotExist for a post that is unknown or not public.
        """
        return self._shown(post_id, *self._snapshot(post_id))

    def _snapshot(self, post_id: int):
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hget(self.pending, str(post_id))
            pipe.smembers(self.flushing)
            pipe.get(self.renames)
            return pipe.execute()

    def _shown(self, post_id, pending, flushing, renames) -> int:
        # Redis is read before the database, and the batch counter after it: if a flush started a
        # batch in between, its reads might be both in our Redis snapshot and in the database,
        # so read again (flushes are seconds apart: one retry suffices in practice).
        for _attempt in range(5):
            in_flight = self._in_flight(post_id, flushing)
            applied = {
                f"applied_{n}": Exists(ReadBatch.objects.filter(batch=batch))
                for n, batch in enumerate(in_flight)
            }
            values = (
                Post.objects.published()
                .filter(pk=post_id)
                .annotate(**applied)
                .values("reader_count", *applied)
                .get()
            )
            if self.client.get(self.renames) == renames:
                break
            pending, flushing, renames = self._snapshot(post_id)
        not_applied = sum(
            reads for n, reads in enumerate(in_flight.values()) if not values.get(f"applied_{n}")
        )
        return values["reader_count"] + int(pending or 0) + not_applied

    def _in_flight(self, post_id, flushing) -> dict[str, int]:
        batches = sorted(batch.decode() for batch in flushing)
        if not batches:
            return {}
        with self.client.pipeline(transaction=False) as pipe:
            for batch in batches:
                pipe.hget(self.batch_key(batch), str(post_id))
            return {
                batch: int(reads or 0) for batch, reads in zip(batches, pipe.execute(), strict=True)
            }

    def pending_reads(self) -> int:
        """Reads buffered and not yet in the database (pending and any unfinished batch)."""
        keys = [self.pending] + [
            self.batch_key(b.decode()) for b in self.client.smembers(self.flushing)
        ]
        total = 0
        for key in keys:
            totals, _ = _parse(self.client.hgetall(key))
            total += sum(totals.values())
        return total

    def flush(self) -> FlushResult:
        """Move the buffer into the database, exactly once.

        1. Batches left by a flush that died are picked up first.
        2. The pending hash is renamed to a new batch (atomic; new reads go to a fresh hash).
        3. Each batch is applied in one transaction that also records its id in ReadBatch; a batch
           whose id is already recorded was applied before and is only cleaned up. Two flushes
           running at once are therefore safe: the unique id lets one of them apply a batch.
        4. The batch is deleted from Redis after the commit.
        """
        batches = {batch.decode() for batch in self.client.smembers(self.flushing)}
        batch_id = uuid.uuid4().hex
        keys = [self.pending, self.batch_key(batch_id), self.flushing, self.renames]
        if self._start_batch(keys=keys, args=[batch_id]):
            batches.add(batch_id)
        result = FlushResult()
        for batch in sorted(batches):
            self._apply(batch, result)
        ReadBatch.objects.filter(
            flushed_at__lt=timezone.now() - timedelta(days=_LEDGER_DAYS)
        ).delete()
        return result

    def _apply(self, batch: str, result: FlushResult) -> None:
        totals, days = _parse(self.client.hgetall(self.batch_key(batch)))
        reads = sum(totals.values())
        with transaction.atomic():
            applied = self._record(batch, reads)
            if applied:
                self._write(totals, days)
        self._forget(batch)
        if applied:
            result.batches += 1
            result.reads += reads
            result.posts |= set(totals)

    def _record(self, batch: str, reads: int) -> bool:
        """Claim the batch in the ledger; False if an earlier or concurrent flush applied it."""
        try:
            with transaction.atomic():
                ReadBatch.objects.create(batch=batch, reads=reads)
        except IntegrityError:
            return False
        return True

    def _write(self, totals: dict, days: dict) -> None:
        existing = set(Post.objects.filter(pk__in=totals).values_list("pk", flat=True))
        for post_id in sorted(existing):  # one lock order for every writer
            Post.objects.filter(pk=post_id).update(reader_count=F("reader_count") + totals[post_id])
        for (post_id, day), count in sorted(days.items()):
            if post_id in existing:  # reads of a post deleted since then are dropped
                ReadDay.objects.add(post_id, day, count)

    def _forget(self, batch: str) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.batch_key(batch))
            pipe.srem(self.flushing, batch)
            pipe.execute()


def _parse(raw: dict) -> tuple[dict[int, int], dict[tuple[int, date], int]]:
    totals, days = {}, {}
    for key, value in raw.items():
        post_id, _, day = key.decode().partition(":")
        if day:
            days[int(post_id), date.fromisoformat(day)] = int(value)
        else:
            totals[int(post_id)] = int(value)
    return totals, days


def flush() -> FlushResult:
    """Move buffered reads into the database (nothing to do when reads are stored directly)."""
    if not settings.BLOG_READER_BUFFER:
        return FlushResult()
    return Buffer.default().flush()


def pending_reads() -> int:
    return Buffer.default().pending_reads() if settings.BLOG_READER_BUFFER else 0
