"""Redis servers of a test's own (real redis-server processes on free ports), so that a test can
stop or freeze one without touching the Redis every other test shares."""

import pytest

from bench.faults import PrivateRedis


class TestRedis(PrivateRedis):
    __test__ = False  # not a test class

    def commands(self) -> int:
        """Commands Redis has processed since it started (this query's own included)."""
        stats = self._cli("info", "stats")
        return int(stats.split("total_commands_processed:")[1].split()[0])

    def connections_received(self) -> int:
        """Connections Redis has accepted since it started (this query's own included)."""
        stats = self._cli("info", "stats")
        return int(stats.split("total_connections_received:")[1].split()[0])


@pytest.fixture
def private_redis(tmp_path):
    server = TestRedis(tmp_path)
    yield server
    server.close()


def cache_settings(url: str, *, timeout: float = 0.2, cooldown: float = 60.0) -> dict:
    """CACHES for the production backend (caching.backends.RedisCache) at ``url``, with short
    timeouts so that a test waiting for a hung Redis stays quick. Rate limits in the same Redis,
    as in production."""
    redis_cache = {
        "BACKEND": "caching.backends.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "test-outage",
        "OPTIONS": {"socket_timeout": timeout, "cooldown": cooldown},
    }
    return {
        "default": redis_cache,
        "limits": redis_cache,
        "local": {"BACKEND": "caching.backends.LocalObjectCache", "LOCATION": "test-local"},
    }
