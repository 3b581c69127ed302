"""The cache backends: Django's Redis backend on the site's one Redis client, and a local-memory
cache that keeps values unpickled."""

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

from . import redis


class RedisCacheClient(django_redis.RedisCacheClient):
    """Takes its ``redis.Redis`` from ``caching.redis.client()`` (timeouts, breaker, one pool per
    server and process) instead of building one around a pool of its own for every operation
    (Django's way; with redis-py 8 that construction cost about 190 µs, more than the round trip,
    and each thread's cache object had its own pool)."""

    def __init__(self, servers, socket_timeout=None, cooldown=None, **options):
        super().__init__(servers, **options)
        self._client_options = {"timeout": socket_timeout, "cooldown": cooldown}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        return redis.client(self._servers[index], **self._client_options)


class RedisCache(django_redis.RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` through ``caching.redis``.

    OPTIONS: ``socket_timeout`` (seconds, for connecting and for each reply; default
    ``REDIS_TIMEOUT``), ``cooldown`` (seconds, default 2), and Django's ``serializer``.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient


class LocalObjectCache(LocMemCache):
    """Django's local-memory cache without pickling: it keeps the values themselves.

    For each process's copies of page bodies and fragments (caching/pages.py): large values that
    are never modified once stored (bytes, str, the page entries), read on every cache hit, where
    unpickling a copy of a page of a few hundred KB cost more than sending it. Only for values
    nobody mutates after storing them. Keys are not validated (Django's check, meant for keys
    memcached would refuse, walks the key character by character and cost as much as the lookup):
    the site makes them itself.
    """

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._set(key, value, timeout)
                return True
            return False

    def get(self, key, default=None, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            self._cache.move_to_end(key, last=False)
            return self._cache[key]

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            self._set(key, value, timeout)

    def incr(self, key, delta=1, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            value = self._cache[key] = self._cache[key] + delta
            self._cache.move_to_end(key, last=False)
        return value
