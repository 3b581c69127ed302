"""Cached pages stay correct across instances: two gunicorn servers, one database, one Redis.

Each server keeps the page bodies it served in its own memory; the content generation lives in
Redis. A change made outside both servers (here by ``manage.py shell``, as the admin of a third
instance would) shows on the next request to either of them.
"""

import http.client
import sqlite3
import uuid
from contextlib import closing

import psycopg
import pytest
import redis

from tests.servers import ServerDatabase

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/2"
POST = 20001


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pagecache-servers")
    database = ServerDatabase(tmp)
    database.seed([{"id": POST, "title": "原来的标题"}], tmp)
    yield database
    database.drop()


@pytest.fixture
def servers(database, tmp_path):
    prefix = f"test-pagecache-servers-{uuid.uuid4().hex[:8]}"
    env = {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    first = database.serve(tmp_path / "first.log", threads=4, **env)
    second = database.serve(tmp_path / "second.log", threads=4, **env)
    yield first, second, env
    assert first.stop() == 0
    assert second.stop() == 0
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def fetch(origin: str, path: str, method: str = "GET"):
    conn = http.client.HTTPConnection(origin.removeprefix("http://"), timeout=30)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def execute(database, sql: str) -> None:
    """Change rows behind the models' back (no signal, no new generation)."""
    if database.vendor == "sqlite":
        with closing(sqlite3.connect(database.path, timeout=30)) as conn, conn:
            conn.execute(sql)
    else:
        with psycopg.connect(database.url) as conn:
            conn.execute(sql)


def shell(database, env, code: str) -> str:
    return database.manage("shell", "--no-imports", "-c", code, **env)


def test_an_edit_and_an_approval_through_a_third_process_show_on_both_servers(database, servers):
    first, second, env = servers
    path = f"/archives/{POST}/"
    for server in (first, second):
        fetch(server.origin, path)
        assert "原来的标题" in fetch(server.origin, path)[2]
    # Both serve the page from their caches: a row changed behind the models' back is not seen.
    execute(database, f"UPDATE blog_post SET title = '未经保存的标题' WHERE id = {POST}")
    assert database.scalar("SELECT count(*) FROM blog_post WHERE title = '未经保存的标题'") == 1
    for server in (first, second):
        assert "原来的标题" in fetch(server.origin, path)[2]

    shell(
        database,
        env,
        "from blog.models import Post; "
        f"post = Post.objects.get(pk={POST}); post.title = '改过的标题'; post.save()",
    )
    for server in (second, first):
        assert "改过的标题" in fetch(server.origin, path)[2]

    comment = shell(
        database,
        env,
        "from blog.comments.workflow import save_numbered; from blog.models import Comment; "
        f"c = save_numbered(Comment(post_id={POST}, author_name='读者', "
        "email='new@example.org', body='一条新的评论')); print(c.pk)",
    ).strip()
    for server in (first, second):
        assert "一条新的评论" not in fetch(server.origin, path)[2]  # held for moderation
    shell(
        database,
        env,
        "from blog.comments.workflow import approve; from blog.models import Comment; "
        f"approve(Comment.objects.filter(pk={comment}))",
    )
    for server in (second, first):
        assert "一条新的评论" in fetch(server.origin, path)[2]


def test_head_requests_get_headers_and_no_body_from_a_real_server(servers):
    first, _, _ = servers
    path = f"/archives/{POST}/"
    status, headers, body = fetch(first.origin, path)
    head_status, head_headers, head_body = fetch(first.origin, path, method="HEAD")
    assert status == head_status == 200
    assert head_body == ""
    assert head_headers["ETag"] == headers["ETag"]
    assert head_headers["Content-Length"] == headers["Content-Length"] == str(len(body.encode()))
