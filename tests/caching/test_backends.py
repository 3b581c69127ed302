"""caching.redis through caching.backends.RedisCache: a hung Redis is waited for once, then skipped
until a trial succeeds; the cache and the reader buffer share one client.

Real redis-server processes of the tests' own, frozen with SIGSTOP (tests/redis_servers.py);
Redis counts every connection it accepts, so the tests see how often the client tried.
"""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from blog import readers
from caching import redis
from caching.backends import RedisCache
from caching.redis import RedisUnavailable
from tests.redis_servers import private_redis  # noqa: F401 (fixture)


def backend(url: str, cooldown: float = 60.0, timeout: float = 0.2) -> RedisCache:
    options = {"socket_timeout": timeout, "cooldown": cooldown}
    return RedisCache(url, {"OPTIONS": options})


def test_a_hung_redis_is_waited_for_once_then_not_tried_until_the_cooldown_ends(private_redis):  # noqa: F811
    cache = backend(private_redis.url)
    before = private_redis.connections_received()
    private_redis.freeze()
    with pytest.raises(RedisTimeoutError):
        cache.get("key")
    for _ in range(5):
        with pytest.raises(RedisUnavailable):
            cache.set("key", 1)
    private_redis.thaw()
    assert private_redis.connections_received() - before - 1 == 1  # only the first call connected
    assert issubclass(RedisUnavailable, RedisConnectionError)  # callers treat it as "Redis down"


def test_after_the_cooldown_one_trial_call_goes_through_and_closes_the_breaker(private_redis):  # noqa: F811
    cache = backend(private_redis.url, cooldown=0.3)
    before = private_redis.connections_received()
    private_redis.freeze()
    with pytest.raises(RedisTimeoutError):
        cache.get("key")
    time.sleep(0.4)
    private_redis.thaw()
    assert cache.add("key", "back") is True  # the trial reaches the thawed Redis
    assert cache._cache.get_client().breaker.open is False
    assert cache.get("key") == "back"  # and everyone may call again
    # The timed-out call and the trial connected; the get reused the trial's connection.
    assert private_redis.connections_received() - before - 1 == 2


def test_a_trial_that_times_out_again_reopens_the_breaker_for_everyone(private_redis):  # noqa: F811
    # A long cooldown: the last call must come within it even on a loaded machine.
    cache = backend(private_redis.url, cooldown=2.0)
    private_redis.freeze()
    with pytest.raises(RedisTimeoutError):
        cache.get("key")
    time.sleep(2.1)
    with pytest.raises(RedisTimeoutError):  # the trial
        cache.get("key")
    with pytest.raises(RedisUnavailable):  # and the breaker is open again
        cache.get("key")
    private_redis.thaw()


def test_a_refused_connection_does_not_open_the_breaker():
    cache = backend("redis://127.0.0.1:1/0")  # nothing listens there: refused at once
    for _ in range(3):
        with pytest.raises(RedisConnectionError) as raised:
            cache.get("key")
        assert not isinstance(raised.value, RedisUnavailable)
    assert cache._cache.get_client().breaker.open is False


def test_one_client_per_redis_shared_by_threads_caches_and_the_reader_buffer(
    private_redis,  # noqa: F811
    settings,
):
    # Django keeps one cache object per thread: they, the limits cache and the reader buffer must
    # share one client (one pool, one breaker).
    settings.REDIS_URL, settings.REDIS_TIMEOUT = private_redis.url, 0.2
    shared = redis.client()
    assert backend(private_redis.url, cooldown=redis.DEFAULT_COOLDOWN)._cache.get_client() is shared
    assert readers.Buffer.default().client is shared
    assert backend("redis://other:1")._cache.get_client() is not shared
    assert backend(private_redis.url)._cache.get_client() is not shared  # another cooldown


def test_the_site_uses_one_guarded_client_with_short_timeouts_when_redis_is_configured():
    code = (
        "import django, json; django.setup(); from django.core.cache import caches; "
        "from blog.readers import Buffer; "
        "clients = {caches[a]._cache.get_client() for a in ('default', 'limits')}; "
        "clients.add(Buffer.default().client); (client,) = clients; "
        "print(json.dumps(client.connection_pool.connection_kwargs, default=str))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_TIMEOUT": "0.5",
           "BLOG_READER_BUFFER": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    options = json.loads(done.stdout)
    assert options["socket_timeout"] == options["socket_connect_timeout"] == 0.5


def test_the_local_object_cache_keeps_values_themselves_and_works_as_a_django_cache():
    from caching.backends import LocalObjectCache

    local = LocalObjectCache("test-local-objects", {"OPTIONS": {"MAX_ENTRIES": 3}})
    local.clear()
    body = {"body": b"x" * 100_000}
    local.set("page", body, 30)
    assert local.get("page") is body  # no pickled copy to decode on every hit
    assert local.add("page", {}, 30) is False and local.add("count", 1, 30) is True
    assert local.incr("count", 2) == 3 and local.get("count") == 3
    local.set("gone", "soon", -1)
    assert local.get("gone", "default") == "default"
    for n in range(5):
        local.set(f"more{n}", n, 30)
    assert len(local._cache) <= 3  # culled like LocMemCache
    assert local.get("more4") == 4
