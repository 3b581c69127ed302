"""Shared cached fragments and pages, all invalidated at once when public content changes.

The "generation" is the time (ns) of the last change to public content. Every cached key embeds
it, so a change makes every fragment and page stale in one write; an evicted generation key is
re-created with the current time, never with an old value that could revive stale entries.

Beside the generation the cache keeps when the next scheduled post goes public: the first request
after that moment starts a new generation, so a scheduled post shows on every page (lists,
sidebar, feeds) on time although nothing was saved then.

A change made inside a transaction bumps the generation twice: at once, and again when the
transaction commits, because a page rendered between the two from the rows not yet committed
would otherwise be cached under the new generation with the old content.

With Redis, every change of the generation is also published, and each process keeps the value
pushed to it (blog/generation_push.py): reading the generation then costs no round trip.

A failing cache (Redis down) degrades to computing everything, never to an error page.
"""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from .generation_push import GenerationSubscription

GENERATION_KEY = "blog:generation:2"  # (generation ns, next scheduled publication ns or 0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
logger = logging.getLogger(__name__)


def generation() -> int:
    subscription = _subscription()
    state = subscription.state() if subscription else None
    if state is None:
        state = _read_state()
        if state is None:  # no working cache: nothing is cached, any fresh value will do
            return time.time_ns()
        if subscription:
            subscription.start()  # Redis answered: from now on it pushes the changes
    value, due = state
    if due and time.time_ns() >= due:
        return _bump()  # a scheduled post has just gone public
    return value


def last_changed() -> datetime:
    return datetime.fromtimestamp(generation() / 1e9, tz=UTC)


def content_changed() -> None:
    """Call after any change visible on public pages; every cached fragment goes stale at once."""
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump)


def cached(name: str, compute, timeout: int = 3600):
    """``compute()``'s value, shared across requests until the content changes."""
    key = f"blog:{name}:{generation()}"
    value = _safely(cache.get, key)
    if value is None:
        value = compute()
        _safely(cache.set, key, value, timeout)
    return value


def cached_here(name: str, compute, timeout: int = 3600):
    """``compute()``'s value until the content changes, kept in this process's own cache (the
    ``pages`` alias: unpickled, no round trip) when there is one, else in the default cache.

    For what a page needs on every request, such as the post page's post. The value may be
    shared by concurrent requests: treat it as read-only (copy a model instance before use).
    A ``None`` value is not kept.
    """
    store = caches["pages"] if "pages" in settings.CACHES else cache
    key = f"blog:{name}:{generation()}"
    value = _safely(store.get, key)
    if value is None:
        value = compute()
        if value is not None:
            _safely(store.set, key, value, timeout)
    return value


def _read_state():
    state = _safely(cache.get, GENERATION_KEY)
    if state is None:
        new = _new_state()
        if _safely(cache.add, GENERATION_KEY, new, timeout=None):
            _publish(new)
        state = _safely(cache.get, GENERATION_KEY)
    return state


def _bump() -> int:
    state = _new_state()
    try:
        cache.set(GENERATION_KEY, state, timeout=None)
    except Exception:  # as in _safely: pages go on, uncached while the cache is broken
        _warn("set")
        return state[0]
    _publish(state)
    return state[0]


_subscriptions: dict[str, GenerationSubscription] = {}
_subscriptions_lock = threading.Lock()


def _subscription() -> GenerationSubscription | None:
    """This process's subscription to the generation channel, when the cache is Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    channel = backend.make_key(GENERATION_KEY)
    subscription = _subscriptions.get(channel)
    if subscription is None:
        with _subscriptions_lock:
            subscription = _subscriptions.get(channel)
            if subscription is None:
                client = backend._cache.get_client(write=True)
                subscription = GenerationSubscription(client, channel, _read_state)
                _subscriptions[channel] = subscription
    return subscription


def _publish(state) -> None:
    subscription = _subscription()
    if subscription is not None:
        _safely(subscription.publish, state)


@receiver(setting_changed)
def _cache_changed(*, setting, **kwargs):
    if setting == "CACHES":
        with _subscriptions_lock:
            for subscription in _subscriptions.values():
                subscription.close()
            _subscriptions.clear()


def _new_state() -> tuple[int, int]:
    from .models import Post  # models import this module's users; import at call time

    now = time.time_ns()
    due = (
        Post.objects.filter(status=Post.Status.PUBLISHED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    return now, (due - EPOCH) // timedelta(microseconds=1) * 1000 if due else 0


# While Redis is down every page makes several failing calls: log the first failure with its
# traceback, then at most one line per WARN_EVERY seconds, with the number left out.
WARN_EVERY = 10.0
_last_warning = float("-inf")
_unlogged = 0


def _safely(operation, *args, **kwargs):
    try:
        return operation(*args, **kwargs)
    except Exception:  # the cache is an optimisation: a broken one must not break pages
        _warn(operation.__name__)
        return None


def _warn(name: str) -> None:
    global _last_warning, _unlogged
    now = time.monotonic()
    if now - _last_warning < WARN_EVERY:
        _unlogged += 1
        return
    logger.warning(
        "cache %s failed (%s more cache failures since the last warning)",
        name,
        _unlogged,
        exc_info=True,
    )
    _last_warning, _unlogged = now, 0
