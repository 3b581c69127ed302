"""The one way to keep what was computed until the content changes: two tiers, fail-safe.

A value is looked up in this process's own memory first (the ``local`` cache,
``caching.backends.LocalObjectCache``: kept unpickled, no round trip), then in the cache every
process shares (``default``, when it is Redis), and computed only when neither has it; it is then
kept in both. Keys hold the content generation (``cached``), so neither tier ever serves a value
after the content changed. A cache that fails (Redis down or hung) is skipped and logged, never
an error: the value is computed.

Values are shared by concurrent requests: treat them as read-only (copy a model instance first).
"""

import logging

from django.core.cache import caches

from config.logs import Throttled

from .backends import RedisCache
from .generation import generation

LOCAL = "local"
logger = logging.getLogger(__name__)


def cached(name: str, compute, timeout: int = 3600):
    """``compute()``'s value until the content changes (None is not kept)."""
    return get_or_compute(f"blog:{name}:{generation()}", compute, timeout)


def get_or_compute(key: str, compute, timeout: int):
    value = get(key)
    if value is None:
        value = compute()
        if value is not None:
            put(key, value, timeout)
    return value


def get(key: str):
    local = caches[LOCAL]
    value = local.get(key)
    if value is None:
        shared = _shared()
        if shared is not None:
            value = _safely(shared.get, key)
            if value is not None:
                local.set(key, value)
    return value


def put(key: str, value, timeout: int) -> None:
    caches[LOCAL].set(key, value, timeout)
    shared = _shared()
    if shared is not None:
        _safely(shared.set, key, value, timeout)


def _shared():
    """The cache all processes share: ``default`` when it is Redis (a process-local default
    would only hold a second copy of what ``local`` has)."""
    shared = caches["default"]
    return shared if isinstance(shared, RedisCache) else None


# While Redis is down every page makes several failing calls.
_failures = Throttled(logger, "cache %s failed")


def _safely(operation, *args, **kwargs):
    try:
        return operation(*args, **kwargs)
    except Exception:  # the cache is an optimisation: a broken one must not break pages
        _failures.warn(operation.__name__)
        return None
