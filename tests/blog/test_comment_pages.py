"""Pages of comments: threads in pages of BLOG_COMMENTS_PER_PAGE, pager, permalinks, caching."""

import re

import feedparser
import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from blog.comments.workflow import TRUST_COOKIE, approve, mark_spam
from blog.models import Comment, Post
from tests.blog.test_comments import comments_section, submit
from tests.factories import CommentFactory, PostFactory, UserFactory, trust_cookie

pytestmark = pytest.mark.django_db


def threads(post, count, start=1, **fields) -> list[Comment]:
    """``count`` approved top-level comments, numbered on from ``start`` (one INSERT)."""
    made = []
    for number in range(start, start + count):
        comment = Comment(
            post=post,
            number=number,
            author_name=f"读者{number}",
            email=f"r{number}@example.org",
            body=f"第{number}条评论",
            status=Comment.Status.APPROVED,
            **fields,
        )
        comment.render()
        made.append(comment)
    return Comment.objects.bulk_create(made)


def page_url(post, number) -> str:
    if number == 1:
        return post.get_absolute_url()
    return reverse("blog:post_comment_page", args=[post.pk, number])


def shown(client, post, number=1) -> list[int]:
    """The comment numbers on a comment page, in the order shown."""
    response = client.get(page_url(post, number))
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'<li id="comment-(\d+)"', response.content.decode())]


def last_page(post) -> int:
    return Comment.objects.approved().filter(post=post).thread_pages(30, 3).num_pages


@pytest.fixture(autouse=True)
def thirty_per_page(settings):
    settings.BLOG_COMMENTS_PER_PAGE = 30


# --- pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "pages"), [(0, 1), (29, 1), (30, 1), (31, 2), (61, 3)])
def test_each_page_holds_thirty_threads_in_number_order(client, count, pages):
    post = PostFactory()
    threads(post, count)
    for number in range(1, pages + 1):
        first = (number - 1) * 30 + 1
        assert shown(client, post, number) == list(range(first, min(first + 30, count + 1)))
    assert client.get(page_url(post, pages + 1)).status_code == 404
    assert last_page(post) == pages


def test_replies_stay_on_the_page_of_their_thread(client):
    post = PostFactory()
    first, *_, thirty_first = threads(post, 31)
    late = CommentFactory(post=post, parent=first, body="迟到的回复")  # #32, on page 1
    deep = CommentFactory(post=post, parent=late)  # #33, under #32
    reply = CommentFactory(post=post, parent=thirty_first)  # #34, on page 2
    page_one = shown(client, post, 1)
    assert page_one[:4] == [1, late.number, deep.number, 2] and len(page_one) == 32
    assert shown(client, post, 2) == [31, reply.number]
    html = comments_section(client.get(page_url(post, 2)).content.decode())
    assert html.index('id="comment-31"') < html.index('class="comment-children"')


def test_a_reply_whose_parent_is_hidden_is_a_thread_of_its_own_on_its_own_page(client):
    post = PostFactory()
    made = threads(post, 31)
    orphan = CommentFactory(post=post, parent=made[1], body="孤儿回复")  # #32 under #2
    assert 32 in shown(client, post, 1)
    mark_spam(Comment.objects.filter(pk=made[1].pk))
    # Roots now: #1, #3 … #31 (30 of them) on page 1, then #32 on page 2.
    assert shown(client, post, 1) == [1, *range(3, 32)]
    assert shown(client, post, 2) == [orphan.number]
    assert orphan.page_number() == 2
    response = client.get(orphan.get_absolute_url())
    assert response["Location"] == f"{page_url(post, 2)}#comment-32"


