"""Cached public pages stay correct: edits show at once, private requests bypass, 304s work."""

import gzip
import uuid
from datetime import timedelta

import pytest
import redis
import time_machine
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog.comments import spam
from blog.comments.workflow import TRUST_COOKIE, approve
from blog.models import Comment, Post
from caching import pages
from caching.generation import generation
from tests.conftest import generation_moved_elsewhere, shown_soon
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    PostFactory,
    SeriesFactory,
    trust_cookie,
)

pytestmark = pytest.mark.django_db


def old_token(post, seconds=10):
    with time_machine.travel(timezone.now() - timedelta(seconds=seconds)):
        return spam.form_token(post.pk)


def get(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, len(queries)


def test_second_anonymous_view_is_served_from_the_cache_without_queries(client):
    post = PostFactory()
    first, first_queries = get(client, post.get_absolute_url())
    second, second_queries = get(client, post.get_absolute_url())
    assert first_queries > 0 and second_queries == 0
    assert first.content == second.content


def test_an_edit_shows_on_the_next_request(client):
    post = PostFactory(title="旧标题")
    client.get("/")
    client.get(post.get_absolute_url())
    post.title = "新标题"
    post.save()
    assert "新标题" in client.get(post.get_absolute_url()).content.decode()
    assert "新标题" in client.get("/").content.decode()


def test_a_series_change_shows_on_its_posts(client):
    series = SeriesFactory(title="旧系列名")
    post = PostFactory(series=series, series_part=1)
    client.get(post.get_absolute_url())
    series.title = "新系列名"
    series.save()
    assert "新系列名" in client.get(post.get_absolute_url()).content.decode()


def test_public_pages_send_validators_and_a_shared_cache_policy(client):
    post = PostFactory()
    response = client.get(post.get_absolute_url())
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]


