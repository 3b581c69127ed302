"""Buffered counting (BLOG_READER_BUFFER): reads wait in Redis, a flush moves them exactly once.

Uses the real Redis on 127.0.0.1, database 1, under a key prefix of its own per test.
"""

import re
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import redis
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog import readers
from blog.models import Post, ReadBatch, ReadDay
from blog.readers.tasks import flush_reader_counts
from tests.blog.test_readers import SAME_ORIGIN, beacon, stored, token
from tests.factories import PostFactory
from tests.redis_servers import cache_settings, private_redis  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/1"


@pytest.fixture
def buffer(settings):
    """Buffered counting on the real Redis, with dedupe in a Redis cache (as in production)."""
    prefix = f"test-readers-{uuid.uuid4().hex[:12]}"
    settings.REDIS_URL = REDIS_URL
    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": prefix,
    }
    settings.CACHES = {
        "default": redis_cache,
        "limits": redis_cache,
        "local": {"BACKEND": "caching.backends.LocalObjectCache", "LOCATION": "test-local"},
    }
    settings.BLOG_READER_BUFFER = True
    settings.BLOG_READER_REDIS_PREFIX = f"{prefix}:readers:"
    settings.BLOG_READER_FLUSH_INTERVAL = 0  # no automatic flush unless a test turns it on
    yield readers.Buffer.default()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def calls(server) -> Counter:
    """Calls per command since Redis started (INFO commandstats), INFO's own left out."""
    stats = server._cli("info", "commandstats")
    found = re.findall(r"cmdstat_([\w|]+):calls=(\d+)", stats)
    return Counter({name: int(n) for name, n in found if name != "info"})


def tally(post) -> int:
    return sum(ReadDay.objects.filter(post=post).values_list("count", flat=True))


def test_buffered_reads_wait_in_redis_and_are_shown_as_database_plus_buffer(client, buffer):
    post = PostFactory(reader_count=1000)
    answers = [beacon(client, post, cookie=token(n)).json()["readers"] for n in range(3)]
    assert answers == [1001, 1002, 1003]
    assert stored(post) == 1000 and tally(post) == 0  # nothing written to the database yet
    assert readers.current_count(post.pk) == 1003
    assert buffer.pending_reads() == 3
    assert beacon(client, post, cookie=token(0)).json() == {
        "readers": 1003,
        "counted": False,  # dedupe works through the Redis cache as well
        "label": "1003位读者",
    }


def test_a_flush_moves_every_buffered_read_into_the_database_once(client, buffer):
    first, second = PostFactory(reader_count=10), PostFactory()
    for n in range(5):
        beacon(client, first, cookie=token(n))
    beacon(client, second, cookie=token(99))
    result = readers.flush()
    assert result.as_dict() == {"batches": 1, "reads": 6, "posts": 2}
    assert (stored(first), tally(first), stored(second), tally(second)) == (15, 5, 1, 1)
    assert buffer.pending_reads() == 0
    assert readers.flush().as_dict() == {"batches": 0, "reads": 0, "posts": 0}
    assert (stored(first), readers.current_count(first.pk)) == (15, 15)


def test_reads_arriving_during_a_flush_are_neither_lost_nor_doubled(client, buffer):
    post = PostFactory()
    for n in range(4):
        beacon(client, post, cookie=token(n))
    # A flush has taken the pending reads as a batch but not applied it yet ...
    keys = [buffer.pending, buffer.batch_key("b1"), buffer.flushing, buffer.renames]
    assert buffer._start_batch(keys=keys, args=["b1"]) == 1
    assert readers.current_count(post.pk) == 4
    # ... while new reads arrive in a fresh pending hash.
    assert beacon(client, post, cookie=token(10)).json()["readers"] == 5
    readers.flush()  # picks up the unfinished batch, then the new one
    assert (stored(post), tally(post), readers.current_count(post.pk)) == (5, 5, 5)


class DiesAfterCommit(readers.Buffer):
    def _forget(self, batch, stored):
        raise redis.ConnectionError("killed between the database commit and the Redis cleanup")


class DiesBeforeCommit(readers.Buffer):
    def _write(self, totals, days):
        super()._write(totals, days)
        raise redis.ConnectionError("killed inside the database transaction")


def test_a_flush_that_died_after_committing_is_not_applied_twice(client, buffer):
    post = PostFactory(reader_count=100)
    for n in range(3):
        beacon(client, post, cookie=token(n))
    dying = DiesAfterCommit(buffer.client, buffer.prefix)
    with pytest.raises(redis.ConnectionError):
        dying.flush()
    assert stored(post) == 103  # committed, but the batch is still in Redis ...
    assert buffer.client.scard(buffer.flushing) == 1
    assert readers.current_count(post.pk) == 103  # ... and the ledger keeps it from showing twice
    assert readers.flush().reads == 0
    assert (stored(post), tally(post), buffer.client.scard(buffer.flushing)) == (103, 3, 0)


def test_a_flush_that_died_before_committing_is_applied_by_the_next_one(client, buffer):
    post = PostFactory(reader_count=100)
    for n in range(3):
        beacon(client, post, cookie=token(n))
    with pytest.raises(redis.ConnectionError):
        DiesBeforeCommit(buffer.client, buffer.prefix).flush()
    assert stored(post) == 100 and not ReadBatch.objects.exists()  # rolled back
    assert readers.current_count(post.pk) == 103  # the batch still shows
    assert readers.flush().reads == 3
    assert (stored(post), tally(post), readers.current_count(post.pk)) == (103, 3, 103)


