"""Public pages: content, 404s, and query counts that do not grow with the data."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog import sidebar
from blog.models import Post
from caching.generation import content_changed
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    PostFactory,
    SeriesFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def main_content(response) -> str:
    """The page without its sidebar (which lists recent posts everywhere)."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_home_lists_posts_with_date_badge_teaser_and_read_more(client):
    PostFactory(
        title="缓存与效果的极限拉扯",
        published_at=timezone.make_aware(timezone.datetime(2024, 5, 13, 10)),
        body="前几天，幻方发布了 $\\text{DeepSeek-V2}$。\n\n<!--more-->\n\n后文\n",
    )
    response = client.get("/")
    html = response.content.decode()
    assert '<span class="day">13</span> <span class="month">May</span>' in html
    assert "缓存与效果的极限拉扯" in html
    assert "前几天" in html and "后文" not in html
    assert "点击阅读全文..." in html
    assert "tex-chtml-full.js" in html  # the teaser has math


def test_post_page_shows_kexue_byline_and_body(client):
    author = UserFactory(username="sujianlin", display_name="苏剑林")
    post = PostFactory(
        authors=[author],
        published_at=timezone.make_aware(timezone.datetime(2024, 5, 13, 10)),
        reader_count=84758,
        category=CategoryFactory(name="信息时代"),
        tags=[TagFactory(name="attention")],
    )
    response = client.get(post.get_absolute_url())
    html = response.content.decode()
    assert 'By <span class="author">苏剑林</span>' in html
    assert "2024-05-13" in html
    assert "84758位读者" in html
    assert ">引用</a>" in html
    assert "信息时代" in html and "attention" in html
    assert "\\begin{equation}a^2+b^2=c^2\\end{equation}" in html
    assert f'<link rel="canonical" href="https://kexue.test/archives/{post.pk}/">' in html


def test_pages_without_math_do_not_load_mathjax(client):
    # An open comment form loads MathJax for its preview (tests/blog/test_comments.py).
    post = PostFactory(body="纯文字。\n", comments_open=False)
    assert "tex-chtml" not in client.get(post.get_absolute_url()).content.decode()


def test_series_post_shows_part_n_of_m_and_in_series_navigation(client):
    series = SeriesFactory(title="Transformer升级之路", slug="transformer")
    parts = [PostFactory(series=series, series_part=n, title=f"第{n}篇") for n in (1, 2, 3)]
    html = client.get(parts[1].get_absolute_url()).content.decode()
    assert "本文是系列" in html and "第 2 篇，共 3 篇" in html
    assert f'href="{parts[0].get_absolute_url()}"' in html
    assert f'href="{parts[2].get_absolute_url()}"' in html
    assert 'href="/series/transformer/"' in html


def test_series_page_lists_parts_in_order(client):
    series = SeriesFactory(slug="lowrank", title="低秩近似之路")
    PostFactory(series=series, series_part=2, title="低秩近似之路(二)：SVD")
    PostFactory(series=series, series_part=1, title="低秩近似之路(一)：伪逆")
    html = client.get("/series/lowrank/").content.decode()
    assert html.index("(一)") < html.index("(二)")
    index = client.get("/series/").content.decode()
    assert "低秩近似之路" in index


def test_category_tag_and_archive_pages(client):
    category, tag = CategoryFactory(slug="math"), TagFactory(slug="rope")
    post = PostFactory(
        category=category,
        tags=[tag],
        published_at=timezone.make_aware(timezone.datetime(2024, 5, 13, 10)),
    )
    for url in ("/category/math/", "/tag/rope/", "/archives/", "/archives/2024/05/"):
        assert post.title in main_content(client.get(url)), url
    assert post.title not in main_content(client.get("/archives/2024/06/"))


def test_unicode_slugs_work(client):
    CategoryFactory(slug="信息时代", name="信息时代")
    assert client.get("/category/信息时代/").status_code == 200


def test_drafts_and_scheduled_posts_are_404_for_readers_but_visible_to_staff(client, staff_client):
    draft = PostFactory(status=Post.Status.DRAFT)
    scheduled = PostFactory(published_at=timezone.now() + timedelta(days=2))
    for post in (draft, scheduled):
        assert client.get(post.get_absolute_url()).status_code == 404
        assert staff_client.get(post.get_absolute_url()).status_code == 200
    home = main_content(client.get("/"))
    assert draft.title not in home and scheduled.title not in home


@pytest.mark.parametrize(
    "url",
    [
        "/archives/999999/",
        "/archives/0/",
        "/page/0/",
        "/page/99/",
        "/category/nope/",
        "/tag/nope/",
        "/series/nope/",
        "/archives/2024/13/",
        "/tag/x/?page=abc",
        "/tag/x/?page=²",
        "/no/such/page/",
    ],
)
def test_unknown_things_are_a_styled_404(client, url):
    PostFactory()
    TagFactory(slug="x")
    response = client.get(url)
    assert response.status_code == 404
    assert "科学空间" in response.content.decode()


def test_pagination_uses_page_urls(client, settings):
    settings.BLOG_POSTS_PER_PAGE = 2
    posts = [PostFactory() for _ in range(5)]
    page2 = client.get("/page/2/").content.decode()
    assert posts[2].title in page2
    assert 'href="/page/3/"' in page2 and 'href="/"' in page2


