"""An author cannot break a public page: every edit the admin accepts leaves every page working.

The edits go through the real admin views (the change form with its author inline, the delete
views), as an author makes them; after each one, every public page is requested by an anonymous
reader and by staff (who also see drafts and scheduled posts).
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone

from blog.models import Authorship, Category, Post, Series, Tag
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    PostFactory,
    SeriesFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ADMIN = f"/{settings.ADMIN_PATH}"


def change_form(post: Post, authors=None, **changes) -> dict:
    """The post's change form as the admin renders it, with ``changes`` applied; ``authors`` is
    the author inline as a list of (authorship or None for a new row, user, delete?)."""
    post.refresh_from_db()
    when = timezone.localtime(changes.pop("published_at", post.published_at))
    data = {
        "title": post.title,
        "body": post.body,
        "status": post.status,
        "published_at_0": when.strftime("%Y-%m-%d"),
        "published_at_1": when.strftime("%H:%M:%S"),
        "comments_open": "on" if post.comments_open else "",
        "category": post.category_id or "",
        "tags": [tag.pk for tag in post.tags.all()],
        "series": post.series_id or "",
        "series_part": post.series_part or "",
    } | changes
    if authors is None:
        authors = [(row, row.author, False) for row in post.authorship_set.all()]
    existing = [row for row, _user, _delete in authors if row is not None]
    data |= {
        "authorship_set-TOTAL_FORMS": str(len(authors)),
        "authorship_set-INITIAL_FORMS": str(len(existing)),
        "authorship_set-MIN_NUM_FORMS": "1",
        "authorship_set-MAX_NUM_FORMS": "1000",
        "notes-TOTAL_FORMS": "0",
        "notes-INITIAL_FORMS": "0",
    }
    for i, (row, user, delete) in enumerate(authors):
        prefix = f"authorship_set-{i}-"
        data |= {prefix + "author": user.pk, prefix + "order": str(i), prefix + "post": post.pk}
        if row is not None:
            data[prefix + "id"] = row.pk
        if delete:
            data[prefix + "DELETE"] = "on"
    return data


def edit(staff_client, post, **kwargs):
    response = staff_client.post(f"{ADMIN}blog/post/{post.pk}/change/", change_form(post, **kwargs))
    errors = response.context and response.context.get("errors")
    assert response.status_code == 302, f"the admin refused a valid edit: {errors}"


def delete_in_admin(staff_client, obj, *, refused=False) -> None:
    """Confirm the admin's delete page for ``obj``; ``refused``: the admin must explain that
    other objects protect it (200) and keep it."""
    opts = obj._meta
    url = f"{ADMIN}{opts.app_label}/{opts.model_name}/{obj.pk}/delete/"
    response = staff_client.post(url, {"post": "yes"})
    assert response.status_code == (200 if refused else 302)
    assert type(obj).objects.filter(pk=obj.pk).exists() == refused


def public_urls(gone: list[str]) -> list[str]:
    """Every public page of what exists now, and the pages of what was deleted (404s)."""
    urls = [
        "/",
        "/archives/",
        "/series/",
        "/feed/",
        "/feed/atom/",
        "/feed/comments/",
        "/sitemap.xml",
        "/robots.txt",
        "/search/?q=Transformer",
        "/search/?q=评论",
        *gone,
    ]
    for post in Post.objects.all():
        base = post.get_absolute_url()
        urls += [base, base + "cite.bib", base + "cite.ris", base + "cite.json", base + "qr.svg"]
        when = timezone.localtime(post.published_at)
        urls.append(f"/archives/{when.year}/{when.month:02d}/")
    for series in Series.objects.all():
        base = series.get_absolute_url()
        urls += [base, base + "feed/", base + "cite.bib", base + "cite.ris", base + "cite.json"]
    for taxonomy in [*Category.objects.all(), *Tag.objects.all()]:
        base = taxonomy.get_absolute_url()
        urls += [base, base + "feed/", base + "feed/atom/"]
    return urls


def assert_every_page_renders(readers, gone, step):
    for url in public_urls(gone):
        for reader in readers:
            status = reader.get(url).status_code
            assert status in (200, 301, 302, 404), f"after {step}: {url} answered {status}"
    return step


def test_every_edit_the_admin_accepts_leaves_every_public_page_working(staff_client, staff):
    second = UserFactory(username="zhangsan", display_name="张三", latin_name="Zhang, San")
    series, other_series = SeriesFactory(), SeriesFactory()
    category, tags = CategoryFactory(), [TagFactory(), TagFactory()]
    first = PostFactory(series=series, series_part=1, category=category, tags=tags)
    post = PostFactory(series=series, series_part=2, category=category, tags=tags[:1])
    PostFactory(series=series, series_part=3, tags=tags[1:])
    CommentFactory(post=post, body="评论 $x$")
    readers = [Client(), staff_client]
    gone = [tags[0].get_absolute_url(), category.get_absolute_url()]
    gone.append(other_series.get_absolute_url())
    future = timezone.now() + timedelta(days=7)
    on_site = f"{ADMIN}r/{ContentType.objects.get_for_model(Post).pk}/{post.pk}/"

    steps = [
        ("a draft in a series", lambda: edit(staff_client, post, status="draft")),
        (
            "scheduled in a series",
            lambda: edit(staff_client, post, status="published", published_at=future),
        ),
        ("the first part a draft", lambda: edit(staff_client, first, status="draft")),
        ("moved to part 5", lambda: edit(staff_client, post, series_part="5")),
        (
            "moved to another series",
            lambda: edit(staff_client, post, series=other_series.pk, series_part="1"),
        ),
        ("published now", lambda: edit(staff_client, post, published_at=timezone.now())),
        ("out of any series", lambda: edit(staff_client, post, series="", series_part="")),
        (
            "a second author added",
            lambda: edit(
                staff_client,
                post,
                authors=[(row, row.author, False) for row in post.authorship_set.all()]
                + [(None, second, False)],
            ),
        ),
        (
            "the first author removed",
            lambda: edit(
                staff_client,
                post,
                authors=[
                    (row, row.author, row.author != second) for row in post.authorship_set.all()
                ],
            ),
        ),
        (
            "the only author replaced",
            lambda: edit(
                staff_client,
                post,
                authors=[(row, row.author, True) for row in post.authorship_set.all()]
                + [(None, staff, False)],
            ),
        ),
        ("a tag deleted", lambda: delete_in_admin(staff_client, tags[0])),
        ("the category deleted", lambda: delete_in_admin(staff_client, category)),
        ("a series with posts", lambda: delete_in_admin(staff_client, series, refused=True)),
        ("an empty series deleted", lambda: delete_in_admin(staff_client, other_series)),
    ]
    for step, make in steps:
        make()
        assert_every_page_renders(readers, gone, step)
        assert staff_client.get(on_site, follow=True).status_code == 200  # 在站点上查看
        assert staff_client.get(f"{ADMIN}blog/post/{post.pk}/change/").status_code == 200


def test_the_admin_refuses_to_remove_a_posts_only_author(staff_client):
    post = PostFactory()
    [row] = post.authorship_set.all()
    response = staff_client.post(
        f"{ADMIN}blog/post/{post.pk}/change/",
        change_form(post, authors=[(row, row.author, True)]),
    )
    assert response.status_code == 200
    assert "至少要有一位作者" in response.content.decode()
    assert list(post.authorship_set.all()) == [row]
    empty = change_form(post, authors=[])  # no row at all: the same answer
    response = staff_client.post(f"{ADMIN}blog/post/{post.pk}/change/", empty)
    assert "至少要有一位作者" in response.content.decode()
    assert Authorship.objects.filter(post=post).count() == 1
    assert Client().get(post.get_absolute_url() + "cite.json").status_code == 200


def test_an_author_of_posts_cannot_be_deleted_in_the_admin(staff_client):
    post = PostFactory()
    author = post.ordered_authors()[0]
    response = staff_client.post(f"{ADMIN}accounts/user/{author.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200  # the admin explains which posts protect the user
    assert post.ordered_authors() == [author]
    assert Client().get(post.get_absolute_url()).status_code == 200


def test_staff_preview_of_a_draft_part_shows_it_in_its_place_in_the_series(staff_client):
    series = SeriesFactory()
    first = PostFactory(series=series, series_part=1, title="第一篇")
    draft = PostFactory(series=series, series_part=2, title="草稿", status=Post.Status.DRAFT)
    last = PostFactory(series=series, series_part=3, title="第三篇")
    parts, previous, following = Post.objects.get(pk=draft.pk).series_neighbours()
    assert [part.pk for part in parts] == [first.pk, draft.pk, last.pk]
    assert (previous, following) == (first, last)
    html = staff_client.get(draft.get_absolute_url()).content.decode()
    assert '<strong aria-current="page">草稿</strong>' in html
    assert Client().get(draft.get_absolute_url()).status_code == 404
    public = Client().get(last.get_absolute_url()).content.decode()
    assert "草稿" not in public  # readers' series lists only what is public