def test_pages_put_together_are_the_whole_thread(settings):
    """Held and spam comments anywhere, replies deeper than the nesting limit, orphans."""
    settings.BLOG_COMMENT_MAX_DEPTH = 2
    post = PostFactory()
    comments = []
    statuses = [Comment.Status.APPROVED] * 5 + [Comment.Status.PENDING, Comment.Status.SPAM]
    for i in range(120):
        parent = comments[(i * 7) % len(comments)] if comments and i % 3 else None
        status = statuses[i % len(statuses)]
        comments.append(CommentFactory(post=post, parent=parent, status=status))
    shown_comments = Comment.objects.approved().filter(post=post)

    def outline(roots):
        return [
            (c.number, c.depth, getattr(c.reply_to, "number", None), outline(c.children))
            for c in roots
        ]

    pages = shown_comments.thread_pages(7, settings.BLOG_COMMENT_MAX_DEPTH)
    together = [
        thread for number in pages.page_range for thread in outline(pages.page(number).threads)
    ]
    assert together == outline(shown_comments.thread(settings.BLOG_COMMENT_MAX_DEPTH))
    assert pages.num_pages > 3
    for comment in shown_comments:
        page = pages.page(shown_comments.page_of(comment, 7))
        numbers = {c.number for c in Comment.objects.filter(pk__in=_all_ids(page.threads))}
        assert comment.number in numbers


def _all_ids(roots):
    for comment in roots:
        yield comment.pk
        yield from _all_ids(comment.children)


@pytest.mark.parametrize(
    "suffix", ["comment-page-0/", "comment-page-3/", "comment-page-99999999999999999999/"]
)
def test_comment_pages_that_do_not_exist_are_404(client, suffix):
    post = PostFactory()
    threads(post, 31)
    assert client.get(f"{post.get_absolute_url()}{suffix}").status_code == 404


def test_unknown_draft_and_scheduled_posts_have_no_comment_pages(client, staff_client):
    assert client.get("/archives/999999/comment-page-2/").status_code == 404
    draft = PostFactory(status=Post.Status.DRAFT)
    threads(draft, 31)
    assert client.get(page_url(draft, 2)).status_code == 404
    assert staff_client.get(page_url(draft, 2)).status_code == 200


def test_comment_page_1_redirects_permanently_to_the_post(client):
    post = PostFactory()
    response = client.get(f"{post.get_absolute_url()}comment-page-1/")
    assert response.status_code == 301
    assert response["Location"] == post.get_absolute_url()


def test_pager_links_every_page_and_marks_the_current_one(client):
    post = PostFactory()
    threads(post, 61)
    html = comments_section(client.get(page_url(post, 2)).content.decode())
    assert html.count('<nav class="comment-pager" aria-label="评论分页">') == 2
    pager = html[: html.index("</nav>")]
    assert f'rel="prev" href="{post.get_absolute_url()}#comments"' in pager
    assert f'rel="next" href="{page_url(post, 3)}#comments"' in pager
    assert f'aria-current="page" href="{page_url(post, 2)}#comments">2</a>' in pager
    assert "上一页" in pager and "下一页" in pager
    assert "61条评论" in html


def test_a_single_page_has_no_pager(client):
    post = PostFactory()
    threads(post, 30)
    assert "comment-pager" not in client.get(post.get_absolute_url()).content.decode()


def test_a_long_thread_elides_far_pages(client, settings):
    settings.BLOG_COMMENTS_PER_PAGE = 1
    post = PostFactory()
    threads(post, 20)
    html = client.get(page_url(post, 10)).content.decode()
    pager = html[
        html.index('class="comment-pager"') : html.index("</nav>", html.index("comment-pager"))
    ]
    numbers = re.findall(r">(\d+|…)</", pager)
    assert numbers == ["1", "…", "8", "9", "10", "11", "12", "…", "20"]


def test_comment_page_title_canonical_and_reply_links(client):
    post = PostFactory(title="长讨论")
    threads(post, 31)
    html = client.get(page_url(post, 2)).content.decode()
    assert "<title>长讨论 - 评论第2页 - " in html
    assert f'<link rel="canonical" href="https://kexue.test{post.get_absolute_url()}">' in html
    assert f'href="{page_url(post, 2)}?replyto=31#respond"' in html
    assert f'href="{page_url(post, 2)}#respond"' in html  # cancel reply
    first = client.get(post.get_absolute_url()).content.decode()
    assert "<title>长讨论 - 科学空间" in first
    assert f'href="{post.get_absolute_url()}?replyto=1#respond"' in first


