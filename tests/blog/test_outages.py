"""The site with Redis down or hung, or the database gone mid-request: pages, health, the
beacon, comments and logins degrade sanely (found by bench/faults.py, docs/faults.md).

"Down" is a Redis that refuses connections (a closed port, or a stopped server of the test's own);
"hung" is a real redis-server of the test's own frozen with SIGSTOP, which accepts connections and
never answers. Redis counts the connections it accepts, so a test can tell how often the site
tried to reach it.
"""

import logging
import time

import pytest
from axes.models import AccessAttempt
from django.db import OperationalError, connection
from django.urls import reverse

from blog import readers
from blog.models import Comment, ReadDay
from caching import redis, store
from config.logs import Throttled
from tests.accounts.test_login import GOOD_PASSWORD, attempt
from tests.blog.test_comments import form_data, submit
from tests.blog.test_readers import beacon, stored, token
from tests.factories import PostFactory, StaffFactory
from tests.redis_servers import cache_settings, private_redis  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

REFUSED = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture
def redis_down(settings):
    settings.CACHES = cache_settings(REFUSED)


@pytest.fixture
def redis_hung(settings, private_redis):  # noqa: F811
    settings.CACHES = cache_settings(private_redis.url)
    before = private_redis.connections_received()
    private_redis.freeze()

    def attempts() -> int:
        """Connections the site opened while Redis was frozen (thaws it to ask)."""
        private_redis.thaw()
        return private_redis.connections_received() - before - 1

    yield attempts
    private_redis.thaw()


# -- the reader beacon --------------------------------------------------------------------------


def test_the_beacon_answers_503_and_counts_nothing_while_redis_is_down(client, redis_down):
    post = PostFactory(reader_count=100)
    response = beacon(client, post, cookie=token(1))
    assert response.status_code == 503
    assert response.json() == {"error": "reads cannot be counted right now"}
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    assert stored(post) == 100 and not ReadDay.objects.exists()


def test_the_beacon_answers_503_while_redis_hangs_without_waiting_for_it_each_time(
    client, redis_hung
):
    post = PostFactory(reader_count=100)
    answers = [beacon(client, post, cookie=token(n)).status_code for n in range(4)]
    assert answers == [503] * 4
    assert redis_hung() == 1  # the first beacon waited for Redis; the others were refused at once
    assert stored(post) == 100


def test_a_buffered_read_that_redis_refused_is_not_counted_and_counts_once_redis_is_back(
    client,
    settings,
    private_redis,  # noqa: F811
):
    # Dedupe marks in the local cache, the buffer in a Redis of the test's own that is stopped.
    settings.BLOG_READER_BUFFER = True
    settings.BLOG_READER_FLUSH_INTERVAL = 0
    settings.REDIS_URL = private_redis.url
    settings.BLOG_READER_REDIS_PREFIX = "test-outage:readers:"
    post = PostFactory(reader_count=100)
    private_redis.stop()
    assert beacon(client, post, cookie=token(7)).status_code == 503
    private_redis.start()
    # The failed read left no dedupe mark behind: the same reader counts now.
    answer = beacon(client, post, cookie=token(7)).json()
    assert answer["counted"] is True and answer["readers"] == 101


def test_buffered_beacons_wait_for_a_hung_redis_once_then_answer_503_at_once(
    client,
    settings,
    private_redis,  # noqa: F811
):
    """The buffer reaches Redis through the site's client (caching.redis), breaker included: it
    used to make a client of its own, so every beacon waited REDIS_TIMEOUT for a hung Redis."""
    settings.BLOG_READER_BUFFER = True
    settings.BLOG_READER_FLUSH_INTERVAL = 0
    settings.REDIS_URL, settings.REDIS_TIMEOUT = private_redis.url, 0.2
    settings.BLOG_READER_REDIS_PREFIX = "test-outage:readers:"
    post = PostFactory(reader_count=100)
    assert beacon(client, post, cookie=token(1)).json()["readers"] == 101
    before = private_redis.connections_received()
    private_redis.freeze()
    try:
        answers = [beacon(client, post, cookie=token(n)).status_code for n in range(2, 6)]
    finally:
        private_redis.thaw()
    assert answers == [503] * 4
    # The first beacon's call timed out on the pooled connection, which redis-py then closed; the
    # others were refused by the breaker without opening another (this INFO query is the one).
    assert private_redis.connections_received() - before == 1
    time.sleep(redis.DEFAULT_COOLDOWN)  # then one trial call finds Redis back
    readers.flush()
    # The first beacon's script was in Redis's socket when it froze: Redis ran it on waking, so
    # that read counts although its answer was a 503 (a read "in doubt", docs/readers.md). The
    # three refused at once never reached Redis.
    assert stored(post) == 102 and readers.Buffer.default().pending_reads() == 0


