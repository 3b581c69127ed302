"""caching.generation: how a process learns that another committed a change, with or without
Redis (PostgreSQL: LISTEN/NOTIFY on a connection of its own; SQLite: PRAGMA data_version).

Changes are committed (transactional_db) by Django's connection, as another process would; the
watch has a connection of its own, as in a server.
"""

import logging
import time

import pytest
from django.core.cache import caches
from django.db import connection, transaction

from blog.models import Post
from caching.generation import DatabaseWatch, content_changed
from tests.conftest import generation_moved_elsewhere, shown_soon
from tests.factories import PostFactory
from tests.redis_servers import cache_settings, private_redis  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def row() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, due FROM caching_generation WHERE id = 1")
        return tuple(cursor.fetchone())


def poll_until(watch, expected, attempts=50):
    """Poll as requests do; a notification crosses a socket, so it may take a moment to arrive."""
    seen = []
    for _ in range(attempts):
        seen.append(watch.poll())
        if seen[-1] == expected:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"never saw {expected}: {seen[-3:]}")


@pytest.fixture
def watch():
    content_changed()  # the row exists
    watch = DatabaseWatch()
    yield watch
    watch.close()


def test_the_row_is_read_once_then_only_changes_are_reported(watch):
    assert watch.poll() == row()  # a new connection: the row
    assert [watch.poll() for _ in range(3)] == [None] * 3  # nothing changed: nothing to learn
    content_changed()
    seen = poll_until(watch, row())
    assert set(seen[:-1]) <= {None}
    assert watch.poll() is None


def test_a_change_is_reported_when_its_transaction_commits_not_before(watch):
    watch.poll()
    with transaction.atomic():
        content_changed()
        assert [watch.poll() for _ in range(3)] == [None] * 3  # not committed: unseen
    poll_until(watch, row())  # the value moved again at commit


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
def test_after_its_connection_is_cut_the_watch_reconnects_and_reads_the_row(watch, caplog):
    """A restarted PostgreSQL closes every connection: notifications sent meanwhile are lost to
    the old one, so the watch reads the row again on its new connection."""
    watch.poll()
    pid = watch._connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    content_changed()
    for _ in range(50):  # the cut shows on the socket as the server closes it
        if watch.poll() is None and "generation failed" in caplog.text:
            break
        time.sleep(0.02)
    assert "reading the content generation failed" in caplog.text
    assert watch.poll() == row()  # a new connection, and the row read over it
    assert watch._connection.info.backend_pid != pid


def test_while_the_database_is_unreachable_its_failure_is_logged_once_not_per_request(
    watch, caplog, monkeypatch
):
    """Every request polls, and with the database down every poll fails: one warning with its
    traceback, not a traceback per request."""
    if connection.vendor == "sqlite":
        monkeypatch.setitem(connection.settings_dict, "NAME", "/nonexistent/blog.sqlite3")
    else:  # nothing listens on port 1
        monkeypatch.setitem(connection.settings_dict, "PORT", "1")
    with caplog.at_level(logging.WARNING, logger="caching.generation"):
        assert [watch.poll() for _ in range(20)] == [None] * 20
    failures = [r for r in caplog.records if r.name == "caching.generation"]
    assert len(failures) == 1 and failures[0].exc_info


@pytest.fixture
def own_redis(settings, private_redis):  # noqa: F811
    """The production cache layout on a Redis of this test's own (its command count is ours)."""
    settings.CACHES = cache_settings(private_redis.url, timeout=0.5, cooldown=0.1)
    yield private_redis
    caches["local"].clear()


def test_with_redis_cache_hits_send_no_command_to_redis(client, own_redis):
    url = PostFactory().get_absolute_url()
    client.get(url)  # renders and stores
    before = own_redis.commands()
    for _ in range(50):
        assert client.get(url).status_code == 200
    assert own_redis.commands() - before == 1  # the second INFO: the generation came from the DB


@pytest.mark.parametrize("fault", ["none", "stopped", "frozen"])
def test_with_redis_a_change_committed_elsewhere_shows_on_the_next_request_whatever_redis_does(
    client, own_redis, fault
):
    post = PostFactory(title="旧标题")
    url = post.get_absolute_url()
    for _ in range(2):
        assert "旧标题" in client.get(url).content.decode()
    Post.objects.filter(pk=post.pk).update(title="别的进程改的标题")
    assert "旧标题" in client.get(url).content.decode()  # nothing said the content changed
    if fault == "stopped":
        own_redis.stop()
    if fault == "frozen":
        own_redis.freeze()
    try:
        generation_moved_elsewhere()  # Redis is not told
        assert shown_soon(client, url, "别的进程改的标题")
    finally:
        if fault == "frozen":
            own_redis.thaw()