def test_a_reply_link_without_javascript_keeps_the_page(client):
    post = PostFactory()
    threads(post, 31)
    response = client.get(page_url(post, 2), {"replyto": "31"})
    html = response.content.decode()
    assert 'name="reply_to" value="31"' in html and 'id="comment-31"' in html


# --- permalinks ---------------------------------------------------------------------------


def test_permalink_redirects_to_the_page_showing_the_comment(client):
    post = PostFactory()
    made = threads(post, 61)
    reply = CommentFactory(post=post, parent=made[0])  # #62, in the first thread
    deep = CommentFactory(post=post, parent=CommentFactory(post=post, parent=made[45]))  # #64
    expected = {
        made[60]: f"{page_url(post, 3)}#comment-61",
        made[0]: f"{post.get_absolute_url()}#comment-1",
        reply: f"{post.get_absolute_url()}#comment-62",
        deep: f"{page_url(post, 2)}#comment-64",
    }
    for comment, location in expected.items():
        assert comment.get_absolute_url() == f"/archives/{post.pk}/comment/{comment.number}/"
        response = client.get(comment.get_absolute_url())
        assert (response.status_code, response["Location"]) == (302, location)
        follow = client.get(location.split("#")[0]).content.decode()
        assert f'<li id="comment-{comment.number}"' in follow


def test_permalinks_of_hidden_or_unknown_comments_are_404(client, staff_client):
    post = PostFactory()
    held = CommentFactory(post=post, status=Comment.Status.PENDING)
    spam = CommentFactory(post=post, status=Comment.Status.SPAM)
    draft_comment = CommentFactory(post=PostFactory(status=Post.Status.DRAFT))
    for url in [
        held.get_absolute_url(),
        spam.get_absolute_url(),
        f"/archives/{post.pk}/comment/99/",
        f"/archives/{post.pk}/comment/99999999999999999999/",
        "/archives/999999/comment/1/",
        "/archives/99999999999999999999/comment/1/",
        draft_comment.get_absolute_url(),
    ]:
        assert client.get(url).status_code == 404, url
    assert staff_client.get(draft_comment.get_absolute_url()).status_code == 302
    assert client.head(CommentFactory(post=post).get_absolute_url()).status_code == 302


def test_sidebar_feed_search_and_email_links_lead_to_the_comments_page(client):
    author = UserFactory(username="su", email="su@kexue.test")
    post = PostFactory(authors=[author])
    made = threads(post, 40)
    parent = made[35]
    parent.notify_on_reply, parent.email = True, "parent@example.org"
    parent.save()
    trusted = CommentFactory(post=post, email="zhang.san@example.org")
    client.cookies[TRUST_COOKIE] = trust_cookie(trusted)  # a trusted commenter: published
    submit(client, post, reply_to="36", body="回复第三十六条的独特内容")
    reply = Comment.objects.get(body="回复第三十六条的独特内容")
    assert reply.status == Comment.Status.APPROVED
    target = f"{page_url(post, 2)}#comment-{reply.number}"

    home = client.get("/").content.decode()
    widget = home[home.index("widget-recent-comments") :]
    assert f'href="{reply.get_absolute_url()}"' in widget
    feed = feedparser.parse(client.get("/feed/comments/").content)
    links = [entry.link for entry in feed.entries]
    assert f"https://kexue.test{reply.get_absolute_url()}" in links
    guids = [entry.id for entry in feed.entries]
    assert f"https://kexue.test{post.get_absolute_url()}#comment-{reply.number}" in guids
    search = client.get("/search/", {"q": "独特内容"}).content.decode()
    assert f'href="{reply.get_absolute_url()}"' in search
    emails = {m.to[0]: m.body for m in mail.outbox}
    for body in (emails["parent@example.org"], emails["su@kexue.test"]):
        assert f"https://kexue.test{reply.get_absolute_url()}" in body

    response = client.get(reply.get_absolute_url())
    assert response["Location"] == target
    assert f'id="comment-{reply.number}"' in client.get(target.split("#")[0]).content.decode()


