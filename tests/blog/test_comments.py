"""Comments: posting, moderation, spam defences, threads, counts, widget, feed and emails."""

import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import feedparser
import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog import sidebar
from blog.comments import notify, spam
from blog.comments.html import render
from blog.comments.workflow import TRUST_COOKIE, approve, mark_spam
from blog.models import Comment, Post
from tests.factories import CommentFactory, PostFactory, UserFactory, trust_cookie

pytestmark = pytest.mark.django_db


def old_token(post, seconds=10):
    """A form token issued ``seconds`` ago: old enough to pass the minimum-time check."""
    with time_machine.travel(timezone.now() - timedelta(seconds=seconds)):
        return spam.form_token(post.pk)


def form_data(post, **overrides):
    data = {
        "author_name": "张三",
        "email": "Zhang.San@Example.org",
        "website": "",
        "body": "请问 $\\alpha$ 怎么取？",
        "token": old_token(post),
        "subject": "",
        "reply_to": "",
    }
    return data | overrides


def send(client, url, data, **extra):
    """POST, running the on-commit callbacks (emails) that a test's transaction would hold back."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data, **extra)


def submit(client, post, **overrides):
    return send(
        client, reverse("blog:comment_create", args=[post.pk]), form_data(post, **overrides)
    )


def page(client, post) -> str:
    return client.get(post.get_absolute_url()).content.decode()


def comments_section(html: str) -> str:
    return html[
        html.index('<section id="comments"') : html.index(
            "</section>", html.index('<section id="comments"')
        )
    ]


def token_in(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


# --- the form and posting -------------------------------------------------------------------


def test_post_page_shows_form_with_token_honeypot_and_loads_mathjax_and_script(client):
    post = PostFactory(body="没有公式。\n")
    html = page(client, post)
    assert 'id="respond"' in html
    assert 'name="token"' in html and 'name="subject"' in html
    assert f'action="/archives/{post.pk}/comments/"' in html
    assert "tex-chtml-full.js" in html  # the preview typesets math even on a post without any
    assert 'defer src="/static/js/comments.js"' in html


def test_closed_post_keeps_its_comments_but_has_no_form(client):
    post = PostFactory(body="没有公式。\n", comments_open=False)
    assert "评论已关闭" in page(client, post)
    assert 'id="respond"' not in page(client, post)
    assert "tex-chtml" not in page(client, post)
    CommentFactory(post=post, body="旧评论")
    html = page(client, post)
    assert "旧评论" in html and "tex-chtml" not in html  # no math anywhere: no MathJax
    CommentFactory(post=post, body="带公式的评论 $x^2$")
    assert "tex-chtml-full.js" in page(client, post)


def test_new_commenter_is_held_with_a_clear_message_and_the_author_is_emailed(client):
    author = UserFactory(username="su", email="su@kexue.test")
    post = PostFactory(authors=[author])
    response = submit(client, post)
    assert response.status_code == 303
    assert response["Location"] == f"{post.get_absolute_url()}#comments"
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING and comment.number == 1
    assert comment.email == "zhang.san@example.org"
    assert comment.approved_at is None
    follow = client.get(response["Location"]).content.decode()
    assert "等待审核" in follow
    assert "怎么取" not in comments_section(follow)  # held: not public
    [email] = mail.outbox
    assert email.to == ["su@kexue.test"]
    assert f"#{comment.number}" in email.subject and post.title in email.subject
    assert f"https://kexue.test/admin/blog/comment/{comment.pk}/change/" in email.body


def test_commenter_holding_the_cookie_of_an_approved_comment_is_published_at_once(client):
    post = PostFactory()
    first = submit(client, post, body="第一条评论")
    assert first.cookies[TRUST_COOKIE]["httponly"] and first.cookies[TRUST_COOKIE]["samesite"]
    approve(Comment.objects.filter(number=1))
    response = submit(client, post, body="第二条评论 $x^2$")
    comment = Comment.objects.get(number=2)
    assert comment.status == Comment.Status.APPROVED and comment.approved_at
    assert response.status_code == 303
    assert response["Location"] == f"{post.get_absolute_url()}#comment-2"
    html = client.get(response["Location"]).content.decode()
    assert "#2" in html and "已发布" in html
    assert '第二条评论 <span class="math inline">\\(x^2\\)</span>' in html


def test_a_spam_or_pending_history_does_not_auto_approve(client):
    post = PostFactory()
    spam_comment = CommentFactory(
        post=post, email="zhang.san@example.org", status=Comment.Status.SPAM
    )
    client.cookies[TRUST_COOKIE] = trust_cookie(spam_comment)
    submit(client, post)
    assert Comment.objects.get(number=2).status == Comment.Status.PENDING
    submit(client, post)  # the cookie now names the held comment #2
    assert Comment.objects.get(number=3).status == Comment.Status.PENDING


def test_typing_an_approved_commenters_email_is_held_and_answered_like_a_new_email(client):
    author = UserFactory(username="su", email="bojone@kexue.test", is_staff=True)
    post = PostFactory(authors=[author])
    CommentFactory(post=post, email="bojone@kexue.test", user=author, is_staff_reply=True)
    CommentFactory(post=post, email="zhang.san@example.org")
    answers = []
    for email in ("BoJone@kexue.test", "zhang.san@example.org", "nobody@example.org"):
        response = submit(Client(), post, author_name="苏剑林", email=email)
        comment = Comment.objects.latest("number")
        assert comment.status == Comment.Status.PENDING
        assert not comment.is_staff_reply and comment.user is None
        answers.append((response.status_code, response["Location"], list(response.cookies)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][:2] == (303, f"{post.get_absolute_url()}#comments")
    assert "苏剑林" not in comments_section(page(Client(), post))


@pytest.mark.parametrize("cookie", ["forged", "tampered", "another_email", "expired"])
def test_a_forged_tampered_foreign_or_expired_trust_cookie_is_held(client, cookie):
    post = PostFactory()
    mine = CommentFactory(post=post, email="zhang.san@example.org")
    theirs = CommentFactory(post=post, email="li.si@example.org")
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        old_cookie = trust_cookie(mine)
    client.cookies[TRUST_COOKIE] = {
        "forged": f"{mine.pk}:not-a-signature",
        "tampered": trust_cookie(theirs).replace(f"{theirs.pk}:", f"{mine.pk}:", 1),
        "another_email": trust_cookie(theirs),
        "expired": old_cookie,
    }[cookie]
    submit(client, post)
    assert Comment.objects.get(number=3).status == Comment.Status.PENDING


def test_staff_comment_from_the_site_is_published_and_marked_as_the_authors(staff_client, staff):
    post = PostFactory()
    response = staff_client.post(
        reverse("blog:comment_create", args=[post.pk]),
        {"body": "作者的回复", "token": old_token(post)},
    )
    assert response.status_code == 303
    comment = Comment.objects.get()
    assert comment.is_staff_reply and comment.user == staff
    assert comment.status == Comment.Status.APPROVED
    html = staff_client.get(post.get_absolute_url()).content.decode()
    assert 'class="comment comment-staff"' in html and "comment-badge" in html


def test_staff_replying_from_the_site_at_once_is_not_refused_as_too_fast(staff_client):
    post = PostFactory()
    with time_machine.travel(timezone.now(), tick=False):
        token = token_in(page(staff_client, post))
        response = staff_client.post(
            reverse("blog:comment_create", args=[post.pk]), {"body": "马上回复", "token": token}
        )
    assert response.status_code == 303
    assert Comment.objects.get().body == "马上回复"


def test_every_aria_describedby_in_the_comment_form_points_at_an_element(client):
    html = page(client, PostFactory())
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    assert "id_body_helptext" in " ".join(described)
    for ids in described:
        for element_id in ids.split():
            assert f'id="{element_id}"' in html


def test_a_reply_link_followed_without_javascript_names_whom_it_answers(client):
    post = PostFactory()
    CommentFactory(post=post, author_name="张三")
    html = client.get(post.get_absolute_url() + "?replyto=1").content.decode()
    banner = re.search(r'<p class="comment-replying">(.*?)</p>', html, re.S).group(1)
    assert re.sub(r"<[^>]+>|\s+", "", banner).startswith("回复#1张三")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"author_name": ""}, "这个字段是必填项"),
        ({"email": "not-an-email"}, "有效的 Email"),
        ({"website": "javascript:alert(1)"}, "有效的 URL"),
        ({"website": "ftp://example.org/"}, "有效的 URL"),
        ({"body": " "}, "这个字段是必填项"),
        ({"body": "x"}, "太短"),
        ({"body": "长" * 10_001}, "10000"),
        ({"author_name": "名" * 61}, "60"),
        ({"author_name": "a\nBcc: x@evil.example"}, "控制字符"),
        ({"reply_to": "99"}, "不存在"),
        ({"reply_to": "99999999999999999999"}, "2147483647"),
        ({"body": "空\x00字符"}, "空字符"),
        ({"author_name": "空\x00字符"}, "空字符"),
    ],
)
def test_invalid_input_rerenders_the_post_with_errors_and_the_typed_text(client, overrides, error):
    post = PostFactory()
    response = submit(client, post, **overrides)
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert post.title in html  # the post page, not a bare error
    assert "请问 $\\alpha$ 怎么取？" in html or overrides.get("body") is not None
    assert not Comment.objects.exists()


def test_typed_text_is_kept_escaped_when_the_form_comes_back(client):
    post = PostFactory()
    body = "</textarea><script>alert(1)</script> $a<b$"
    html = submit(client, post, body=body, email="bad").content.decode()
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt; $a&lt;b$</textarea>" in html
    assert "<script>alert(1)" not in html


def test_reply_to_a_held_comment_is_refused(client):
    post = PostFactory()
    CommentFactory(post=post, status=Comment.Status.PENDING)
    assert submit(client, post, reply_to="1").status_code == 400


def test_reply_to_a_comment_of_another_post_is_refused(client):
    post, other = PostFactory(), PostFactory()
    CommentFactory(post=other)
    assert submit(client, post, reply_to="1").status_code == 400


def test_honeypot_filled_in_is_refused(client):
    post = PostFactory()
    response = submit(client, post, subject="Buy now")
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_a_form_sent_within_three_seconds_of_rendering_is_refused_then_accepted(client):
    post = PostFactory()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token = token_in(page(client, post))
        traveller.shift(1)
        response = submit(client, post, token=token)
        assert response.status_code == 400
        assert "太快" in response.content.decode()
        traveller.shift(3)
        assert submit(client, post, token=token).status_code == 303
    assert Comment.objects.count() == 1


def test_an_expired_a_forged_or_another_posts_token_is_refused(client):
    post, other = PostFactory(), PostFactory()
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        expired = spam.form_token(post.pk)
    for token, message in [
        (expired, "已过期"),
        (old_token(other), "损坏"),
        ("forged", "损坏"),
        (old_token(post)[:-2] + "xx", "损坏"),
    ]:
        response = submit(client, post, token=token)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not Comment.objects.exists()


def test_refused_form_comes_back_with_a_fresh_token(client):
    post = PostFactory()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        html = submit(client, post, token=spam.form_token(post.pk)).content.decode()
        traveller.shift(5)
        assert submit(client, post, token=token_in(html)).status_code == 303


def test_rate_limit_per_address_through_the_cache(client, settings):
    settings.BLOG_COMMENT_RATE = (3, 600)
    post = PostFactory()
    for _ in range(3):
        assert submit(client, post).status_code == 303
    response = submit(client, post)
    assert response.status_code == 429
    assert "过多" in response.content.decode()
    assert Comment.objects.count() == 3
    # Another address is not affected.
    response = client.post(
        reverse("blog:comment_create", args=[post.pk]), form_data(post), REMOTE_ADDR="10.0.0.2"
    )
    assert response.status_code == 303


def test_rate_limit_window_passes(client, settings):
    settings.BLOG_COMMENT_RATE = (1, 60)
    post = PostFactory()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert submit(client, post).status_code == 303
        assert submit(client, post).status_code == 429
        traveller.shift(61)
        assert submit(client, post).status_code == 303


def test_junk_posts_do_not_use_the_comment_quota(client, settings):
    post = PostFactory()
    url = reverse("blog:comment_create", args=[post.pk])
    for _ in range(settings.BLOG_COMMENT_RATE[0] + 1):
        assert client.post(url, {"x": "1"}).status_code == 400
    assert submit(client, post).status_code == 303


def test_reader_traffic_cannot_evict_the_comment_limit(client, settings):
    """Without Redis, the default cache keeps 300 entries: 330 reader dedupe marks push older
    entries out. The limits live in a cache of their own."""
    from django.core.cache import cache

    from tests.blog.test_readers import beacon

    settings.BLOG_COMMENT_RATE = (2, 600)
    post = PostFactory()
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(2):
            assert submit(client, post).status_code == 303
        readers = Client()
        for n in range(330):  # 330 readers, each from an address of its own
            beacon(readers, post, REMOTE_ADDR=f"10.1.{n // 200}.{n % 200}")
        assert len(cache._cache) < 330  # the default cache did push entries out
        assert submit(client, post).status_code == 429
    assert Comment.objects.count() == 2


def test_address_is_stored_only_as_a_keyed_hash(client):
    post = PostFactory()
    client.post(
        reverse("blog:comment_create", args=[post.pk]), form_data(post), REMOTE_ADDR="203.0.113.7"
    )
    comment = Comment.objects.get()
    assert len(comment.client_hash) == 32 and "203.0.113.7" not in comment.client_hash
    assert re.fullmatch(r"[0-9a-f]{32}", comment.client_hash)


@pytest.mark.parametrize("method", ["get", "put"])
def test_comment_endpoints_only_accept_post(client, method):
    post = PostFactory()
    url = reverse("blog:comment_create", args=[post.pk])
    assert getattr(client, method)(url).status_code == 405


def test_unknown_draft_and_scheduled_posts_are_404(client):
    draft = PostFactory(status=Post.Status.DRAFT)
    scheduled = PostFactory(published_at=timezone.now() + timedelta(days=1))
    for pk in (999_999, 10**30, draft.pk, scheduled.pk):
        url = reverse("blog:comment_create", args=[pk])
        assert client.post(url, {"body": "x"}).status_code == 404
        assert client.post(reverse("blog:comment_preview", args=[pk])).status_code == 404
    assert not Comment.objects.exists()


def test_closed_post_refuses_comments_with_403(client):
    post = PostFactory(comments_open=False)
    response = submit(client, post)
    assert response.status_code == 403
    assert "评论已关闭" in response.content.decode()
    assert not Comment.objects.exists()


def test_the_email_is_never_shown_publicly(client):
    post = PostFactory()
    CommentFactory(post=post, email="secret.reader@example.org", body="公开的评论")
    urls = [post.get_absolute_url(), "/", "/archives/", reverse("blog:comments_feed")]
    for url in urls:
        html = client.get(url).content.decode()
        assert "公开的评论" in html or url == "/archives/"
        assert "secret.reader" not in html, url


def test_website_links_the_name_with_nofollow(client):
    post = PostFactory()
    CommentFactory(post=post, website="https://reader.example/", author_name="王五")
    html = page(client, post)
    assert '<a href="https://reader.example/" rel="nofollow ugc noopener">王五</a>' in html


# --- numbering --------------------------------------------------------------------------------


def test_numbers_count_per_post_including_held_comments():
    post, other = PostFactory(), PostFactory()
    numbers = [CommentFactory(post=post).number, CommentFactory(post=other).number]
    numbers += [CommentFactory(post=post, status=Comment.Status.PENDING).number]
    numbers += [CommentFactory(post=post).number]
    assert numbers == [1, 1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_concurrent_comments_on_one_post_get_distinct_consecutive_numbers(tmp_path):
    """8 threads x 5 comments at once, in a separate process on a real database: SQLite as
    deployed (a file, WAL, IMMEDIATE transactions) or this run's PostgreSQL test database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"
    else:
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        url = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "-m", "tests.blog.concurrency_probe", "8", "5"],
        env={**os.environ, "DATABASE_URL": url},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(numbers["returned"]) == list(range(1, 41))
    assert sorted(numbers["stored"]) == list(range(1, 41))


