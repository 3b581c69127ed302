"""Every public page runs a fixed number of queries, whatever the blog holds.

Each page is counted cold (empty cache: no page, no sidebar) on a small blog, then
again after the blog grew: more posts (in the same series, category, tag and month), more
comments on the post (5 -> 50, replies included) and elsewhere, more tags on the post. The count
must be the same, and it is the number stated here (a new query on a page is a decision: update
the number). A second anonymous request is served from the page cache without any query.
"""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Comment
from tests.conftest import clear_caches
from tests.factories import CategoryFactory, CommentFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db

MONTH = timezone.make_aware(datetime(2024, 5, 13, 10))

# page: (URL given the blog, queries on a cold cache). Every HTML page's count includes 5 for the
# sidebar, which later pages share from the cache (the content generation is read over a
# connection of its own: caching.generation). The post page's includes 3 for its page of comments
# (the number of threads, the page's threads, their replies).
PAGES = {
    "home": (lambda b: "/", 8),
    "list page 2": (lambda b: "/page/2/", 8),
    "post": (lambda b: b.post.get_absolute_url(), 15),
    "series page": (lambda b: b.series.get_absolute_url(), 8),
    "series index": (lambda b: "/series/", 6),
    "archive": (lambda b: "/archives/", 6),
    "archive month": (lambda b: "/archives/2024/05/", 10),
    "category": (lambda b: b.category.get_absolute_url(), 9),
    "tag": (lambda b: b.tag.get_absolute_url(), 9),
    "search": (lambda b: "/search/?q=测试", 9),
    "feed": (lambda b: "/feed/", 3),
    "atom feed": (lambda b: "/feed/atom/", 3),
    "comments feed": (lambda b: "/feed/comments/", 1),
    "category feed": (lambda b: f"{b.category.get_absolute_url()}feed/", 4),
    "tag feed": (lambda b: f"{b.tag.get_absolute_url()}feed/atom/", 4),
    "series feed": (lambda b: f"{b.series.get_absolute_url()}feed/", 4),
    "sitemap": (lambda b: "/sitemap.xml", 8),
    "cite.bib": (lambda b: f"{b.post.get_absolute_url()}cite.bib", 2),
    "cite.ris": (lambda b: f"{b.post.get_absolute_url()}cite.ris", 2),
    "cite.json": (lambda b: f"{b.post.get_absolute_url()}cite.json", 2),
    "series cite.bib": (lambda b: f"{b.series.get_absolute_url()}cite.bib", 3),
}


class Blog:
    def __init__(self):
        self.series = SeriesFactory()
        self.category = CategoryFactory()
        self.tag = TagFactory()
        self.post = self.add_post(tags=[self.tag])
        self.comment(5)

    def add_post(self, **fields):
        part = self.series.posts.count() + 1
        fields.setdefault("tags", [self.tag, TagFactory()])
        return PostFactory(
            title=f"测试文章 {part}",
            series=self.series,
            series_part=part,
            category=self.category,
            published_at=MONTH.replace(day=1 + part % 28),
            **fields,
        )

    def comment(self, n):
        comments = []
        for i in range(n):
            parent = comments[i // 2] if i % 3 == 2 else None  # some replies, some nested
            comments.append(CommentFactory(post=self.post, parent=parent, body=f"测试评论 {i}"))

    def grow(self):
        for _ in range(8):
            self.add_post()
        for post in (self.post, *type(self.post).objects.exclude(pk=self.post.pk)[:3]):
            CommentFactory.create_batch(3, post=post)
        self.comment(42)  # 5 -> 50 comments on the post
        self.post.tags.add(*TagFactory.create_batch(4))


def cold_queries(client, url) -> int:
    clear_caches()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.fixture
def blog(settings):
    settings.BLOG_POSTS_PER_PAGE = 3
    blog = Blog()
    for _ in range(3):
        blog.add_post()
    return blog


@pytest.mark.parametrize("page", PAGES)
def test_query_count_is_fixed_and_does_not_grow_with_the_blog(client, blog, page):
    url_of, expected = PAGES[page]
    small = cold_queries(client, url_of(blog))
    blog.grow()
    large = cold_queries(client, url_of(blog))
    assert (small, large) == (expected, expected)


@pytest.mark.parametrize("page", PAGES)
def test_a_second_anonymous_request_makes_no_query(client, blog, page):
    url = PAGES[page][0](blog)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert again.status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def comment_thread(post, size):
    """``size`` approved comments on ``post``: three in four start a thread, the fourth replies."""
    numbers = range(1, size + 1)

    def comment(number, parent=None):
        made = Comment(
            post=post,
            number=number,
            parent=parent,
            author_name=f"读者{number}",
            email=f"r{number}@example.org",
            body=f"第{number}条 $x_{{{number}}}$",
            status=Comment.Status.APPROVED,
        )
        made.render()
        return made

    roots = Comment.objects.bulk_create([comment(n) for n in numbers if n % 4])
    by_number = {root.number: root for root in roots}
    Comment.objects.bulk_create([comment(n, by_number[n - 1]) for n in numbers if not n % 4])


# A page of comments: the post page's queries, 3 of them for the thread (the number of threads,
# the page's threads, their replies). 60 comments are 2 pages of threads, 600 are 15.
@pytest.mark.parametrize("which", ["first", "second", "last"])
def test_a_comment_page_costs_the_same_for_60_and_600_comments(client, settings, which):
    settings.BLOG_COMMENTS_PER_PAGE = 30
    counts = []
    for size, last in ((60, 2), (600, 15)):
        post = PostFactory()
        comment_thread(post, size)
        number = {"first": 1, "second": 2, "last": last}[which]
        url = post.get_absolute_url() + (f"comment-page-{number}/" if number > 1 else "")
        counts.append(cold_queries(client, url))
        html = client.get(url).content.decode()
        first_root = (number - 1) * 40 + 1  # 30 threads hold 40 comments
        assert f'<li id="comment-{first_root}"' in html and f"{size}条评论" in html
        assert html.count('<li id="comment-') == (20 if number == last == 2 else 40)
    assert counts == [14, 14]


def test_a_warm_comment_page_makes_no_query_outside_the_page_cache(client, settings):
    settings.BLOG_COMMENTS_PER_PAGE = 30
    post = PostFactory()
    comment_thread(post, 600)
    client.cookies["messages"] = "x"  # the page cache steps aside; shared parts are used
    url = f"{post.get_absolute_url()}comment-page-7/"
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    # The post and the number of threads are read once per content change; the thread, its
    # pager and the sidebar are cached parts.
    assert len(queries) == 0
    assert 'id="comment-241"' in html