def test_the_shown_count_is_exact_when_a_flush_runs_while_it_is_read(client, buffer):
    post = PostFactory(reader_count=50)
    for n in range(4):
        beacon(client, post, cookie=token(n))

    class FlushInTheMiddle(readers.Buffer):
        flushed = False

        def _in_flight(self, post_id, flushing):
            # Between this reader's Redis snapshot and its database read, a flush runs.
            if not self.flushed:
                self.flushed = True
                readers.Buffer(self.client, self.prefix).flush()
            return super()._in_flight(post_id, flushing)

    reader = FlushInTheMiddle(buffer.client, buffer.prefix)
    assert reader.shown_count(post.pk) == 54
    assert reader.flushed and stored(post) == 54


def test_the_flush_command_reports_and_moves_reads(client, buffer, capsys):
    post = PostFactory()
    beacon(client, post, cookie=token(1))
    call_command("flush_reader_counts", "--dry-run")
    assert "Would flush 1 buffered reads." in capsys.readouterr().out
    assert stored(post) == 0
    call_command("flush_reader_counts")
    assert "Flushed 1 reads of 1 posts in 1 batches." in capsys.readouterr().out
    assert stored(post) == 1


def test_the_flush_command_says_there_is_nothing_to_do_without_a_buffer(capsys):
    call_command("flush_reader_counts")
    assert "nothing to flush" in capsys.readouterr().out


def test_the_flush_runs_as_a_django_task(client, buffer):
    post = PostFactory()
    beacon(client, post, cookie=token(1))
    result = flush_reader_counts.enqueue()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"batches": 1, "reads": 1, "posts": 1}
    assert stored(post) == 1


def test_the_beacon_starts_a_flush_at_most_once_per_interval(client, buffer, settings):
    settings.BLOG_READER_FLUSH_INTERVAL = 60
    post = PostFactory()
    beacon(client, post, cookie=token(1))  # nothing flushed yet this interval: flush now
    assert stored(post) == 1
    beacon(client, post, cookie=token(2))
    beacon(client, post, cookie=token(3))
    assert (stored(post), readers.current_count(post.pk)) == (1, 3)
    assert 0 < buffer.client.ttl(buffer.due) <= 60


def test_unknown_posts_buffer_nothing(client, buffer):
    draft = PostFactory(status=Post.Status.DRAFT)
    for pk in (draft.pk, 999999, 10**22):
        response = client.post(reverse("blog:post_read", args=[pk]), **SAME_ORIGIN)
        assert response.status_code == 404
    assert buffer.pending_reads() == 0


def test_reads_of_a_post_deleted_before_the_flush_are_dropped(client, buffer):
    kept, deleted = PostFactory(), PostFactory()
    beacon(client, kept, cookie=token(1))
    beacon(client, deleted, cookie=token(1))
    deleted.delete()
    assert readers.flush().reads == 2
    assert (stored(kept), tally(kept)) == (1, 1)


def test_dedupe_marks_expire_after_24_hours_in_redis(client, buffer):
    post = PostFactory()
    beacon(client, post, cookie=token(1))
    keys = list(buffer.client.scan_iter(f"{buffer.prefix.split(':')[0]}*readers:seen:*"))
    assert len(keys) == 1
    assert 24 * 3600 - 60 < buffer.client.ttl(keys[0]) <= 24 * 3600


def test_old_ledger_rows_are_pruned(buffer):
    old = ReadBatch.objects.create(batch="old", flushed_at=timezone.now() - timedelta(days=8))
    recent = ReadBatch.objects.create(batch="recent", flushed_at=timezone.now() - timedelta(days=6))
    readers.flush()
    assert list(ReadBatch.objects.values_list("batch", flat=True)) == [recent.batch]
    assert not ReadBatch.objects.filter(pk=old.pk).exists()


def test_a_failing_automatic_flush_does_not_fail_the_beacon(client, buffer, settings, monkeypatch):
    settings.BLOG_READER_FLUSH_INTERVAL = 60

    def database_down(self, totals, days):
        raise ConnectionError("database unavailable")

    monkeypatch.setattr(readers.Buffer, "_write", database_down)
    post = PostFactory(reader_count=7)
    response = beacon(client, post, cookie=token(1))
    assert response.json() == {"readers": 8, "counted": True, "label": "8位读者"}
    assert stored(post) == 7 and buffer.pending_reads() == 1  # kept for the next flush
    monkeypatch.undo()
    assert readers.flush().reads == 1
    assert stored(post) == 8


def test_a_buffered_read_is_one_redis_round_trip_and_no_database_query(
    client,
    settings,
    private_redis,  # noqa: F811
):
    prefix = "one-trip:readers:"
    settings.REDIS_URL = private_redis.url
    settings.CACHES = cache_settings(private_redis.url)
    settings.BLOG_READER_BUFFER = True
    settings.BLOG_READER_REDIS_PREFIX = prefix
    settings.BLOG_READER_FLUSH_INTERVAL = 0
    post = PostFactory(reader_count=50)
    beacon(client, post, cookie=token(1))  # the post's stored count is now kept in Redis
    before = calls(private_redis)
    with CaptureQueriesContext(connection) as queries:
        first = beacon(client, post, cookie=token(2)).json()
        repeat = beacon(client, post, cookie=token(2)).json()
    assert (first["readers"], first["counted"]) == (52, True)
    assert (repeat["readers"], repeat["counted"]) == (52, False)
    assert len(queries) == 0
    sent = calls(private_redis) - before
    # Each beacon is one script; what runs inside it (SET NX, INCR, HINCRBY, HGET...) is counted
    # by Redis too, so only commands a client can send are listed here.
    assert sent["evalsha"] == 2
    assert [sent[name] for name in ("get", "hsetnx", "ping", "multi", "exec")] == [0] * 5
    call_command("flush_reader_counts", verbosity=0)
    assert stored(post) == 52
