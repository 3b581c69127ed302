"""The one way the site reaches Redis: one client per server and process, short timeouts, a breaker.

Everything that talks to Redis takes its client from ``client()``: the cache backend
(``caching.backends.RedisCache``, which the ``default`` and ``limits`` caches use) and the reader
buffer (``blog.readers.buffer``). They share one connection pool per server, and one failure
policy:

- a connection or a reply is given up after ``timeout`` seconds (``REDIS_TIMEOUT``, 1 s by
  default, instead of redis-py's 5 s), and never retried: a refused connection fails at once;
- after a call timed out, Redis is treated as down in this process for ``cooldown`` seconds
  (2 s): every command and pipeline fails at once with ``RedisUnavailable`` (a
  ``redis.ConnectionError``, so callers handle it like a refused connection). After the cooldown
  one call is let through as a trial; if it succeeds Redis is back, if it times out again the
  cooldown starts over. Only timeouts trip it: a refused connection fails fast anyway.

Why: a Redis that *hangs* (a stopped process, a full network buffer, a partition) made each call
wait for the socket timeout, and a page makes several; bench/faults.py measured pages taking more
than 10 s. With the breaker, one request per process and cooldown waits; the others get on with
it (pages are computed, the beacon answers 503, the comment limit lets the comment through).

A ``redis.Redis`` is safe to share between threads; redis-py's pool notices a fork and starts
afresh in the child, so gunicorn workers do not share sockets.
"""

import threading
import time

import redis as redis_py
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.client import Pipeline as _Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

DEFAULT_COOLDOWN = 2.0


class RedisUnavailable(RedisConnectionError):
    """Redis timed out recently: the call was not even tried."""


class Breaker:
    """Open for ``cooldown`` seconds after a timeout, then one trial call at a time."""

    def __init__(self, cooldown: float):
        self.cooldown = cooldown
        self.open = False
        self._retry_at = 0.0
        self._lock = threading.Lock()

    def call(self, operation, *args, **kwargs):
        if self.open:
            with self._lock:
                now = time.monotonic()
                if now < self._retry_at:
                    raise RedisUnavailable("Redis timed out recently; not trying again yet")
                self._retry_at = now + self.cooldown  # this call is the trial; the others wait
        try:
            result = operation(*args, **kwargs)
        except RedisTimeoutError:
            with self._lock:
                self.open = True
                self._retry_at = time.monotonic() + self.cooldown
            raise
        self.open = False
        return result


class Client(redis_py.Redis):
    """``redis.Redis`` whose every command (scripts included) and pipeline passes the breaker."""

    breaker: Breaker

    def execute_command(self, *args, **options):
        return self.breaker.call(super().execute_command, *args, **options)

    def pipeline(self, transaction=True, shard_hint=None) -> "Pipeline":
        return Pipeline(self, transaction, shard_hint)


class Pipeline(_Pipeline):
    def __init__(self, client: Client, transaction, shard_hint):
        super().__init__(client.connection_pool, client.response_callbacks, transaction, shard_hint)
        self.breaker = client.breaker

    def execute(self, raise_on_error: bool = True):
        return self.breaker.call(super().execute, raise_on_error)


_clients: dict[tuple, Client] = {}
_clients_lock = threading.Lock()


def client(url: str = "", *, timeout: float | None = None, cooldown: float | None = None) -> Client:
    """This process's client for ``url`` (default ``REDIS_URL``), made once per url, timeout
    (default ``REDIS_TIMEOUT``) and cooldown (default 2 s)."""
    key = (
        url or settings.REDIS_URL,
        settings.REDIS_TIMEOUT if timeout is None else timeout,
        DEFAULT_COOLDOWN if cooldown is None else cooldown,
    )
    found = _clients.get(key)
    if found is None:
        with _clients_lock:
            found = _clients.get(key)
            if found is None:
                url, timeout, cooldown = key
                pool = redis_py.ConnectionPool.from_url(
                    url, socket_timeout=timeout, socket_connect_timeout=timeout
                )
                found = Client(connection_pool=pool)
                found.breaker = Breaker(cooldown)
                _clients[key] = found
    return found


@receiver(setting_changed)
def _forget_clients(*, setting, **kwargs):
    """Tests point the site at other Redis servers: start from fresh clients and breakers."""
    if setting in {"CACHES", "REDIS_URL", "REDIS_TIMEOUT"}:
        with _clients_lock:
            for found in _clients.values():
                found.connection_pool.disconnect()
            _clients.clear()