def test_conditional_requests_get_304(client):
    post = PostFactory()
    response = client.get(post.get_absolute_url())
    again = client.get(post.get_absolute_url(), headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    since = client.get(
        post.get_absolute_url(), headers={"if-modified-since": response["Last-Modified"]}
    )
    assert since.status_code == 304


def test_etag_changes_when_the_page_changes(client):
    post = PostFactory()
    etag = client.get(post.get_absolute_url())["ETag"]
    post.body = "新的正文\n"
    post.save()
    response = client.get(post.get_absolute_url(), headers={"if-none-match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_logged_in_staff_bypass_the_cache_and_get_private_responses(client, staff_client):
    post = PostFactory(title="原标题")
    client.get(post.get_absolute_url())
    type(post).objects.filter(pk=post.pk).update(title="未经save的修改")  # no invalidation
    assert "原标题" in client.get(post.get_absolute_url()).content.decode()  # anonymous: cached
    response = staff_client.get(post.get_absolute_url())
    assert "未经save的修改" in response.content.decode()
    assert "private" in response["Cache-Control"]


def test_pages_for_a_reader_with_messages_are_private_and_not_cached(client):
    post = PostFactory()
    trusted = CommentFactory(post=post, email="known@example.org")
    client.cookies[TRUST_COOKIE] = trust_cookie(trusted)  # a trusted commenter: published at once
    data = {
        "author_name": "张三",
        "email": "known@example.org",
        "website": "",
        "body": "又来了",
        "token": old_token(post),
        "subject": "",
        "reply_to": "",
    }
    client.post(reverse("blog:comment_create", args=[post.pk]), data)
    with_message = client.get(post.get_absolute_url())
    assert "private" in with_message["Cache-Control"]
    assert "你的评论 #2 已发布。" in with_message.content.decode()
    other = Client().get(post.get_absolute_url())
    assert "public" in other["Cache-Control"]
    assert "你的评论 #2 已发布。" not in other.content.decode()


def test_not_found_pages_are_not_cached(client):
    response = client.get("/archives/424242/")
    assert response.status_code == 404
    post = PostFactory(pk=424242)
    assert client.get(post.get_absolute_url()).status_code == 200


def test_templates_version_follows_template_contents(settings, tmp_path):
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "base.html"
    page.write_text("one")
    settings.BASE_DIR = tmp_path
    pages.templates_version.cache_clear()
    try:
        before = pages.templates_version()
        page.write_text("two")
        pages.templates_version.cache_clear()
        assert pages.templates_version() != before
    finally:
        pages.templates_version.cache_clear()


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "caching.backends.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
        "local": {"BACKEND": "caching.backends.LocalObjectCache", "LOCATION": "broken"},
    }
)
def test_a_broken_cache_degrades_to_uncached_pages_not_errors(client):
    post = PostFactory()
    CommentFactory(post=post, body="缓存坏了也要显示的评论")
    assert client.get("/").status_code == 200
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert "缓存坏了也要显示的评论" in response.content.decode()  # the thread part
    assert "widget-recent-comments" in response.content.decode()  # the sidebar part


def test_cached_downloads_keep_their_headers(client):
    post = PostFactory()
    first = client.get(f"{post.get_absolute_url()}cite.bib")
    second = client.get(f"{post.get_absolute_url()}cite.bib")
    assert second.content == first.content
    assert second["Content-Disposition"] == first["Content-Disposition"]
    assert second["Content-Type"] == first["Content-Type"] == "application/x-bibtex; charset=utf-8"


def test_an_approved_comment_shows_on_the_next_request_and_a_held_one_does_not(client):
    post = PostFactory()
    url = post.get_absolute_url()
    client.get(url)
    held = CommentFactory(post=post, body="等待审核的评论", status=Comment.Status.PENDING)
    response, queries = get(client, url)
    assert "等待审核的评论" not in response.content.decode()
    assert queries == 0  # a held comment changes no public page: still the cached one
    approve(Comment.objects.filter(pk=held.pk))
    assert "等待审核的评论" in client.get(url).content.decode()
    assert "等待审核的评论" in client.get("/feed/comments/").content.decode()


def test_a_scheduled_post_shows_everywhere_as_soon_as_its_time_comes(client, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    PostFactory(title="早已发布")
    scheduled = PostFactory(title="定时发布的文章", published_at=start + timedelta(minutes=2))
    assert "定时发布的文章" not in client.get("/").content.decode()
    time_machine.move_to(start + timedelta(minutes=1, seconds=59), tick=False)
    assert "定时发布的文章" not in client.get("/").content.decode()
    # Well within BLOG_PAGE_CACHE_SECONDS (300): no entry expired, nothing was saved.
    time_machine.move_to(start + timedelta(minutes=2, seconds=1), tick=False)
    home = client.get("/").content.decode()
    assert home.count("定时发布的文章") == 2  # the list and the sidebar's recent posts
    assert client.get(scheduled.get_absolute_url()).status_code == 200
    assert "定时发布的文章" in client.get("/feed/").content.decode()


def test_a_change_that_bypasses_the_models_shows_within_the_cache_lifetime(
    client, settings, time_machine
):
    """The bound for changes made without save() (raw SQL, queryset.update()):
    BLOG_PAGE_CACHE_SECONDS on the server (proxies may add BLOG_PAGE_MAX_AGE)."""
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    post = PostFactory(title="旧标题")
    client.get(post.get_absolute_url())
    Post.objects.filter(pk=post.pk).update(title="绕过模型的新标题")
    time_machine.move_to(start + timedelta(seconds=settings.BLOG_PAGE_CACHE_SECONDS - 1))
    assert "旧标题" in client.get(post.get_absolute_url()).content.decode()
    time_machine.move_to(start + timedelta(seconds=settings.BLOG_PAGE_CACHE_SECONDS + 1))
    assert "绕过模型的新标题" in client.get(post.get_absolute_url()).content.decode()


def test_a_change_in_a_transaction_starts_a_new_generation_again_when_it_commits(
    django_capture_on_commit_callbacks,
):
    """A page rendered between save() and COMMIT read the old rows: it must not outlive the
    commit under the generation that save() started."""
    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        post.title = "事务中的修改"
        post.save()
        during = generation()
    assert generation() != during


def test_head_requests_get_the_page_headers_without_a_body(client):
    post = PostFactory()
    url = post.get_absolute_url()
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] and "public" in head["Cache-Control"]
    page, queries = get(client, url)
    assert queries == 0  # the HEAD stored the whole page
    assert page["ETag"] == head["ETag"]
    assert page["Content-Length"] == head["Content-Length"] == str(len(page.content))
    assert "<article" in page.content.decode()


def test_clients_accepting_gzip_get_the_body_compressed_once_when_it_was_stored(client):
    post = PostFactory(body="正文，带公式 $x^2$。\n\n" * 100)
    url = post.get_absolute_url()
    plain = client.get(url)
    packed = client.get(url, headers={"accept-encoding": "gzip, deflate, br, zstd"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content) / 3
    assert plain["Vary"] == packed["Vary"] == "Accept-Encoding"
    assert packed["ETag"] != plain["ETag"]  # two representations, two validators
    again = client.get(url, headers={"accept-encoding": "gzip", "if-none-match": packed["ETag"]})
    assert again.status_code == 304


def test_cached_pages_carry_the_security_headers_of_rendered_ones(client):
    post = PostFactory()
    rendered, _ = get(client, post.get_absolute_url())
    cached, queries = get(client, post.get_absolute_url())
    assert queries == 0
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "Content-Type",
    ):
        assert cached.get(header) == rendered.get(header) is not None, header


def test_only_public_pages_are_looked_up_in_the_page_cache():
    post = PostFactory()
    for path in ("/", post.get_absolute_url(), "/feed/", "/sitemap.xml", "/series/"):
        assert pages.public_query(path) is not None, path
    for path in ("/robots.txt", "/healthz", f"/archives/{post.pk}/qr.svg", "/admin/", "/nope/"):
        assert pages.public_query(path) is None, path


def test_query_parameters_a_page_does_not_read_share_its_cached_copy(client):
    post = PostFactory()
    first, _ = get(client, post.get_absolute_url() + "?cb=1")
    for junk in ("?cb=2", "?utm_source=x&cb=3", ""):
        response, queries = get(client, post.get_absolute_url() + junk)
        assert queries == 0, junk
        assert response["ETag"] == first["ETag"]
    entries = [key for key in caches["local"]._cache if ":page:" in key]
    assert len(entries) == 1


def test_parameters_a_page_reads_still_make_their_own_page_and_never_carry_junk(client):
    category = CategoryFactory()
    PostFactory.create_batch(12, category=category)
    url = category.get_absolute_url()
    page_two = client.get(url + "?page=2&cb=%22junk%22").content.decode()
    assert "junk" not in page_two
    assert page_two != client.get(url).content.decode()
    # The parameters kept are put in one order: both spellings are one cached page.
    client.get(url + "?to=2099-12&page=1")
    _, queries = get(client, url + "?page=1&to=2099-12")
    assert queries == 0


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_a_cached_page_is_refused_to_a_host_outside_allowed_hosts(client):
    post = PostFactory()
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get(post.get_absolute_url()).status_code == 200  # from the cache
    assert client.get(post.get_absolute_url(), HTTP_HOST="evil.example").status_code == 400
    assert client.get("/feed/", HTTP_HOST="evil.example").status_code == 400


REDIS_URL = "redis://127.0.0.1:6379/2"


@pytest.fixture
def redis_cache():
    """The production cache layout: Redis shared by every instance, page bodies also kept in
    this process's memory."""
    prefix = f"test-pagecache-{uuid.uuid4().hex[:8]}"
    caches_setting = {
        "default": {
            "BACKEND": "caching.backends.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        },
        "local": {"BACKEND": "caching.backends.LocalObjectCache", "LOCATION": prefix},
    }
    with override_settings(CACHES=caches_setting):
        yield caches["default"]
        caches["local"].clear()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


# Another instance sees only what was committed: this test commits.
@pytest.mark.django_db(transaction=True)
def test_with_redis_a_hit_checks_the_shared_generation_so_other_instances_edits_show(
    client, redis_cache
):
    post = PostFactory(title="原标题")
    url = post.get_absolute_url()
    client.get(url)
    assert client.get(url).content.decode().count("原标题") >= 1
    local = caches["local"]
    # The body is kept in this process (beside the parts it was rendered from).
    assert sum(":page:" in key for key in local._cache) == 1
    Post.objects.filter(pk=post.pk).update(title="另一个实例改的标题")
    assert "原标题" in client.get(url).content.decode()  # same generation: served from the cache
    # Another instance saves a post: it writes a new generation and commits; nothing else happens
    # in this process before the next request.
    generation_moved_elsewhere()
    assert shown_soon(client, url, "另一个实例改的标题")


def test_the_redis_backend_reuses_one_client_and_works_as_a_django_cache(redis_cache):
    backend = redis_cache._cache
    assert backend.get_client() is backend.get_client()
    assert backend.get_client(write=True) is backend.get_client()
    redis_cache.set("answer", {"value": 42}, 30)
    redis_cache.set("count", 1, 30)
    assert redis_cache.get("answer") == {"value": 42}
    assert redis_cache.get_many(["answer", "count", "missing"]) == {
        "answer": {"value": 42},
        "count": 1,
    }
    assert redis_cache.incr("count") == 2
    redis_cache.delete("answer")
    assert redis_cache.get("answer") is None


def test_pages_rendered_outside_the_page_cache_reuse_the_cached_thread_and_sidebar(
    staff_client,
):
    post = PostFactory()
    CommentFactory.create_batch(3, post=post, body="一条评论")
    first, first_queries = get(staff_client, post.get_absolute_url())
    second, second_queries = get(staff_client, post.get_absolute_url())
    assert "private" in second["Cache-Control"]  # staff: never the page cache
    assert second_queries < first_queries  # neither the comments nor the sidebar are loaded
    thread = slice(first.content.index(b'<ol class="comment-list">'), None)
    assert second.content.decode().count("一条评论") == first.content.decode().count("一条评论")
    assert first.content[thread].split(b"</ol>")[0] == second.content[thread].split(b"</ol>")[0]
    approved = CommentFactory(post=post, body="新批准的评论")
    assert approved.body in staff_client.get(post.get_absolute_url()).content.decode()
