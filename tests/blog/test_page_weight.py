"""Page-weight budgets (stated in the README): what a reader downloads besides the article."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"
HTML_OVERHEAD_BUDGET = 25 * 1024  # a page's HTML minus the stored article/teaser HTML
CSS_BUDGET = 40 * 1024  # every stylesheet a public page links, uncompressed
JS_BUDGET = 40 * 1024  # the site's own scripts, MathJax excluded


def linked(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


def test_post_page_html_overhead_is_within_budget(client):
    post = PostFactory(body="正文 $x$\n" * 200)
    html = client.get(post.get_absolute_url()).content.decode()
    assert len(html.encode()) - len(post.body_html.encode()) <= HTML_OVERHEAD_BUDGET


def test_home_html_overhead_is_within_budget(client):
    posts = [PostFactory() for _ in range(settings.BLOG_POSTS_PER_PAGE)]
    html = client.get("/").content.decode()
    teasers = sum(len(p.teaser_html.encode()) for p in posts)
    assert len(html.encode()) - teasers <= HTML_OVERHEAD_BUDGET


def test_stylesheets_and_scripts_are_within_budget(client):
    post = PostFactory()
    html = client.get(post.get_absolute_url()).content.decode()
    css = linked(html, r'<link rel="stylesheet" href="/static/([^"]+)"')
    scripts = [
        s
        for s in linked(html, r'<script[^>]* src="/static/([^"]+)"')
        if not s.startswith("mathjax/")
    ]
    assert css and scripts
    assert sum((STATIC / name).stat().st_size for name in css) <= CSS_BUDGET
    assert sum((STATIC / name).stat().st_size for name in scripts) <= JS_BUDGET


def test_mathjax_is_deferred_and_only_on_pages_with_math(client):
    with_math = client.get(PostFactory(body="$x$\n").get_absolute_url()).content.decode()
    assert re.search(r'<script defer src="/static/mathjax/tex-chtml-full\.js"', with_math)
    without = client.get(
        PostFactory(body="没有公式\n", comments_open=False).get_absolute_url()
    ).content.decode()
    assert "/static/mathjax/" not in without and "mathjax-config" not in without


def test_no_script_blocks_rendering(client):
    html = client.get(PostFactory(body="$x$\n").get_absolute_url()).content.decode()
    for tag in re.findall(r"<script[^>]*src=[^>]*>", html):
        assert "defer" in tag or "mathjax-config" in tag, (
            tag
        )  # the config is tiny and must run first
