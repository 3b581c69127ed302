"""Site-wide cached fragments, invalidated by bumping one generation number on any content change."""

from django.core.cache import cache

GENERATION_KEY = "blog:generation"


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return value


def content_changed() -> None:
    """Call after any change visible on public pages; every cached fragment goes stale at once."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, timeout=None)


def cached(name: str, compute, timeout: int = 3600):
    """``compute()``'s value, shared across requests until the content changes."""
    return cache.get_or_set(f"blog:{name}:{generation()}", compute, timeout)
