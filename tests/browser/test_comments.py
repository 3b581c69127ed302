"""Comments in real Chromium: hostile comments do nothing, preview typesets, reply and quote work."""

import contextlib
import json
import re
from pathlib import Path

import brs_kb
import pytest
from playwright.sync_api import Error as PlaywrightError

from blog.comments.workflow import TRUST_COOKIE
from blog.models import Comment
from tests.browser.conftest import wait_for_mathjax
from tests.factories import CommentFactory, PostFactory, trust_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:brs_kb"),
]

DATA = Path(__file__).parent.parent / "blog" / "data"
CLASSIC = json.loads((DATA / "xss_payloads.json").read_text())
TEX_ATTACKS = json.loads((DATA / "tex_attacks.json").read_text())

# Every script a payload could run ends up calling one of these or setting window.__xss.
TRAP = """
window.__xss = 0;
for (const name of ["alert", "confirm", "prompt", "print"]) {
  const real = window[name];
  window[name] = function () { window.__xss += 1; return real.apply(this, arguments); };
}
"""

# Attributes anywhere in the document that could run script or load a script URL.
SCRIPTY_ATTRIBUTES = """
[...document.querySelectorAll("*")].flatMap(element => [...element.attributes]
  .filter(a => /^on/i.test(a.name) || a.name === "srcdoc" || (
    /^(href|xlink:href|src|action|formaction|data|poster|background|ping)$/i.test(a.name)
    && /^(javascript|vbscript|data):/i.test(a.value.replace(/[\\s\\x00-\\x1f]/g, ""))) || (
    a.name === "style" && /javascript:|expression\\(|position:\\s*fixed/i.test(a.value)))
  .map(a => `${element.tagName} ${a.name}=${a.value}`))
"""

# Points of the viewport whose topmost element is drawn by a comment although the point lies
# outside that comment's own box: something escaped and covers the page.
ESCAPED_POINTS = """
() => {
  const escaped = [];
  for (const fx of [0.02, 0.25, 0.5, 0.75, 0.98]) {
    for (const fy of [0.02, 0.25, 0.5, 0.75, 0.98]) {
      const x = innerWidth * fx, y = innerHeight * fy;
      const element = document.elementFromPoint(x, y);
      if (!element) { escaped.push(`nothing at ${x},${y}`); continue; }
      const body = element.closest(".comment-body");
      if (!body) continue;
      const box = body.getBoundingClientRect();
      if (x < box.left - 1 || x > box.right + 1 || y < box.top - 1 || y > box.bottom + 1) {
        escaped.push(`${element.tagName} at ${x},${y} outside its comment`);
      }
    }
  }
  return escaped;
}
"""

POSITIONED = """
[...document.querySelectorAll("#comments *, .widget-recent-comments *")]
  .filter(e => ["fixed", "sticky"].includes(getComputedStyle(e).position))
  .map(e => e.tagName + "." + e.className)
"""


def brs_sample(step=20) -> list[str]:
    return sorted({entry["payload"] for entry in brs_kb.get_all_payloads().values()})[::step]


def hostile_post():
    post = PostFactory(title="评论安全测试", body="正文 $x$。\n")
    # The form refuses NUL characters (tests/blog/test_comments.py); PostgreSQL could not store them.
    sources = [source.replace("\x00", "") for source in CLASSIC + TEX_ATTACKS + brs_sample()]
    comments = []
    for number, source in enumerate(sources, start=1):
        comment = Comment(
            post=post,
            number=number,
            author_name=source[:60] if number % 5 == 0 else f"读者{number}",
            email=f"r{number}@example.org",
            website='https://x.example/"onmouseover="alert(1)' if number % 7 == 0 else "",
            body=source,
            status=Comment.Status.APPROVED,
        )
        comment.render()
        comments.append(comment)
    Comment.objects.bulk_create(comments)
    return post, len(sources)


def watch(page, live_server):
    """Record dialogs and every request that leaves the site."""
    dialogs, foreign = [], []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else foreign.append(request.url)
        ),
    )
    page.add_init_script(TRAP)
    return dialogs, foreign


