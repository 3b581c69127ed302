"""RSS and Atom feeds, the sitemap and robots.txt: valid, complete, and anchored to SITE_URL."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Post
from tests.factories import CategoryFactory, PostFactory, SeriesFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

FORGED = {"HTTP_HOST": "evil.example", "HTTP_X_FORWARDED_HOST": "evil.example"}
MATH_BODY = (
    "行内公式 $E=mc^2$ 与 [相对链接](/archives/1/)、![图](/media/uploads/a.png)。\n\n"
    "$$\\begin{equation}a^2+b^2=c^2\\label{eq:pythagoras}\\end{equation}$$\n\n"
    "见脚注[^1]。\n\n[^1]: 脚注内容。\n"
)


@pytest.fixture
def filed_post():
    category = CategoryFactory(name="信息时代", slug="信息时代")
    tag = TagFactory(name="attention", slug="attention")
    series = SeriesFactory(title="Transformer升级之路", slug="transformer")
    return PostFactory(
        title="缓存与效果的极限拉扯 <MLA> & more",
        body=MATH_BODY,
        category=category,
        tags=[tag],
        series=series,
        series_part=1,
        authors=[UserFactory(username="su", display_name="苏剑林")],
    )


def parse(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, (url, feed.get("bozo_exception"))
    return response, feed


FEED_URLS = [
    "/feed/",
    "/feed/atom/",
    "/category/信息时代/feed/",
    "/category/信息时代/feed/atom/",
    "/tag/attention/feed/",
    "/tag/attention/feed/atom/",
    "/series/transformer/feed/",
    "/series/transformer/feed/atom/",
]


@pytest.mark.parametrize("url", FEED_URLS)
def test_feeds_parse_cleanly_with_full_html_and_tex_kept(client, filed_post, url):
    response, feed = parse(client, url)
    expected_type = "atom10" if url.endswith("atom/") else "rss20"
    assert feed.version == expected_type
    assert response["Content-Type"].startswith(
        "application/atom+xml" if expected_type == "atom10" else "application/rss+xml"
    )
    (entry,) = feed.entries
    assert entry.title == "缓存与效果的极限拉扯 <MLA> & more"
    assert entry.link == f"https://kexue.test/archives/{filed_post.pk}/"
    html = entry.content[0].value if expected_type == "atom10" else entry.description
    assert "\\(E=mc^2\\)" in html
    assert "\\begin{equation}a^2+b^2=c^2\\label{eq:pythagoras}\\end{equation}" in html
    assert 'href="https://kexue.test/archives/1/"' in html
    assert 'src="https://kexue.test/media/uploads/a.png"' in html
    assert f'href="https://kexue.test/archives/{filed_post.pk}/#fn1"' in html
    assert entry.author == "苏剑林"
    assert {"信息时代", "attention"} <= {tag.term for tag in entry.tags}


@pytest.mark.parametrize("url", FEED_URLS)
def test_feed_urls_come_from_site_url_not_the_request_host(client, filed_post, url):
    response, feed = parse(client, url, **FORGED)
    body = response.content.decode()
    assert "evil.example" not in body
    assert feed.feed.link.startswith("https://kexue.test/")
    assert "https://kexue.test/" in body


def test_feeds_leave_out_drafts_and_scheduled_posts(client):
    PostFactory(title="公开")
    PostFactory(title="草稿", status=Post.Status.DRAFT)
    PostFactory(title="定时", published_at=timezone.now() + timedelta(hours=2))
    for url in ("/feed/", "/feed/atom/"):
        _, feed = parse(client, url)
        assert [entry.title for entry in feed.entries] == ["公开"]


def test_category_tag_and_series_feeds_hold_only_their_posts(client, filed_post):
    PostFactory(title="别的文章")
    for url in FEED_URLS[2:]:
        _, feed = parse(client, url)
        assert [entry.title for entry in feed.entries] == [filed_post.title], url
    _, feed = parse(client, "/category/信息时代/feed/")
    assert feed.feed.title == "信息时代 - 科学空间|Scientific Spaces"
    assert feed.feed.link == "https://kexue.test/category/%E4%BF%A1%E6%81%AF%E6%97%B6%E4%BB%A3/"


def test_unknown_feed_objects_are_404(client):
    for url in ("/category/nope/feed/", "/tag/nope/feed/atom/", "/series/nope/feed/"):
        assert client.get(url).status_code == 404


def test_feed_query_count_does_not_grow_with_items(client):
    tags = [TagFactory() for _ in range(3)]
    PostFactory(tags=tags, category=CategoryFactory())

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get("/feed/atom/")
        return len(queries)

    few = count()
    for _ in range(10):
        PostFactory(tags=tags, category=CategoryFactory())
    assert count() == few


def test_pages_advertise_their_feeds(client, filed_post):
    home = client.get("/").content.decode()
    assert (
        '<link rel="alternate" type="application/rss+xml" title="科学空间|Scientific Spaces (RSS)" '
        'href="https://kexue.test/feed/">'
    ) in home
    assert 'type="application/atom+xml"' in home and 'href="https://kexue.test/feed/atom/"' in home
    tag_page = client.get("/tag/attention/").content.decode()
    assert 'href="https://kexue.test/tag/attention/feed/"' in tag_page
    assert 'href="https://kexue.test/feed/"' in tag_page
    series_page = client.get("/series/transformer/").content.decode()
    assert 'href="https://kexue.test/series/transformer/feed/atom/"' in series_page
    category_page = client.get(filed_post.category.get_absolute_url()).content.decode()
    assert (
        'href="https://kexue.test/category/%E4%BF%A1%E6%81%AF%E6%97%B6%E4%BB%A3/feed/"'
        in category_page
    )


SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_entries(client, **extra) -> dict[str, str]:
    response = client.get("/sitemap.xml", **extra)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    return {
        url.findtext("s:loc", namespaces=SITEMAP_NS): url.findtext(
            "s:lastmod", namespaces=SITEMAP_NS
        )
        for url in root.findall("s:url", SITEMAP_NS)
    }


def test_sitemap_lists_public_posts_series_categories_and_tags_with_lastmod(client, filed_post):
    draft = PostFactory(status=Post.Status.DRAFT, tags=[TagFactory(slug="draft-only")])
    entries = sitemap_entries(client, **FORGED)
    post_url = f"https://kexue.test/archives/{filed_post.pk}/"
    assert entries[post_url] == timezone.localdate(filed_post.updated_at).isoformat()
    assert "https://kexue.test/series/transformer/" in entries
    assert "https://kexue.test/tag/attention/" in entries
    assert "https://kexue.test/category/%E4%BF%A1%E6%81%AF%E6%97%B6%E4%BB%A3/" in entries
    assert all(entries.values())  # every entry has a lastmod
    assert f"https://kexue.test/archives/{draft.pk}/" not in entries
    assert "https://kexue.test/tag/draft-only/" not in entries  # no public post behind it
    assert all(url.startswith("https://kexue.test/") for url in entries)


def test_robots_txt_points_to_the_absolute_sitemap(client):
    response = client.get("/robots.txt", **FORGED)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "Sitemap: https://kexue.test/sitemap.xml" in lines
    assert "User-agent: *" in lines
    assert "evil.example" not in response.content.decode()