def test_a_buffered_read_is_acknowledged_even_when_its_count_cannot_be_read_back(
    client,
    settings,
    private_redis,  # noqa: F811
):
    """bench/faults.py found reads stored but answered 500 while PostgreSQL restarted: the
    increment was in Redis, reading the count back failed, and the dedupe mark was removed as if
    nothing had been counted (so a retry would count the reader twice)."""
    settings.BLOG_READER_BUFFER = True
    settings.BLOG_READER_FLUSH_INTERVAL = 0
    settings.REDIS_URL = private_redis.url
    settings.BLOG_READER_REDIS_PREFIX = "test-outage:readers:"
    post = PostFactory(reader_count=100)

    def database_gone_when_reading_counts(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT") and "reader_count" in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_gone_when_reading_counts):
        response = beacon(client, post, cookie=token(9))
    assert response.status_code == 200
    assert response.json() == {"readers": None, "counted": True, "label": None}
    again = beacon(client, post, cookie=token(9)).json()  # the same reader: not counted again
    assert again == {"readers": 101, "counted": False, "label": "101位读者"}


# -- pages and health ---------------------------------------------------------------------------


def test_pages_render_while_redis_hangs_waiting_for_it_once(client, redis_hung):
    post = PostFactory()
    for url in ["/", post.get_absolute_url(), "/archives/", "/"]:
        assert client.get(url).status_code == 200
    # Each page makes several cache calls (generation, page cache, sidebar): only one waited.
    assert redis_hung() == 1


def test_healthz_reports_a_hung_cache_with_503(client, redis_hung):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error"}


def test_cache_failures_are_logged_with_a_traceback_once_per_interval(
    client, redis_down, caplog, monkeypatch
):
    monkeypatch.setattr(store, "_failures", Throttled(store.logger, "cache %s failed"))
    post = PostFactory()
    with caplog.at_level(logging.WARNING, logger="caching.store"):
        for url in ["/", post.get_absolute_url()]:
            assert client.get(url).status_code == 200
    warnings = [r for r in caplog.records if r.name == "caching.store"]
    assert len(warnings) == 1 and warnings[0].exc_info  # not one per failing call
    monkeypatch.setattr(store._failures, "_last", float("-inf"))  # the interval has passed
    with caplog.at_level(logging.WARNING, logger="caching.store"):
        client.get("/archives/")
    last = [r for r in caplog.records if r.name == "caching.store"][-1]
    assert "more failures since the last warning" in last.getMessage()
    assert last.args[1] > 0  # the failures it did not log are counted


# -- comments and logins ------------------------------------------------------------------------


def test_comments_are_accepted_while_redis_is_down(client, redis_down):
    """The rate limit lives in the cache: without it the comment is let through (and held for
    moderation as usual), not lost to a 500."""
    post = PostFactory()
    response = submit(client, post)
    assert response.status_code == 303
    assert Comment.objects.get().status == Comment.Status.PENDING
    preview = client.post(reverse("blog:comment_preview", args=[post.pk]), {"body": "$x$"})
    assert preview.status_code == 200
    assert form_data(post)["body"] in Comment.objects.get().body


def test_login_lockout_does_not_depend_on_the_cache(client, settings, redis_down):
    """django-axes keeps its attempts in the database (AXES_HANDLER), so a Redis outage neither
    breaks the login page nor lifts a lockout."""
    StaffFactory(username="author")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "author", "wrong").status_code == 200
    assert attempt(client, "author", "wrong").status_code == 429
    assert attempt(client, "author", GOOD_PASSWORD).status_code == 429
    assert AccessAttempt.objects.get(username="author").failures_since_start >= 5
    assert attempt(client, "author", GOOD_PASSWORD, ip="198.51.100.20").status_code == 302