def test_hostile_comments_and_tex_do_nothing_in_chromium(live_server, page, settings):
    settings.BLOG_COMMENTS_PER_PAGE = 1000  # every hostile comment on one page
    post, count = hostile_post()
    assert count >= 50 + 30 + 200
    dialogs, foreign = watch(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)
    assert page.locator("#comments mjx-container").count() > 20  # the TeX really was typeset
    assert page.locator("#comments li.comment").count() == count

    # Hover, focus and click over the comments, where payloads wait for events.
    page.locator("#comments li.comment").first.scroll_into_view_if_needed()
    page.evaluate(
        """for (const e of document.querySelectorAll("#comments .comment-body *")) {
             for (const type of ["mouseover", "mouseenter", "focus", "focusin"]) {
               e.dispatchEvent(new Event(type, {bubbles: true}));
             }
           }"""
    )
    for link in page.locator(".comment-body a, .comment-body mjx-container").all()[:60]:
        try:
            link.hover(timeout=2_000, force=True)
        except PlaywrightError as error:  # pushed out of its clipped box, e.g. by \kern{-10000em}
            assert "outside of the viewport" in str(error)
    # Click the typeset formulas (real links would navigate away and are plain https anyway).
    for element in page.locator("#comments mjx-container").all()[:30]:
        # A formula may be clipped out of view inside its comment, or under MathJax's menu.
        with contextlib.suppress(PlaywrightError):
            element.click(timeout=2_000, no_wait_after=True)
        page.keyboard.press("Escape")  # close MathJax's menu if a click opened it
    page.wait_for_timeout(500)

    assert dialogs == []
    assert page.evaluate("window.__xss") == 0
    assert page.evaluate(SCRIPTY_ATTRIBUTES) == []
    assert page.url.startswith(live_server.url + post.get_absolute_url())  # no navigation away
    assert foreign == []  # nothing loaded from elsewhere (no tracking pixel, no script)
    assert page.evaluate(POSITIONED) == []
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    # Nothing covers the page: at the top, and scrolled through the thread.
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.elementFromPoint(40, 20).closest('.site-header') !== null")
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height, max(height // 12, 1)):
        page.evaluate(f"window.scrollTo(0, {y})")
        assert page.evaluate(ESCAPED_POINTS) == [], y
    assert page.js_errors == []


def test_tex_href_style_and_sizes_are_neutralised_by_mathjax_safe(live_server, page):
    post = PostFactory(body="正文\n")
    for body in [
        "$\\href{javascript:alert(1)}{click me}$",
        "$\\style{position:fixed;top:0;left:0;width:100%;height:100%;background:red}{cover}$",
        "$\\class{site-header}{classy}\\cssId{main}{ided}$",
        "$\\Huge\\Huge hugetext$",
        "$\\rule{10000em}{10000em}$",
        "$\\rule{1em}{10000em}$",
        "$\\bbox[position:fixed;top:0;left:0;width:100%;height:100%;background:red]{boxed}$",
    ]:
        CommentFactory(post=post, body=body)
    dialogs, _ = watch(page, live_server)
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)
    mathjax = page.locator("#comments mjx-container")
    assert mathjax.count() == 7
    assert page.locator("#comments mjx-container a, #comments [href^='javascript']").count() == 0
    page.locator("#comment-1 mjx-container").click(no_wait_after=True)
    assert page.evaluate(POSITIONED) == []
    # \class and \cssId may only use mjx- names: no element borrows the page's classes or ids.
    assert page.locator("#comments .site-header, #comments #main").count() == 0
    # Sizes are capped: the huge rule and \Huge stay within a few hundred pixels.
    heights = page.evaluate(
        "[...document.querySelectorAll('#comments .comment-body')].map(e => e.getBoundingClientRect().height)"
    )
    assert max(heights) < 600, heights
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert dialogs == [] and page.evaluate("window.__xss") == 0


