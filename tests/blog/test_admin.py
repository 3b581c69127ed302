"""The admin works for every model the author edits, and saving a post renders it."""

import pytest
from django.conf import settings

from blog.models import Comment, Post
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    PostFactory,
    SeriesFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

ADMIN = f"/{settings.ADMIN_PATH}"


@pytest.mark.parametrize(
    "model", ["blog/post", "blog/series", "blog/category", "blog/tag", "accounts/user"]
)
def test_changelist_and_add_pages_load(staff_client, model):
    PostFactory(
        series=SeriesFactory(), series_part=1, category=CategoryFactory(), tags=[TagFactory()]
    )
    assert staff_client.get(f"{ADMIN}{model}/").status_code == 200
    assert staff_client.get(f"{ADMIN}{model}/add/").status_code == 200


def test_post_change_page_uses_the_markdownx_editor_with_mathjax(staff_client):
    post = PostFactory()
    html = staff_client.get(f"{ADMIN}blog/post/{post.pk}/change/").content.decode()
    assert 'class="markdownx"' in html and 'class="markdownx-preview"' in html
    assert 'data-markdownx-urls-path="/editor/markdownify/"' in html
    assert "mathjax/tex-chtml-full.js" in html and "js/admin-preview.js" in html


def add_post(client, staff, title, body):
    """Add a post through the admin's form; the response after its redirect."""
    return client.post(
        f"{ADMIN}blog/post/add/",
        {
            "title": title,
            "body": body,
            "status": "published",
            "published_at_0": "2024-05-13",
            "published_at_1": "10:00:00",
            "comments_open": "on",
            "authorship_set-TOTAL_FORMS": "1",
            "authorship_set-INITIAL_FORMS": "0",
            "authorship_set-MIN_NUM_FORMS": "1",
            "authorship_set-MAX_NUM_FORMS": "1000",
            "authorship_set-0-author": staff.pk,
            "authorship_set-0-order": "0",
            "notes-TOTAL_FORMS": "0",
            "notes-INITIAL_FORMS": "0",
        },
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_adding_a_post_in_the_admin_renders_it_and_warns_about_bad_tex(staff_client, staff):
    response = add_post(staff_client, staff, "新文章", "## 一节\n\n$$\\begin{equation}x$$\n")
    assert response.status_code == 200
    post = Post.objects.get(title="新文章")
    assert '<h2 id="一节">' in post.body_html
    assert post.ordered_authors() == [staff]
    assert any("TeX" in m and "equation" in m for m in messages_of(response))


def test_without_node_the_admin_says_once_that_math_is_left_to_browsers(
    staff_client, staff, settings
):
    settings.BLOG_MATHJAX_NODE = "/nonexistent/node"
    told = [
        m for m in messages_of(add_post(staff_client, staff, "一", "$x$")) if "make install" in m
    ]
    assert len(told) == 1
    assert not Post.objects.get(title="一").math_typeset
    again = add_post(staff_client, staff, "二", "$y$")
    assert not [m for m in messages_of(again) if "make install" in m]  # once per session


def test_when_node_fails_the_admin_says_so_on_every_save(staff_client, staff, settings):
    settings.BLOG_MATHJAX_NODE = "false"  # found, runs, and exits at once
    for title in ["一", "二"]:
        said = messages_of(add_post(staff_client, staff, title, "$x$"))
        assert len([m for m in said if "typeset_math" in m and "make install" not in m]) == 1
    assert not Post.objects.filter(math_typeset=True).exists()


@pytest.mark.parametrize("node", ["node", ""])  # typeset on the server, or off on purpose
def test_the_admin_says_nothing_when_math_is_typeset_or_server_typesetting_is_off(
    staff_client, staff, settings, node
):
    settings.BLOG_MATHJAX_NODE = node
    said = messages_of(add_post(staff_client, staff, "一", "$x$"))
    assert not [m for m in said if "typeset_math" in m]


def test_approving_a_comment_without_node_says_its_math_is_left_to_browsers(staff_client, settings):
    settings.BLOG_MATHJAX_NODE = "/nonexistent/node"
    comment = CommentFactory(status=Comment.Status.PENDING, approved_at=None, body="$x$")
    response = staff_client.post(
        f"{ADMIN}blog/comment/",
        {"action": "approve", "_selected_action": [comment.pk]},
        follow=True,
    )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.APPROVED and not comment.math_typeset
    assert [m for m in messages_of(response) if "make install" in m]


def test_anonymous_users_are_sent_to_the_admin_login(client):
    response = client.get(f"{ADMIN}blog/post/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_staff_reply_with_math_without_node_says_so(staff_client, settings):
    settings.BLOG_MATHJAX_NODE = "/nonexistent/node"
    held = CommentFactory(status=Comment.Status.PENDING, approved_at=None, body="没有公式")
    response = staff_client.post(
        f"{ADMIN}blog/comment/{held.pk}/change/",
        {
            "status": "pending",
            "author_name": held.author_name,
            "email": held.email,
            "website": "",
            "body": held.body,
            "staff_reply": "由 $x$ 可知",
        },
        follow=True,
    )
    reply = Comment.objects.get(body="由 $x$ 可知")
    assert reply.status == Comment.Status.APPROVED and not reply.math_typeset
    assert [m for m in messages_of(response) if "make install" in m]
