"""Related posts under a post: series first, then shared tags, then category, then recent."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blog.models import Post
from tests.factories import CategoryFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db


def related_titles(post) -> list[str]:
    post = Post.objects.prefetch_related("tags").get(pk=post.pk)
    return [p.title for p in Post.objects.published().related_to(post)]


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
        assert len(list(Post.objects.published().related_to(post))) == 10
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


def test_ranking_only_candidates_gives_the_same_order_as_ranking_every_post():
    """related_to ranks a bounded set of candidates; on a random blog its answer is exactly the
    order of every public post by (series, part, shared tags, category, date)."""
    rng = random.Random(7)
    tags = [TagFactory() for _ in range(6)]
    categories = [CategoryFactory() for _ in range(3)] + [None]
    series = SeriesFactory()
    posts = []
    for n in range(60):
        posts.append(
            PostFactory(
                tags=rng.sample(tags, rng.randint(0, 2)),
                category=rng.choice(categories),
                status=Post.Status.DRAFT if n % 13 == 5 else Post.Status.PUBLISHED,
                **({"series": series, "series_part": n} if n % 17 == 3 else {}),
            )
        )
    public = list(Post.objects.published().prefetch_related("tags"))

    def expected(post):
        mine = {tag.pk for tag in post.tags.all()}

        def rank(other):
            in_series = bool(post.series_id) and other.series_id == post.series_id
            return (
                not in_series,
                other.series_part if in_series else 0,
                -len(mine & {tag.pk for tag in other.tags.all()}),
                not (post.category_id and other.category_id == post.category_id),
                -other.published_at.timestamp(),
                -other.pk,
            )

        return [p.pk for p in sorted((p for p in public if p.pk != post.pk), key=rank)[:10]]

    for post in rng.sample(public, 20) + [p for p in public if p.series_id]:
        got = [p.pk for p in Post.objects.published().related_to(post)]
        assert got == expected(post), post
