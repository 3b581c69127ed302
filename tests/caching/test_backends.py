"""caching.backends.RedisCache: a hung Redis is waited for once, then skipped until a trial succeeds.

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

from caching.backends import CacheUnavailable, RedisCache
from tests.redis_servers import private_redis  # noqa: F401 (fixture)


def backend(url: str, cooldown: float = 60.0, timeout: float = 0.2) -> RedisCache:
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "cooldown": cooldown}
    return RedisCache(url, {"OPTIONS": options})


def test_a_hung_redis_is_waited_for_once_then_not_tried_until_the_cooldown_ends(private_redis):  # noqa: F811
    cache = backend(private_redis.url)
    before = private_redis.connections_received()
    private_redis.freeze()
    with pytest.raises(RedisTimeoutError):
        cache.get("key")
    for _ in range(5):
        with pytest.raises(CacheUnavailable):
            cache.set("key", 1)
    private_redis.thaw()
    assert private_redis.connections_received() - before - 1 == 1  # only the first call connected
    assert issubclass(CacheUnavailable, RedisConnectionError)  # callers treat it as "Redis down"


def test_after_the_cooldown_one_trial_call_goes_through_and_closes_the_breaker(private_redis):  # noqa: F811
    cache = backend(private_redis.url, cooldown=0.3)
    before = private_redis.connections_received()
    private_redis.freeze()
    with pytest.raises(RedisTimeoutError):
        cache.get("key")
    time.sleep(0.4)
    private_redis.thaw()
    assert cache.add("key", "back") is True  # the trial reaches the thawed Redis
    assert cache._cache.breaker.open is False
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
    with pytest.raises(CacheUnavailable):  # and the breaker is open again
        cache.get("key")
    private_redis.thaw()


def test_a_refused_connection_does_not_open_the_breaker():
    cache = backend("redis://127.0.0.1:1/0")  # nothing listens there: refused at once
    for _ in range(3):
        with pytest.raises(RedisConnectionError) as raised:
            cache.get("key")
        assert not isinstance(raised.value, CacheUnavailable)
    assert cache._cache.breaker.open is False


def test_processes_share_one_breaker_per_redis_across_threads(private_redis):  # noqa: F811
    # Django keeps one cache object per thread: the breaker must be shared by all of them.
    assert backend(private_redis.url)._cache.breaker is backend(private_redis.url)._cache.breaker
    assert (
        backend(private_redis.url)._cache.breaker is not backend("redis://other:1")._cache.breaker
    )


def test_the_site_uses_the_guarded_backend_with_short_timeouts_when_redis_is_configured():
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CACHES['default']))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_TIMEOUT": "0.5"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    default = json.loads(done.stdout)
    assert default["BACKEND"] == "caching.backends.RedisCache"
    assert default["OPTIONS"] == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


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
