"""Shared cached fragments and pages, all invalidated at once when public content changes.

The "generation" is the time (ns) of the last change to public content. Every cached key embeds
it, so a change makes every fragment and page stale in one write; an evicted generation key is
re-created with the current time, never with an old value that could revive stale entries.
A failing cache (Redis down) degrades to computing everything, never to an error page.
"""

import logging
import time
from datetime import UTC, datetime

from django.core.cache import cache

GENERATION_KEY = "blog:generation"
logger = logging.getLogger(__name__)


def generation() -> int:
    value = _safely(cache.get, GENERATION_KEY)
    if value is None:
        _safely(cache.add, GENERATION_KEY, time.time_ns(), timeout=None)
        value = _safely(cache.get, GENERATION_KEY) or time.time_ns()
    return value


def last_changed() -> datetime:
    return datetime.fromtimestamp(generation() / 1e9, tz=UTC)


def content_changed() -> None:
    """Call after any change visible on public pages; every cached fragment goes stale at once."""
    _safely(cache.set, GENERATION_KEY, time.time_ns(), timeout=None)


def cached(name: str, compute, timeout: int = 3600):
    """``compute()``'s value, shared across requests until the content changes."""
    key = f"blog:{name}:{generation()}"
    value = _safely(cache.get, key)
    if value is None:
        value = compute()
        _safely(cache.set, key, value, timeout)
    return value


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
