"""A change committed by any process shows on the next request to every server.

Two real gunicorn servers share one database (a SQLite file, as ``make run`` gives; or PostgreSQL
when DATABASE_URL says so), each with the page bodies it served in its own memory: without Redis,
each with its own local-memory cache; with Redis, sharing it as production does. Either way the
content generation is a database row (caching.generation) that each server learns of from the
database, so a change made by ``import_posts``, by ``restore_blog``, by a plain ORM save in a shell
(none of them told of Redis), or through the other server's admin shows on the next request to
each server, on the post page, the home list, the feed and the citation.
"""

import http.client
import http.cookiejar
import re
import urllib.parse
import urllib.request
import uuid

import pytest
import redis

from tests.servers import ServerDatabase

pytestmark = pytest.mark.slow

POST = 30001
REDIS_URL = "redis://127.0.0.1:6379/2"


@pytest.fixture(scope="module", params=["without Redis", "with Redis"])
def cache(request):
    """The servers' settings for their shared cache: none (each its own memory), or Redis."""
    if request.param == "without Redis":
        yield {}
        return
    prefix = f"test-servers-{uuid.uuid4().hex[:8]}"
    yield {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


@pytest.fixture(scope="module")
def database(cache, tmp_path_factory):
    """A fresh database for each cache: the tests change its post."""
    tmp = tmp_path_factory.mktemp("servers")
    database = ServerDatabase(tmp)
    database.seed([{"id": POST, "title": "原来的标题"}], tmp)
    yield database
    database.drop()


@pytest.fixture
def servers(database, cache, tmp_path):
    first = database.serve(tmp_path / "first.log", threads=4, **cache)
    second = database.serve(tmp_path / "second.log", threads=4, **cache)
    yield first, second
    assert first.stop() == 0
    assert second.stop() == 0


PAGES = (f"/archives/{POST}/", "/", "/feed/", f"/archives/{POST}/cite.bib")


def get(origin: str, path: str, opener=None) -> str:
    with (opener or urllib.request.build_opener()).open(origin + path, timeout=30) as response:
        return response.read().decode()


def shown_everywhere(servers, text: str) -> bool:
    return all(text in get(server.origin, path) for server in servers for path in PAGES)


def shell(database, code: str) -> str:
    return database.manage("shell", "--no-imports", "-c", code)


def save_title(database, title: str) -> None:
    shell(
        database,
        "from blog.models import Post; "
        f"post = Post.objects.get(pk={POST}); post.title = {title!r}; post.save()",
    )


def test_changes_from_other_processes_show_on_the_next_request_to_each_server(
    database, servers, tmp_path
):
    for _ in range(2):  # both servers have every page in their own caches
        assert shown_everywhere(servers, "原来的标题")
    # The pages are served from those caches: a row changed behind the models' back is not seen.
    shell(
        database,
        f"from blog.models import Post; Post.objects.filter(pk={POST}).update(title='未经保存')",
    )
    assert not any("未经保存" in get(server.origin, PAGES[0]) for server in servers)

    save_title(database, "在shell里改的标题")  # a plain ORM save in another process
    assert shown_everywhere(servers, "在shell里改的标题")

    source = tmp_path / "posts"
    source.mkdir()
    (source / "post.md").write_text(
        f"---\nid: {POST}\ntitle: 导入改的标题\ndate: 2024-05-13\n---\n正文。\n",
        encoding="utf-8",
    )
    database.manage("import_posts", str(source), "--author", "sujianlin", "-v", "0")
    assert shown_everywhere(servers, "导入改的标题")

    backup = tmp_path / "backup.tar.gz"
    database.manage("backup_blog", str(backup), "--no-media", "-v", "0")
    save_title(database, "备份之后的标题")
    assert shown_everywhere(servers, "备份之后的标题")
    database.manage("restore_blog", str(backup), "--flush", "-v", "0")
    assert shown_everywhere(servers, "导入改的标题")


def test_an_approval_in_one_servers_admin_shows_on_the_other(database, servers):
    first, second = servers
    comment = shell(
        database,
        "from django.contrib.auth import get_user_model; "
        "from blog.comments.workflow import save_numbered; from blog.models import Comment; "
        "get_user_model().objects.filter(username='editor').exists() or "
        "get_user_model().objects.create_superuser('editor', 'e@example.org', 'pw-9d8c7b6a'); "
        f"c = save_numbered(Comment(post_id={POST}, author_name='读者', "
        "email='reader@example.org', body='管理员批准的评论')); print(c.pk)",
    ).strip()
    path = f"/archives/{POST}/"
    for server in servers:
        for _ in range(2):
            assert "管理员批准的评论" not in get(server.origin, path)  # held, and cached

    admin = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def post_form(path: str, fields: dict) -> str:
        page = get(first.origin, path, admin)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(
            first.origin + path, data=data, headers={"Referer": first.origin + path}
        )
        with admin.open(request, timeout=30) as response:
            return response.read().decode()

    post_form("/admin/login/", {"username": "editor", "password": "pw-9d8c7b6a", "next": "/admin/"})
    post_form(
        "/admin/blog/comment/", {"action": "approve", "_selected_action": comment, "index": "0"}
    )
    for server in (second, first):
        assert "管理员批准的评论" in get(server.origin, path)


def test_head_requests_get_headers_and_no_body_from_a_real_server(servers):
    origin = servers[0].origin.removeprefix("http://")
    answers = {}
    for method in ("GET", "HEAD"):
        conn = http.client.HTTPConnection(origin, timeout=30)
        try:
            conn.request(method, f"/archives/{POST}/")
            response = conn.getresponse()
            answers[method] = response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()
    (status, headers, body), (head_status, head_headers, head_body) = answers.values()
    assert status == head_status == 200
    assert head_body == b""
    assert head_headers["ETag"] == headers["ETag"]
    assert head_headers["Content-Length"] == headers["Content-Length"] == str(len(body))