# --- threads ----------------------------------------------------------------------------------


def test_thread_nests_to_the_configured_depth_then_attaches_at_the_deepest_level(settings):
    settings.BLOG_COMMENT_MAX_DEPTH = 2
    post = PostFactory()
    c1 = CommentFactory(post=post)
    c2 = CommentFactory(post=post, parent=c1)
    c3 = CommentFactory(post=post, parent=c2)
    c4 = CommentFactory(post=post, parent=c3)  # deeper than 2: shown beside c3, naming it
    c5 = CommentFactory(post=post)
    [r1, r5] = post.comments.approved().thread(settings.BLOG_COMMENT_MAX_DEPTH)
    assert (r1.number, r5.number) == (c1.number, c5.number)
    [r2] = r1.children
    assert [c.number for c in r2.children] == [c3.number, c4.number]
    assert r2.children[1].reply_to.number == c3.number and r2.children[0].reply_to is None
    assert [c.depth for c in (r1, r2, *r2.children)] == [0, 1, 2, 2]


def test_thread_with_no_nesting_lists_every_reply_at_the_top():
    post = PostFactory()
    c1 = CommentFactory(post=post)
    CommentFactory(post=post, parent=c1)
    roots = post.comments.approved().thread(0)
    assert [c.number for c in roots] == [1, 2] and roots[1].reply_to.number == 1


