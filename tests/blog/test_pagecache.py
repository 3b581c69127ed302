"""Cached public pages stay correct: edits show at once, private requests bypass, 304s work."""

import pytest
from django.contrib import messages
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from blog import pagecache
from tests.factories import PostFactory, SeriesFactory

pytestmark = pytest.mark.django_db


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


def test_responses_carrying_messages_are_not_cached(rf, client):
    post = PostFactory()

    @pagecache.public_page
    def view(request):
        messages.success(request, "评论已提交")
        from django.http import HttpResponse

        return HttpResponse("with message")

    from django.contrib.messages.storage.fallback import FallbackStorage

    request = rf.get(post.get_absolute_url())
    request.session = {}
    request._messages = FallbackStorage(request)
    response = view(request)
    assert "private" in response["Cache-Control"]
    assert client.get(post.get_absolute_url()).content != b"with message"


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
    pagecache.templates_version.cache_clear()
    try:
        before = pagecache.templates_version()
        page.write_text("two")
        pagecache.templates_version.cache_clear()
        assert pagecache.templates_version() != before
    finally:
        pagecache.templates_version.cache_clear()


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
)
def test_a_broken_cache_degrades_to_uncached_pages_not_errors(client):
    post = PostFactory()
    assert client.get("/").status_code == 200
    assert client.get(post.get_absolute_url()).status_code == 200


def test_cached_downloads_keep_their_headers(client):
    post = PostFactory()
    first = client.get(f"{post.get_absolute_url()}cite.bib")
    second = client.get(f"{post.get_absolute_url()}cite.bib")
    assert second.content == first.content
    assert second["Content-Disposition"] == first["Content-Disposition"]
    assert second["Content-Type"] == first["Content-Type"] == "application/x-bibtex; charset=utf-8"
