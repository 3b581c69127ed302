"""The admin works for every model the author edits, and saving a post renders it."""

import pytest
from django.conf import settings

from blog.models import Post
from tests.factories import CategoryFactory, PostFactory, SeriesFactory, TagFactory

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


def test_adding_a_post_in_the_admin_renders_it_and_warns_about_bad_tex(staff_client, staff):
    response = staff_client.post(
        f"{ADMIN}blog/post/add/",
        {
            "title": "新文章",
            "body": "## 一节\n\n$$\\begin{equation}x$$\n",
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
    assert response.status_code == 200
    post = Post.objects.get(title="新文章")
    assert '<h2 id="一节">' in post.body_html
    assert post.ordered_authors() == [staff]
    messages = [str(m) for m in response.context["messages"]]
    assert any("TeX" in m and "equation" in m for m in messages)


def test_anonymous_users_are_sent_to_the_admin_login(client):
    response = client.get(f"{ADMIN}blog/post/")
    assert response.status_code == 302
    assert "login" in response["Location"]