def test_reply_whose_parent_is_hidden_moves_to_the_top(client):
    post = PostFactory()
    parent = CommentFactory(post=post, body="被删的")
    CommentFactory(post=post, parent=parent, body="留下的回复")
    mark_spam(Comment.objects.filter(pk=parent.pk))
    html = comments_section(page(client, post))
    assert "被删的" not in html and "留下的回复" in html


def test_thread_page_shows_numbers_anchors_reply_links_and_replying_to_labels(client, settings):
    settings.BLOG_COMMENT_MAX_DEPTH = 1
    post = PostFactory()
    c1 = CommentFactory(post=post, author_name="甲")
    c2 = CommentFactory(post=post, parent=c1, author_name="乙")
    CommentFactory(post=post, parent=c2, author_name="丙")
    html = comments_section(page(client, post))
    assert html.count('<li id="comment-') == 3
    assert '<a class="comment-number" href="#comment-1"' in html
    assert f'href="{post.get_absolute_url()}?replyto=2#respond" data-reply="2"' in html
    assert '回复 <a href="#comment-2">#2 乙</a>' in html
    assert html.index('id="comment-2"') < html.index('id="comment-3"')
    assert "3条评论" in html


@pytest.mark.parametrize("value", ["²", "-1", "abc", "1e3", ""])
def test_odd_replyto_parameters_are_ignored(client, value):
    post = PostFactory()
    response = client.get(post.get_absolute_url(), {"replyto": value})
    assert response.status_code == 200
    assert '<p class="comment-replying" hidden>' in response.content.decode()


