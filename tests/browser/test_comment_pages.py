"""Pages of comments in real Chromium: the pager, and links to comments on other pages."""

import re

import pytest

from tests.browser.test_csp import RECORD_VIOLATIONS, collected_violations
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def long_discussion(settings):
    """31 threads: #1 … #30 on page 1, #31 on page 2 quoting #2 (back on page 1)."""
    settings.BLOG_COMMENTS_PER_PAGE = 30
    post = PostFactory(body="没有公式的正文。\n")
    for number in range(1, 31):
        CommentFactory(post=post, author_name=f"读者{number}", body=f"第{number}条评论")
    CommentFactory(
        post=post,
        author_name="乙",
        body="> [#2](#comment-2) **读者2**：第2条评论\n\n我不同意第二条。",
    )
    return post


def test_pager_goes_to_page_2_and_a_quote_goes_back_to_its_comment(live_server, page, settings):
    post = long_discussion(settings)
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + post.get_absolute_url())
    assert page.locator("#comment-31").count() == 0
    pager = page.get_by_role("navigation", name="评论分页").first
    assert pager.get_by_role("link", name="1").get_attribute("aria-current") == "page"

    pager.get_by_role("link", name="2").click()
    page.wait_for_url(re.compile(r".*/comment-page-2/#comments$"))
    assert page.locator("#comment-31").is_visible()
    assert page.locator("#comment-2").count() == 0
    assert "评论第2页" in page.title()

    page.locator("#comment-31 .comment-body a[href='#comment-2']").click()
    page.wait_for_url(re.compile(rf".*/archives/{post.pk}/#comment-2$"))
    page.locator("#comment-2").wait_for()
    assert page.evaluate("document.querySelector(':target')?.id") == "comment-2"
    assert page.locator("#comment-2").is_visible()  # scrolled to it
    assert page.js_errors == []
    assert collected_violations(page) == [], "\n".join(collected_violations(page))


def test_an_old_link_to_a_comment_finds_its_page(live_server, page, settings):
    """Links written before comments had pages: /archives/<id>/#comment-31."""
    post = long_discussion(settings)
    page.goto(f"{live_server.url}{post.get_absolute_url()}#comment-31")
    page.wait_for_url(re.compile(r".*/comment-page-2/#comment-31$"))
    page.locator("#comment-31").wait_for()
    assert page.evaluate("document.querySelector(':target')?.id") == "comment-31"
    page.goto(f"{live_server.url}{post.get_absolute_url()}#comment-99")  # no such comment
    page.wait_for_timeout(500)
    assert page.url.endswith(f"/archives/{post.pk}/#comment-99")
    assert page.js_errors == []
