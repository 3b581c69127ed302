"""Related posts under a post: series first, then shared tags, then category, then recent."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blog.models import Post
from tests.factories import CategoryFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db


def related_titles(post) -> list[str]:
    post = Post.objects.prefetch_related("tags").get(pk=post.pk)
    return [p.title for p in Post.objects.published().related_to(post)[:10]]


def test_order_is_series_then_shared_tags_then_category_then_newest():
    series, category = SeriesFactory(), CategoryFactory()
    rope, attention, other = TagFactory(), TagFactory(), TagFactory()
    post = PostFactory(
        title="本文", series=series, series_part=2, category=category, tags=[rope, attention]
    )
    PostFactory(title="最新的无关文章")  # newest of all, shares nothing
    PostFactory(title="同分类", category=category)
    PostFactory(title="一个共同标签", tags=[attention, other])
    PostFactory(title="两个共同标签", tags=[rope, attention])
    PostFactory(title="系列第三篇", series=series, series_part=3)
    PostFactory(title="系列第一篇", series=series, series_part=1)
    PostFactory(title="未公开", status=Post.Status.DRAFT, series=series, series_part=4)
    assert related_titles(post) == [
        "系列第一篇",
        "系列第三篇",
        "两个共同标签",
        "一个共同标签",
        "同分类",
        "最新的无关文章",
    ]


def test_a_post_without_series_tags_or_category_gets_the_newest_posts():
    post = PostFactory(title="孤立")
    others = [PostFactory(title=f"其他{n}") for n in range(12)]
    assert related_titles(post) == [p.title for p in reversed(others)][:10]


def test_related_posts_take_one_query_however_many_candidates():
    tags = [TagFactory() for _ in range(3)]
    post = PostFactory(tags=tags, category=CategoryFactory())
    for _ in range(30):
        PostFactory(tags=tags[:2])
    post = Post.objects.prefetch_related("tags").get(pk=post.pk)
    with CaptureQueriesContext(connection) as queries:
        assert len(list(Post.objects.published().related_to(post)[:10])) == 10
    assert len(queries) == 1


def test_post_page_shows_up_to_ten_related_posts_under_the_heading(client):
    tag = TagFactory()
    post = PostFactory(tags=[tag])
    for n in range(12):
        PostFactory(title=f"相关{n}", tags=[tag])
    html = client.get(post.get_absolute_url()).content.decode()
    start = html.index('class="related-posts"')
    section = html[start : html.index("</section>", start)]
    assert "你也许还对下面的内容感兴趣" in section
    assert section.count("<li>") == 10