def test_preview_typesets_math_and_posting_shows_the_moderation_message(
    live_server, page, settings
):
    settings.BLOG_COMMENT_MIN_SECONDS = 0
    post = PostFactory(body="没有公式。\n")
    dialogs, _ = watch(page, live_server)
    page.goto(live_server.url + post.get_absolute_url())
    # Starting to write fetches a fresh form timestamp (the page may come from a cache).
    with page.expect_response(lambda r: "/comments/token" in r.url) as token_response:
        page.fill("#id_author_name", "王小明")
    assert token_response.value.ok
    page.fill("#id_email", "xiaoming@example.org")
    page.fill(
        "#comment-body",
        "设 $\\frac{a}{b}$，则\n\n$$\\sum_{n=1}^\\infty \\frac{1}{n^2}=\\frac{\\pi^2}{6}$$\n\n"
        "<img src=x onerror=alert(1)> [链接](javascript:alert(1))",
    )
    page.click(".comment-preview-button")
    preview = page.locator(".comment-preview")
    preview.locator("mjx-container").first.wait_for()
    assert preview.locator("mjx-container").count() == 2
    assert "<img src=x onerror=alert(1)>" in preview.inner_text()
    assert preview.locator("img, a[href^='javascript']").count() == 0
    preview.locator("mjx-container").last.click(no_wait_after=True)

    page.click(".comment-submit button[type=submit]")
    page.wait_for_url(re.compile(r".*#comments$"))
    notice = page.locator("#comments .comment-messages")
    assert "等待审核" in notice.inner_text()
    assert Comment.objects.get().status == Comment.Status.PENDING
    assert dialogs == [] and page.evaluate("window.__xss") == 0

    # The commenter's details are remembered in this browser for the next comment.
    page.goto(live_server.url + post.get_absolute_url())
    assert page.input_value("#id_author_name") == "王小明"
    assert page.input_value("#id_email") == "xiaoming@example.org"


def test_preview_shows_the_rate_limit_message(live_server, page, settings):
    settings.BLOG_COMMENT_PREVIEW_RATE = (1, 300)
    post = PostFactory()
    page.goto(live_server.url + post.get_absolute_url())
    page.fill("#comment-body", "$x$")
    page.click(".comment-preview-button")
    page.locator(".comment-preview mjx-container").wait_for()
    page.click(".comment-preview-button")
    page.locator(".comment-preview-error").wait_for()
    assert "预览次数过多" in page.inner_text(".comment-preview")


def test_reply_link_moves_the_form_and_number_click_quotes(live_server, page, settings):
    settings.BLOG_COMMENT_MIN_SECONDS = 0
    post = PostFactory()
    jia = CommentFactory(post=post, author_name="甲", email="jia@example.org", body="第一条 $a^2$")
    CommentFactory(post=post, author_name="乙*", body="第二条评论的内容")
    page.context.add_cookies(
        [{"name": TRUST_COOKIE, "value": trust_cookie(jia), "url": live_server.url}]
    )
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)

    page.click("#comment-2 .comment-number")
    assert page.input_value("#comment-body") == "> [#2](#comment-2) **乙\\***：第二条评论的内容\n\n"

    page.click("#comment-1 [data-reply]")
    assert page.locator("#comment-1 #respond").count() == 1
    assert page.input_value("input[name=reply_to]") == "1"
    assert page.is_visible(".comment-replying")
    assert " ".join(page.inner_text(".comment-replying").split()).startswith("回复 #1 甲")
    page.click(".comment-cancel-reply")
    assert page.locator("#comment-1 #respond").count() == 0
    assert page.input_value("input[name=reply_to]") == ""
    assert page.is_hidden(".comment-replying")

    page.click("#comment-1 [data-reply]")
    page.fill("#id_author_name", "甲")
    page.fill("#id_email", "jia@example.org")  # a trusted commenter: published at once
    page.fill("#comment-body", "补充：$b^2$")
    page.click(".comment-submit button[type=submit]")
    page.wait_for_url(re.compile(r".*#comment-3$"))
    wait_for_mathjax(page)
    assert page.locator("#comment-1 .comment-children #comment-3").count() == 1
    assert "已发布" in page.inner_text("#comments .comment-messages")
    assert page.locator("#comment-3 mjx-container").count() == 1


def test_staff_preview_and_reply_send_the_csrf_token(live_server, page, context, staff):
    from django.test import Client

    client = Client()
    client.force_login(staff)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    post = PostFactory()
    page.goto(live_server.url + post.get_absolute_url())
    assert page.locator("input[name=csrfmiddlewaretoken]").count() == 1
    page.fill("#comment-body", "作者预览 $x$")
    page.click(".comment-preview-button")
    page.locator(".comment-preview mjx-container").wait_for()
    assert "作者预览" in page.inner_text(".comment-preview")