def test_held_comment_email_links_the_admin_not_a_missing_page(client):
    post = PostFactory(authors=[UserFactory(username="su", email="su@kexue.test")])
    submit(client, post)  # a new commenter: held
    [email] = mail.outbox
    assert "/admin/blog/comment/" in email.body
    assert "On the site" not in email.body and "网站上" not in email.body
    assert f"/archives/{post.pk}/comment/1/" not in email.body


def test_admin_links_published_comments_only(staff_client):
    post = PostFactory()
    threads(post, 31)
    held = CommentFactory(post=post, status=Comment.Status.PENDING)
    published = Comment.objects.get(post=post, number=31)
    change = reverse("admin:blog_comment_change", args=[published.pk])
    assert f'href="{published.get_absolute_url()}"' in staff_client.get(change).content.decode()
    change = reverse("admin:blog_comment_change", args=[held.pk])
    assert 'class="viewsitelink"' not in staff_client.get(change).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = staff_client.post(
            change,
            {
                "status": "pending",
                "author_name": held.author_name,
                "email": held.email,
                "website": "",
                "body": held.body,
                "staff_reply": "作者的回复",
            },
            follow=True,
        )
    reply = Comment.objects.get(body="作者的回复")
    assert f'href="{reply.get_absolute_url()}"' in response.content.decode()
    location = staff_client.get(reply.get_absolute_url())["Location"]
    assert location == f"{page_url(post, 2)}#comment-{reply.number}"


# --- posting ------------------------------------------------------------------------------


def test_a_published_comment_lands_on_its_page_with_the_message(client):
    post = PostFactory()
    threads(post, 30)
    trusted = CommentFactory(post=post, email="zhang.san@example.org")  # #31, page 2
    client.cookies[TRUST_COOKIE] = trust_cookie(trusted)
    response = submit(client, post, body="第三十二条 $x$")
    assert response.status_code == 303
    assert response["Location"] == f"{page_url(post, 2)}#comment-32"
    html = client.get(response["Location"]).content.decode()
    assert "你的评论 #32 已发布" in html and 'id="comment-32"' in html


def test_a_refused_reply_comes_back_on_its_threads_page_with_everything_typed(client):
    post = PostFactory()
    threads(post, 31)
    response = submit(client, post, reply_to="31", email="not-an-email", body="我的回复文字")
    assert response.status_code == 400
    html = response.content.decode()
    assert "有效的 Email" in html and "我的回复文字</textarea>" in html
    assert 'name="reply_to" value="31"' in html and 'id="comment-31"' in html
    response = submit(client, post, email="not-an-email", body="顶层评论文字")
    html = response.content.decode()
    assert "顶层评论文字</textarea>" in html and 'id="comment-1"' in html


# --- caching ------------------------------------------------------------------------------


def test_a_new_comment_shows_on_the_last_page_at_once_for_anonymous_readers(client):
    post = PostFactory()
    threads(post, 60)
    assert shown(client, post, 2)[-1] == 60
    assert client.get(page_url(post, 3)).status_code == 404
    assert client.get(page_url(post, 2))["Cache-Control"].startswith("public")  # page cache
    held = CommentFactory(post=post, status=Comment.Status.PENDING, body="新的一条")
    assert client.get(page_url(post, 3)).status_code == 404  # held: nothing changes
    approve(Comment.objects.filter(pk=held.pk))
    assert shown(client, post, 3) == [61]
    assert "61条评论" in client.get(page_url(post, 2)).content.decode()
    assert (
        f'href="{page_url(post, 3)}#comments">3</a>'
        in client.get(post.get_absolute_url()).content.decode()
    )