def test_replyto_parameter_prefills_the_form_without_javascript(client):
    post = PostFactory()
    CommentFactory(post=post)
    html = client.get(post.get_absolute_url(), {"replyto": "1"}).content.decode()
    assert 'name="reply_to" value="1"' in html
    assert '<p class="comment-replying">' in html  # shown, not hidden
    response = submit(client, post, reply_to="1")
    assert response.status_code == 303
    assert Comment.objects.get(number=2).parent.number == 1


def make_thread(post, size):
    """``size`` approved comments: a third top-level, a third replies, a third replies to those."""
    made = []
    for level in range(3):
        batch = []
        for i in range(size // 3 + (level < size % 3)):
            number = len(made) + len(batch) + 1
            comment = Comment(
                post=post,
                number=number,
                author_name=f"读者{number}",
                email=f"r{number}@example.org",
                body=f"第{number}条 $x_{{{number}}}$",
                status=Comment.Status.APPROVED,
                parent=made[i % len(made)] if made else None,
            )
            comment.render()
            batch.append(comment)
        made += Comment.objects.bulk_create(batch)
    return made


def thread_page_queries(client, size, shown) -> int:
    post = PostFactory()
    make_thread(post, size)
    client.get("/")  # warm the sidebar cache
    client.cookies["messages"] = "x"  # not from the page cache: the thread is built
    with CaptureQueriesContext(connection) as queries:
        html = client.get(post.get_absolute_url()).content.decode()
    assert html.count('<li id="comment-') == shown
    assert f"{size}条评论" in html
    return len(queries)


def test_first_comment_page_loads_in_the_same_few_queries_for_5_and_500_comments(client):
    five = thread_page_queries(client, 5, shown=5)
    # 167 threads of 500 comments: the first 30 with their replies (a reply to #k is #167+k).
    assert thread_page_queries(client, 500, shown=90) == five
    assert five <= 9


# --- preview --------------------------------------------------------------------------------


def test_preview_returns_the_sanitised_html_as_it_will_be_published(client):
    post = PostFactory()
    body = "**粗体** $\\alpha$ <script>alert(1)</script> [x](javascript:alert(1))"
    response = client.post(reverse("blog:comment_preview", args=[post.pk]), {"body": body})
    assert response.status_code == 200
    assert response.json()["html"] == render(body).html
    assert "<script" not in response.json()["html"]
    assert "<strong>粗体</strong>" in response.json()["html"]


def test_preview_is_rate_limited_and_size_limited(client, settings):
    settings.BLOG_COMMENT_PREVIEW_RATE = (2, 300)
    post = PostFactory()
    url = reverse("blog:comment_preview", args=[post.pk])
    assert client.post(url, {"body": "长" * 10_001}).status_code == 400
    assert client.post(url, {"body": ""}).json() == {"html": ""}
    for _ in range(2):  # the refused and the empty preview used none of the quota
        assert client.post(url, {"body": "a"}).status_code == 200
    response = client.post(url, {"body": "a"})
    assert response.status_code == 429 and response.json()["error"]


def test_preview_on_a_closed_post_is_403(client):
    post = PostFactory(comments_open=False)
    assert client.post(reverse("blog:comment_preview", args=[post.pk])).status_code == 403


def test_anonymous_post_page_does_not_use_the_csrf_token_so_it_can_be_cached(client):
    """The page cache never stores a response that used the CSRF token."""
    post = PostFactory()
    response = client.get(post.get_absolute_url())
    assert 'id="respond"' in response.content.decode()
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert not response.wsgi_request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    assert not response.cookies


def test_anonymous_comments_and_previews_need_no_csrf_token():
    post = PostFactory()
    strict = Client(enforce_csrf_checks=True)
    assert submit(strict, post).status_code == 303
    url = reverse("blog:comment_preview", args=[post.pk])
    assert strict.post(url, {"body": "$x$"}).status_code == 200


def test_logged_in_comments_and_previews_need_the_csrf_token(staff):
    post = PostFactory()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    create = reverse("blog:comment_create", args=[post.pk])
    preview = reverse("blog:comment_preview", args=[post.pk])
    data = {"body": "作者的话", "token": old_token(post)}
    assert strict.post(create, data).status_code == 403
    assert strict.post(preview, {"body": "x"}).status_code == 403
    html = strict.get(post.get_absolute_url()).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert strict.post(preview, {"body": "x"}, headers={"X-CSRFToken": csrf}).status_code == 200
    assert send(strict, create, data | {"csrfmiddlewaretoken": csrf}).status_code == 303


def test_token_endpoint_gives_a_fresh_timestamp_that_is_never_cached(client):
    post = PostFactory()
    url = reverse("blog:comment_token", args=[post.pk])
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        token = response.json()["token"]
        assert submit(client, post, token=token).status_code == 400  # too fast
        traveller.shift(5)
        assert submit(client, post, token=token).status_code == 303
    assert client.get(reverse("blog:comment_token", args=[999_999])).status_code == 404
    closed = PostFactory(comments_open=False)
    assert client.get(reverse("blog:comment_token", args=[closed.pk])).status_code == 404
    assert client.post(url).status_code == 405


# --- moderation and emails ----------------------------------------------------------------------


def test_approving_publishes_and_emails_an_opted_in_parent_once(
    client, django_capture_on_commit_callbacks
):
    post = PostFactory()
    parent = CommentFactory(post=post, email="parent@example.org", notify_on_reply=True)
    submit(client, post, reply_to=str(parent.number), body="回复你 $y$")
    reply = Comment.objects.get(number=2)
    assert reply.status == Comment.Status.PENDING
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert approve(Comment.objects.filter(pk=reply.pk)) == 1
    [email] = mail.outbox
    assert email.to == ["parent@example.org"]
    assert "回复你" in email.body and "https://kexue.test/archives/" in email.body
    assert "List-Unsubscribe" in email.extra_headers
    mark_spam(Comment.objects.filter(pk=reply.pk))
    with django_capture_on_commit_callbacks(execute=True):
        approve(Comment.objects.filter(pk=reply.pk))
    assert len(mail.outbox) == 1  # a second approval sends nothing again
    assert "回复你" in comments_section(page(client, post))


def test_no_reply_email_without_opt_in_or_to_oneself(client):
    post = PostFactory()
    quiet = CommentFactory(post=post, email="quiet@example.org", notify_on_reply=False)
    loud = CommentFactory(post=post, email="zhang.san@example.org", notify_on_reply=True)
    client.cookies[TRUST_COOKIE] = trust_cookie(loud)
    mail.outbox.clear()
    submit(client, post, reply_to=str(quiet.number))  # published (trusted), not opted in
    submit(client, post, reply_to=str(loud.number))  # replying to oneself
    assert [m.to for m in mail.outbox if "回复" in m.subject] == []


def test_published_reply_from_a_trusted_commenter_emails_the_parent_at_once(client):
    post = PostFactory()
    parent = CommentFactory(post=post, email="parent@example.org", notify_on_reply=True)
    client.cookies[TRUST_COOKIE] = trust_cookie(
        CommentFactory(post=post, email="zhang.san@example.org")
    )
    mail.outbox.clear()
    submit(client, post, reply_to=str(parent.number))
    assert [m.to for m in mail.outbox if "回复" in m.subject] == [["parent@example.org"]]


def test_author_gets_no_email_about_their_own_staff_reply(staff_client, staff):
    staff.email = "editor@kexue.test"
    staff.save()
    other = UserFactory(username="coauthor", email="co@kexue.test")
    post = PostFactory(authors=[staff, other])
    send(
        staff_client,
        reverse("blog:comment_create", args=[post.pk]),
        {"body": "作者回复", "token": old_token(post)},
    )
    assert [m.to for m in mail.outbox] == [["co@kexue.test"]]


def test_mail_failure_does_not_fail_the_comment(client, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    post = PostFactory(authors=[UserFactory(username="su", email="su@kexue.test")])
    assert submit(client, post).status_code == 303
    assert Comment.objects.count() == 1


def test_unsubscribe_link_turns_reply_emails_off_on_post_only(client):
    CommentFactory(email="parent@example.org", notify_on_reply=True)
    CommentFactory(email="parent@example.org", notify_on_reply=True)
    CommentFactory(email="other@example.org", notify_on_reply=True)
    url = reverse("blog:comment_unsubscribe", args=[notify.unsubscribe_token("parent@example.org")])
    assert client.get(url).status_code == 200
    assert Comment.objects.filter(notify_on_reply=True).count() == 3
    response = client.post(url)
    assert response.status_code == 200 and "不会再收到" in response.content.decode()
    assert list(Comment.objects.filter(notify_on_reply=True).values_list("email", flat=True)) == [
        "other@example.org"
    ]
    assert client.get(reverse("blog:comment_unsubscribe", args=["forged:token"])).status_code == 404


# --- counts, widget, feed ---------------------------------------------------------------------


def test_counts_show_approved_comments_on_cards_archive_and_byline(client):
    post = PostFactory(title="有评论的文章")
    CommentFactory.create_batch(3, post=post)
    CommentFactory(post=post, status=Comment.Status.PENDING)
    CommentFactory(post=post, status=Comment.Status.SPAM)
    link = f'<a class="comment-count" href="{post.get_absolute_url()}#comments">3条评论</a>'
    for url in ["/", "/archives/", post.get_absolute_url()]:
        assert link in client.get(url).content.decode(), url


def test_list_pages_count_comments_without_a_query_per_post(client, settings):
    settings.BLOG_POSTS_PER_PAGE = 20
    posts = PostFactory.create_batch(3)
    for post in posts:
        CommentFactory(post=post)
    client.get("/")
    with CaptureQueriesContext(connection) as few:
        client.get("/")
        client.get("/archives/")
    for post in PostFactory.create_batch(10):
        CommentFactory.create_batch(2, post=post)
    client.get("/")
    with CaptureQueriesContext(connection) as many:
        client.get("/")
        client.get("/archives/")
    assert len(many) == len(few)


def test_recent_comments_widget_shows_public_comments_with_safe_excerpts(client):
    post = PostFactory(title="文章甲")
    CommentFactory(post=post, author_name="<b>李四</b>", body="<img src=x onerror=alert(1)> 看 $x$")
    CommentFactory(post=post, body="待审", status=Comment.Status.PENDING)
    CommentFactory(post=PostFactory(status=Post.Status.DRAFT), body="草稿上的评论")
    html = client.get("/").content.decode()
    widget = html[
        html.index("widget-recent-comments") : html.index(
            "</section>", html.index("widget-recent-comments")
        )
    ]
    assert "&lt;b&gt;李四&lt;/b&gt;" in widget
    assert "&lt;img src=x onerror=alert(1)&gt; 看 $x$" in widget
    assert "《文章甲》" in widget and 'href="/archives/' in widget
    assert "待审" not in widget and "草稿上的评论" not in widget


def test_recent_comments_widget_is_one_query_and_cached_until_approval():
    post = PostFactory()
    CommentFactory.create_batch(3, post=post)
    with CaptureQueriesContext(connection) as queries:
        recent = list(Comment.objects.recent(8))
        [c.post.title for c in recent]
        [c.get_absolute_url() for c in recent]
    assert len(queries) == 1
    sidebar.widgets()
    with CaptureQueriesContext(connection) as queries:
        widgets = sidebar.widgets()
    assert len(queries) == 0 and len(widgets["recent_comments"]) == 3
    held = CommentFactory(post=post, body="刚批准的", status=Comment.Status.PENDING)
    assert len(sidebar.widgets()["recent_comments"]) == 3  # a held comment changes nothing
    approve(Comment.objects.filter(pk=held.pk))
    assert sidebar.widgets()["recent_comments"][0].excerpt == "刚批准的"
    mark_spam(Comment.objects.filter(pk=held.pk))
    assert len(sidebar.widgets()["recent_comments"]) == 3


def test_comments_feed_lists_approved_comments_with_absolute_links_and_no_email(client):
    post = PostFactory(title="文章乙")
    CommentFactory(post=post, author_name="赵六", email="zhao@example.org", body="好 $x$")
    CommentFactory(post=post, body="待审的", status=Comment.Status.PENDING)
    response = client.get("/feed/comments/", HTTP_HOST="evil.example")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo
    [entry] = feed.entries
    assert entry.link == f"https://kexue.test/archives/{post.pk}/comment/1/"  # the permalink
    assert entry.id == f"https://kexue.test{post.get_absolute_url()}#comment-1"  # as it always was
    assert "赵六" in entry.title and "文章乙" in entry.title
    assert feed.feed.link.startswith("https://kexue.test/")
    body = response.content.decode()
    assert "zhao@example.org" not in body and "evil.example" not in body and "待审的" not in body
