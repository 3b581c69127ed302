"""The author types Markdown + TeX in the admin and sees it typeset in the live preview."""

import pytest
from django.conf import settings

from blog.models import Comment
from tests.browser.conftest import wait_for_mathjax
from tests.factories import CommentFactory, PostFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


def login(context, client, live_server):
    user = StaffFactory(username="author")
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_preview_typesets_math_after_every_update(live_server, context, client):
    login(context, client, live_server)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/{settings.ADMIN_PATH}blog/post/add/")
    editor = page.locator("textarea#id_body")
    editor.fill("## 推导\n\n$$\\begin{equation}E = mc^2\\label{eq:e}\\end{equation}$$\n")
    preview = page.locator(".markdownx-preview")
    preview.locator("mjx-container").first.wait_for()
    assert "推导" in preview.locator("h2").inner_text()
    assert preview.locator("mjx-merror").count() == 0
    assert "(1)" in preview.inner_text()

    editor.fill("改过：$\\frac{a}{b}$ 与 $\\boldsymbol{x}$\n")
    page.wait_for_function(
        "() => document.querySelector('.markdownx-preview').textContent.includes('改过')"
        " && document.querySelectorAll('.markdownx-preview mjx-container').length === 2"
    )
    assert preview.locator("mjx-merror").count() == 0
    assert "\\frac" not in preview.inner_text()  # typeset, not raw TeX


# The admin's MathJax typesets the preview and rendered bodies only, not the admin's own words.


def test_body_help_text_keeps_its_literal_tex_and_more_marker(live_server, context, client):
    login(context, client, live_server)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/{settings.ADMIN_PATH}blog/post/add/")
    wait_for_mathjax(page)
    page.locator("textarea#id_body").fill("$$\\begin{equation}E = mc^2\\end{equation}$$\n")
    page.locator(".markdownx-preview mjx-container").first.wait_for()  # the preview typesets
    help_text = page.locator("#id_body_helptext").inner_text()
    assert "\\begin{equation}…\\end{equation}" in help_text
    assert "<!--more-->" in help_text
    assert (
        page.locator("mjx-container").count()
        == page.locator(".markdownx-preview mjx-container").count()
    )


def test_tex_check_warning_reads_literally(live_server, context, client):
    login(context, client, live_server)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/{settings.ADMIN_PATH}blog/post/add/")
    page.locator("input#id_title").fill("未闭合的环境")
    page.locator("textarea#id_body").fill("$$\\begin{equation}E = mc^2$$\n")
    page.locator("input[name=_continue]").click()
    wait_for_mathjax(page)
    warning = page.locator("ul.messagelist li.warning").inner_text()
    assert "\\begin{equation}" in warning and "\\end{equation}" in warning
    assert page.locator("ul.messagelist mjx-container").count() == 0


def test_comment_list_is_not_typeset_and_a_rendered_comment_is(live_server, context, client):
    post = PostFactory(body="$$\\begin{equation}a\\label{eq:a}\\end{equation}$$\n")
    comment = CommentFactory(post=post, body="由式$\\eqref{eq:a}$与 $x^2$ 可得")
    # An excerpt stored with TeX before plain text had one rule, as old comments still have.
    Comment.objects.filter(pk=comment.pk).update(excerpt="由式\\(\\eqref{eq:a}\\)可得")
    login(context, client, live_server)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/{settings.ADMIN_PATH}blog/comment/")
    wait_for_mathjax(page)
    assert "(???)" not in page.locator("#result_list").inner_text()
    assert page.locator("mjx-container").count() == 0
    page.goto(f"{live_server.url}/{settings.ADMIN_PATH}blog/comment/{comment.pk}/change/")
    wait_for_mathjax(page)
    assert page.locator(".article-body mjx-container").count() == 2
    assert page.locator("mjx-container").count() == 2
    assert page.locator("textarea#id_body").input_value().startswith("由式$\\eqref")