def test_search_finds_titles_and_bodies(client):
    PostFactory(title="低秩近似之路", body="奇异值分解 SVD\n")
    assert "低秩近似之路" in client.get("/search/", {"q": "SVD"}).content.decode()
    assert client.get("/search/", {"q": ""}).status_code == 200


def _grow(n_posts, series):
    tags = [TagFactory() for _ in range(3)]
    for _ in range(n_posts):
        part = series.posts.count() + 1
        PostFactory(series=series, series_part=part, tags=tags, category=CategoryFactory())


@pytest.mark.parametrize(
    "url_of",
    [
        lambda post, series: "/",
        lambda post, series: "/page/2/",
        lambda post, series: post.get_absolute_url(),
        lambda post, series: series.get_absolute_url(),
        lambda post, series: "/series/",
        lambda post, series: "/archives/",
        lambda post, series: f"/archives/{post.published_at:%Y/%m}/",
        lambda post, series: post.category.get_absolute_url(),
        lambda post, series: post.tags.first().get_absolute_url(),
        lambda post, series: "/search/?q=测试",
    ],
    ids=[
        "home",
        "page2",
        "post",
        "series",
        "series-index",
        "archive",
        "month",
        "category",
        "tag",
        "search",
    ],
)
def test_query_count_does_not_grow_with_content(client, settings, url_of):
    settings.BLOG_POSTS_PER_PAGE = 3
    series = SeriesFactory()
    post = PostFactory(
        series=series, series_part=1, category=CategoryFactory(), tags=[TagFactory()]
    )
    _grow(6, series)
    small = count_queries(client, url_of(post, series))
    _grow(20, series)
    assert count_queries(client, url_of(post, series)) == small
    assert (
        small <= 14
    )  # post page: + comment thread; cold sidebar: + recent comments, popular posts


def test_post_page_query_count_stays_constant_with_related_posts(client):
    """Related posts are one query, whatever the number of candidates sharing tags."""
    tags = [TagFactory() for _ in range(4)]
    category = CategoryFactory()
    post = PostFactory(tags=tags, category=category)
    PostFactory(tags=tags[:1])
    client.get("/")  # the sidebar is cached from here on
    few = count_queries(client, post.get_absolute_url())
    for n in range(25):
        PostFactory(tags=tags[: n % 4 + 1], category=category if n % 2 else None)
    client.get("/")
    assert count_queries(client, post.get_absolute_url()) == few
    html = client.get(post.get_absolute_url()).content.decode()
    related = html[html.index('class="related-posts"') :].split("</section>")[0]
    assert related.count("<li>") == 10


def statements(queries) -> set[str]:
    """The SQL run, literals (such as the current time) left out."""
    return {re.sub(r"'[^']*'", "?", query["sql"]) for query in queries}


def sidebar_queries() -> set[str]:
    """The SQL the sidebar's widgets run when computed afresh."""
    with CaptureQueriesContext(connection) as queries:
        sidebar._compute()
    return statements(queries)


def queries_of(client, url) -> set[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return statements(queries)


@pytest.mark.parametrize("url", ["/", "/archives/"])
def test_sidebar_is_cached_between_requests(staff_client, url):
    """Measured where the whole-page cache steps aside (a logged-in reader's pages are never
    stored), so the page is rendered each time: the sidebar's queries run on the first request
    only, whether the widget HTML or its data is what is kept."""
    post = PostFactory(category=CategoryFactory(), series=SeriesFactory(), series_part=1)
    CommentFactory(post=post)
    widgets = sidebar_queries()
    assert len(widgets) >= 4
    assert widgets <= queries_of(staff_client, url)  # cold: the sidebar is computed
    assert not widgets & queries_of(staff_client, url)  # warm: none of its queries again
    content_changed()
    assert widgets <= queries_of(staff_client, url)  # a change is shown at once


def test_sidebar_data_is_computed_once_per_content_generation():
    PostFactory()
    with CaptureQueriesContext(connection) as first:
        sidebar.widgets()
    with CaptureQueriesContext(connection) as again:
        sidebar.widgets()
    assert len(first) >= 4 and len(again) == 0
    content_changed()
    with CaptureQueriesContext(connection) as after_change:
        sidebar.widgets()
    assert len(after_change) == len(first)


def test_sidebar_refreshes_after_a_new_post(client):
    client.get("/")
    post = PostFactory(title="刚刚发布的新文章")
    assert post.title in client.get(reverse("blog:archive_index")).content.decode()
    assert client.get("/").content.decode().count(post.title) == 2  # list + recent posts widget


def test_the_sidebar_lists_series_and_categories_with_their_public_posts(client):
    series, category = SeriesFactory(title="变分自编码器"), CategoryFactory(name="信息时代")
    for part in (1, 2):
        PostFactory(series=series, series_part=part, category=category)
    PostFactory(series=series, series_part=3, category=category, status=Post.Status.DRAFT)
    CategoryFactory(name="空分类")
    html = client.get("/").content.decode()
    aside = html[html.index('<aside class="sidebar"') : html.index("</aside>")]
    assert re.search(
        rf'<h2>系列</h2>\s*<ul><li><a href="{series.get_absolute_url()}">变分自编码器</a> '
        r'<span class="count">\(2\)</span></li></ul>',
        aside,
    )
    assert re.search(
        rf'<h2>分类</h2>\s*<ul><li><a href="{category.get_absolute_url()}">信息时代</a> '
        r'<span class="count">\(2\)</span></li></ul>',
        aside,
    )
    assert "空分类" not in aside
