"""In Chromium: the copy-link button puts the canonical URL on the clipboard; print hides the chrome."""

import pytest

from tests.browser.conftest import wait_for_mathjax
from tests.factories import PostFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def post(transactional_db):
    tag = TagFactory(name="attention")
    PostFactory(title="相关的一篇", tags=[tag])
    return PostFactory(
        title="缓存与效果的极限拉扯",
        tags=[tag],
        body="注意力的公式 $\\text{softmax}(QK^{\\top})V$。\n\n$$\\begin{equation}a^2+b^2=c^2\\end{equation}$$\n",
    )


def test_copy_link_button_copies_the_canonical_url(live_server, context, page, post):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(live_server.url + post.get_absolute_url())
    button = page.locator(".copy-link")
    button.click()
    page.wait_for_function("document.querySelector('.copy-link-status').textContent.length > 0")
    assert page.locator(".copy-link-status").inner_text() == "链接已复制"
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"https://kexue.test/archives/{post.pk}/"
    assert page.js_errors == []


def test_copy_link_falls_back_when_the_clipboard_api_is_missing(live_server, context, page, post):
    # Plain-http pages have no navigator.clipboard: static/js/clipboard.js copies with execCommand.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})"
    )
    page.goto(live_server.url + post.get_absolute_url())
    assert page.evaluate("navigator.clipboard === undefined")
    reader = context.new_page()
    reader.goto(live_server.url + post.get_absolute_url())
    reader.evaluate("navigator.clipboard.writeText('before')")
    page.locator(".copy-link").click()
    page.wait_for_function("document.querySelector('.copy-link-status').textContent.length > 0")
    assert page.locator(".copy-link-status").inner_text() == "链接已复制"
    reader.wait_for_function("navigator.clipboard.readText().then(text => text !== 'before')")
    copied = reader.evaluate("navigator.clipboard.readText()")
    assert copied == f"https://kexue.test/archives/{post.pk}/"
    assert page.js_errors == []


def test_print_media_hides_sidebar_sharing_and_forms_but_keeps_math_and_citation(
    live_server, page, post
):
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)
    assert page.locator(".sidebar").is_visible()
    page.emulate_media(media="print")
    for selector in (".sidebar", ".share-box", ".related-posts", ".site-nav", "form"):
        assert page.locator(selector).first.is_hidden(), selector
    assert page.locator(".article-body mjx-container").first.is_visible()
    assert page.locator(".article-body mjx-container[display='true']").first.is_visible()
    assert page.locator("#cite").is_visible()
    assert page.locator(".post-title").is_visible()
    width = page.evaluate("document.querySelector('.content').getBoundingClientRect().width")
    viewport = page.evaluate("window.innerWidth")
    assert width > viewport * 0.9  # the article takes the whole page width
    assert page.js_errors == []
