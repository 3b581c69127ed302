"""The post page outside the page cache (a reader with a message, staff): built from cached
parts shared by every reader (blog.pages), each fresh on the next request after a change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blog.comments.workflow import approve
from blog.models import Comment, Post
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    PostFactory,
    SeriesFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client):
    """An anonymous reader the page cache steps aside for (a flash message is pending)."""
    client.cookies["messages"] = "x"
    return client


def page(client, post, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(post.get_absolute_url(), params)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]  # not the page cache
    return response.content.decode(), len(queries)


def busy_post():
    series = SeriesFactory()
    category, tags = CategoryFactory(), [TagFactory() for _ in range(3)]
    for part in (1, 3):
        PostFactory(series=series, series_part=part, tags=tags[:1], category=category)
    post = PostFactory(
        title="正文", series=series, series_part=2, tags=tags, category=category, body="$x^2$"
    )
    CommentFactory.create_batch(4, post=post, body="评论 $y$")
    return post


def test_with_warm_parts_the_page_makes_no_query_and_is_the_same_page(reader):
    post = busy_post()
    cold, cold_queries = page(reader, post)
    warm, warm_queries = page(reader, post)
    assert warm == cold
    # The post is read once per content generation; article, thread, form, sidebar are cached.
    assert warm_queries == 0
    assert cold_queries > warm_queries
    for part in ('class="series-box"', 'class="related-posts"', 'class="comment-list"', "引用"):
        assert part in warm


def test_an_edit_of_the_post_or_of_a_neighbour_shows_on_the_next_request(reader):
    post = busy_post()
    neighbour = Post.objects.exclude(pk=post.pk).get(series_part=1)
    page(reader, post)
    post.title, neighbour.title = "改过的正文标题", "改过的上一篇"
    post.save()
    neighbour.save()
    html, _ = page(reader, post)
    assert "改过的正文标题" in html
    assert "改过的上一篇" in html  # series box, series navigation and related posts


def test_an_approved_comment_shows_on_the_next_request(reader):
    post = busy_post()
    page(reader, post)
    held = CommentFactory(post=post, body="刚批准的评论", status=Comment.Status.PENDING)
    assert "刚批准的评论" not in page(reader, post)[0]
    approve(Comment.objects.filter(pk=held.pk))
    assert "刚批准的评论" in page(reader, post)[0]


def test_the_shared_comment_form_is_the_anonymous_one_only(reader, staff_client):
    post = busy_post()
    anonymous, _ = page(reader, post)
    staff, _ = page(staff_client, post)
    again, _ = page(reader, post)
    assert 'name="author_name"' in anonymous and 'name="author_name"' in again
    assert "csrfmiddlewaretoken" not in again
    assert 'name="author_name"' not in staff and "csrfmiddlewaretoken" in staff


def test_a_page_first_rendered_for_staff_shares_nothing_of_theirs(reader, staff_client):
    post = busy_post()
    staff_page, _ = page(staff_client, post)  # every part is rendered cold, for staff
    assert "csrfmiddlewaretoken" in staff_page and 'class="comment-as"' in staff_page
    anonymous, queries = page(reader, post)
    # Only the post is read (staff's copy may include drafts); the parts staff rendered are served.
    assert queries == 1
    assert "csrfmiddlewaretoken" not in anonymous and 'name="author_name"' in anonymous
    assert 'class="comment-as"' not in anonymous


def test_a_reply_link_without_javascript_gets_its_own_form(reader):
    post = busy_post()
    page(reader, post)  # the shared form is cached
    reply, _ = page(reader, post, replyto="2")
    plain, _ = page(reader, post)
    assert 'name="reply_to" value="2"' in reply
    assert 'name="reply_to" value="2"' not in plain


def test_the_post_is_read_again_after_any_change(reader):
    post = busy_post()
    page(reader, post)
    Post.objects.filter(pk=post.pk).update(title="绕过信号的修改")  # no generation change
    assert page(reader, post)[1] == 0
    post.refresh_from_db()
    post.comments_open = False
    post.save()
    html, queries = page(reader, post)
    assert queries > 0 and "绕过信号的修改" in html and 'name="author_name"' not in html


def test_a_draft_shown_to_staff_is_never_a_cached_public_part(reader, staff_client):
    post = PostFactory(title="草稿文章", status=Post.Status.DRAFT)
    draft, _ = page(staff_client, post)
    assert "草稿：只有管理员能看到此页。" in draft
    assert reader.get(post.get_absolute_url()).status_code == 404
    post.status = Post.Status.PUBLISHED
    post.save()
    public, _ = page(reader, post)
    assert "草稿文章" in public and "只有管理员能看到此页" not in public


def test_a_list_counts_its_posts_once_per_content_change(reader, settings):
    settings.BLOG_POSTS_PER_PAGE = 2
    for _ in range(3):
        PostFactory()
    reader.get("/")
    with CaptureQueriesContext(connection) as first:
        reader.get("/")
    assert not any("COUNT(*)" in q["sql"] for q in first.captured_queries)
    assert reader.get("/page/3/").status_code == 404
    PostFactory()
    PostFactory()  # five posts: a third page now
    assert reader.get("/page/3/").status_code == 200
