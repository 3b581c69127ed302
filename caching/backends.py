"""Django's Redis cache backend, made safe against a Redis that hangs.

A Redis that is down refuses connections at once, and every caller already copes with that: the
page and fragment caches compute instead (caching/store.py), the reader beacon answers 503, the
comment rate limit lets the comment through. A Redis that *hangs* (a stopped process, a full
network buffer, a partition) is worse: each cache call waits for the socket timeout, a page makes
several of them, and the gunicorn threads fill with requests that wait. bench/faults.py measured
it: with Redis frozen, pages took more than 10 s.

So this backend

- gives up on a connection or a reply after ``socket_connect_timeout`` / ``socket_timeout``
  seconds (``REDIS_TIMEOUT``, 1 s by default, instead of redis-py's 5 s), and
- after a call timed out, treats Redis as down in this process for ``cooldown`` seconds (2 s):
  calls fail at once with ``CacheUnavailable`` (a ``redis.ConnectionError``, so callers handle it
  like a refused connection). After the cooldown one call is let through as a trial; if it
  succeeds Redis is back, if it times out again the cooldown starts over. Only timeouts trip it: a
  refused connection fails fast anyway, and tripping on it would only delay the recovery.

The state is per process and per Redis location, shared by the threads (Django keeps one cache
object per thread).
"""

import functools
import threading
import time

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

DEFAULT_COOLDOWN = 2.0


class CacheUnavailable(RedisConnectionError):
    """Redis timed out recently: the call was not even tried."""


class Breaker:
    """Open for ``cooldown`` seconds after a timeout, then one trial call at a time."""

    def __init__(self, cooldown: float):
        self.cooldown = cooldown
        self.open = False
        self._retry_at = 0.0
        self._lock = threading.Lock()

    def before_call(self) -> None:
        if not self.open:
            return
        with self._lock:
            now = time.monotonic()
            if now < self._retry_at:
                raise CacheUnavailable("Redis timed out recently; not trying again yet")
            self._retry_at = now + self.cooldown  # this call is the trial; the others wait

    def succeeded(self) -> None:
        self.open = False

    def timed_out(self) -> None:
        with self._lock:
            self.open = True
            self._retry_at = time.monotonic() + self.cooldown


_breakers: dict[tuple, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(servers, cooldown: float) -> Breaker:
    key = (tuple(servers), cooldown)
    with _breakers_lock:
        return _breakers.setdefault(key, Breaker(cooldown))


def _guarded(operation):
    @functools.wraps(operation)
    def call(self, *args, **kwargs):
        self.breaker.before_call()
        try:
            result = operation(self, *args, **kwargs)
        except RedisTimeoutError:
            self.breaker.timed_out()
            raise
        self.breaker.succeeded()
        return result

    return call


class RedisCacheClient(django_redis.RedisCacheClient):
    """Reuses one ``redis.Redis`` per server. Django's ``get_client`` builds a new one around the
    shared connection pool for every operation; with redis-py 8 that construction (its table of
    response callbacks) costs about 190 µs, more than the round trip itself (measured: two thirds
    of a page-cache hit). A ``redis.Redis`` is safe to share between threads."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._pool_at(index)
            client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client

    def _pool_at(self, index):
        # Django's _get_connection_pool() picks a random read server itself; this takes the one
        # get_client() chose.
        if index not in self._pools:
            self._pools[index] = self._pool_class.from_url(
                self._servers[index], **self._pool_options
            )
        return self._pools[index]


class GuardedRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, cooldown: float = DEFAULT_COOLDOWN, **options):
        super().__init__(servers, **options)
        self.breaker = breaker_for(servers, cooldown)


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr",
              "set_many", "delete_many", "clear"):  # fmt: skip
    setattr(GuardedRedisCacheClient, _name, _guarded(getattr(RedisCacheClient, _name)))


class RedisCache(django_redis.RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with short timeouts and the breaker.

    OPTIONS: ``socket_timeout`` and ``socket_connect_timeout`` (seconds, passed to redis-py),
    ``cooldown`` (seconds), and anything else Django's backend takes.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = GuardedRedisCacheClient


class LocalObjectCache(LocMemCache):
    """Django's local-memory cache without pickling: it keeps the values themselves.

    For each process's copies of page bodies and fragments (caching/pages.py): large values that
    are never modified once stored (bytes, str, the page entries), read on every cache hit, where
    unpickling a copy of a page of a few hundred KB cost more than sending it. Only for values
    nobody mutates after storing them.
    """

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._set(key, value, timeout)
                return True
            return False

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            self._cache.move_to_end(key, last=False)
            return self._cache[key]

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            self._set(key, value, timeout)

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            value = self._cache[key] = self._cache[key] + delta
            self._cache.move_to_end(key, last=False)
        return value
