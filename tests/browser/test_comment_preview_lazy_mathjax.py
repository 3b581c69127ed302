"""A post without math does not load MathJax; the first comment preview loads it and typesets."""

import pytest

from tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_preview_loads_mathjax_on_demand(live_server, page):
    post = PostFactory(body="没有公式的文章。\n")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + post.get_absolute_url())
    assert not any("tex-chtml" in url for url in requested)
    page.fill("textarea[name=body]", "预览里的公式 $\\frac{a}{b}$")
    page.click("button.comment-preview-button")
    page.locator(".comment-preview mjx-container").first.wait_for()
    assert any("/static/mathjax/tex-chtml-full.js" in url for url in requested)
    assert page.js_errors == []
