"""The content generation pushed by Redis (caching/push.py): cache hits need no Redis round trip,
and a change, a crash or a hang of Redis is still seen on the next request."""

import time

import pytest
import redis
from django.core.cache import caches

from blog.models import Post
from caching import push
from caching.generation import CHANNEL
from caching.models import Generation
from tests.factories import PostFactory
from tests.redis_servers import cache_settings, private_redis  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis(settings, private_redis):  # noqa: F811
    """The production cache layout on a Redis of this test's own (its command count is ours)."""
    settings.CACHES = cache_settings(private_redis.url, timeout=0.5, cooldown=0.1) | {
        "local": {"BACKEND": "caching.backends.LocalObjectCache", "LOCATION": "push"}
    }
    yield private_redis
    caches["local"].clear()


def commands(server) -> int:
    stats = server._cli("info", "stats")
    return int(stats.split("total_commands_processed:")[1].split()[0])


def title_shown(client, post, title) -> bool:
    return title in client.get(post.get_absolute_url()).content.decode()


def shown_once_delivered(client, post, title) -> bool:
    """After a PUBLISH: Redis answers the publisher and writes to the subscriber's socket in the
    same event-loop turn, in either order, so on a loaded machine the message may reach this
    process a moment after ``publish()`` returned. The first request after it arrives shows it."""
    for _ in range(20):
        if title_shown(client, post, title):
            return True
        time.sleep(0.05)
    return False


def test_cache_hits_send_no_command_to_redis(client, own_redis):
    post = PostFactory()
    client.get(post.get_absolute_url())  # renders, stores, subscribes
    client.get(post.get_absolute_url())
    before = commands(own_redis)
    started = time.monotonic()
    for _ in range(50):
        assert client.get(post.get_absolute_url()).status_code == 200
    # A liveness PING per PING_EVERY at most (and this INFO query's own count), however long the
    # 50 requests took on a loaded machine: not a command per hit.
    pings = int((time.monotonic() - started) / push.PING_EVERY) + 1
    assert commands(own_redis) - before <= pings + 2


def test_a_change_published_by_another_instance_shows_on_the_next_request(client, own_redis):
    post = PostFactory(title="旧标题")
    for _ in range(2):
        assert title_shown(client, post, "旧标题")
    Post.objects.filter(pk=post.pk).update(title="别的实例改的标题")
    assert title_shown(client, post, "旧标题")  # nothing said the content changed
    # Another process (here: a plain client) publishes a new generation as caching does.
    other = redis.Redis.from_url(own_redis.url)
    assert other.publish(CHANNEL, f"{time.time_ns()} 0") == 1  # this process is subscribed
    assert shown_once_delivered(client, post, "别的实例改的标题")


def test_an_edit_in_this_process_shows_at_once(client, own_redis):
    post = PostFactory(title="旧标题")
    client.get(post.get_absolute_url())
    post.title = "新标题"
    post.save()
    assert title_shown(client, post, "新标题")


def changed_elsewhere(post, title):
    """What another process does to the database when it edits ``post``: the row and the
    generation change; Redis is not told (it is down or hung)."""
    Post.objects.filter(pk=post.pk).update(title=title)
    Generation.objects.update_or_create(pk=1, defaults={"value": time.time_ns(), "due": 0})


# Another process sees only what was committed (on PostgreSQL; SQLite's shared in-memory test
# database would show it anyway): these tests commit.
@pytest.mark.django_db(transaction=True)
def test_while_redis_is_down_a_change_elsewhere_shows_and_pushes_resume_after(client, own_redis):
    post = PostFactory(title="旧标题")
    for _ in range(2):
        assert title_shown(client, post, "旧标题")
    own_redis.stop()
    changed_elsewhere(post, "宕机时改的标题")
    assert title_shown(client, post, "宕机时改的标题")  # the closed socket: the row is read
    own_redis.start()
    time.sleep(push.RETRY)
    assert title_shown(client, post, "宕机时改的标题")  # resubscribed
    Post.objects.filter(pk=post.pk).update(title="恢复后改的标题")
    other = redis.Redis.from_url(own_redis.url)
    assert other.publish(CHANNEL, f"{time.time_ns()} 0") == 1
    assert shown_once_delivered(client, post, "恢复后改的标题")


@pytest.mark.django_db(transaction=True)
def test_a_hung_redis_is_distrusted_once_a_ping_goes_unanswered(client, own_redis, monkeypatch):
    monkeypatch.setattr(push, "PING_EVERY", 0.05)
    monkeypatch.setattr(push, "PATIENCE", 0.3)
    post = PostFactory(title="旧标题")
    for _ in range(2):
        assert title_shown(client, post, "旧标题")
    own_redis.freeze()
    try:
        changed_elsewhere(post, "冻结时改的标题")
        time.sleep(0.1)
        client.get(post.get_absolute_url())  # sends a PING that will not be answered
        time.sleep(0.4)
        assert title_shown(client, post, "冻结时改的标题")
    finally:
        own_redis.thaw()
