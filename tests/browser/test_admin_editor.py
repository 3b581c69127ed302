"""The author types Markdown + TeX in the admin and sees it typeset in the live preview."""

import re

import pytest
from django.conf import settings

from blog.models import Comment, Post
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
    # The list shows each comment as published: only those bodies are typeset.
    assert "\\(" not in page.locator("#result_list").inner_text()
    assert (
        page.locator("mjx-container").count()
        == page.locator("#result_list .article-body mjx-container").count()
        > 0
    )
    page.goto(f"{live_server.url}/{settings.ADMIN_PATH}blog/comment/{comment.pk}/change/")
    wait_for_mathjax(page)
    assert page.locator(".article-body mjx-container").count() == 2
    assert page.locator("mjx-container").count() == 2
    assert page.locator("textarea#id_body").input_value().startswith("由式$\\eqref")


def open_editor(context, client, live_server, path="add/", width=1280):
    login(context, client, live_server)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/{settings.ADMIN_PATH}blog/post/{path}")
    page.locator(".markdownx-toolbar").wait_for()
    return page


def boxes(page):
    return page.evaluate(
        """() => ['.markdownx textarea', '.markdownx-preview'].map((s) => {
            const b = document.querySelector(s).getBoundingClientRect();
            return {left: b.left, right: b.right, width: b.width, height: b.height};
        })"""
    )


LONG_BODY = "\n\n".join(
    f"## 第{n}节\n\n" + "\n\n".join(f"第{n}节第{k}段文字。" for k in range(12)) for n in range(1, 7)
)


def test_editor_columns_are_equal_tall_and_resizable(live_server, context, client):
    page = open_editor(context, client, live_server)
    source, preview = boxes(page)
    assert abs(source["width"] - preview["width"]) <= 2
    assert source["width"] > 500
    assert source["height"] >= 0.6 * 900 and abs(source["height"] - preview["height"]) <= 2

    page.focus(".markdownx-splitter")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    source, preview = boxes(page)
    assert source["width"] > 1.5 * preview["width"]
    page.reload()  # the split is remembered
    page.locator(".markdownx-toolbar").wait_for()
    source, preview = boxes(page)
    assert source["width"] > 1.5 * preview["width"]


def test_full_screen_covers_the_window_and_escape_leaves(live_server, context, client):
    page = open_editor(context, client, live_server)
    page.click(".markdownx-fullscreen-button")
    assert page.inner_text(".markdownx-fullscreen-button") == "退出全屏"
    box = page.locator(".markdownx").bounding_box()
    assert box["x"] == 0 and box["y"] == 0 and box["width"] == 1280 and box["height"] == 900
    page.keyboard.press("Escape")
    assert page.locator(".markdownx.markdownx-fullscreen").count() == 0
    assert page.inner_text(".markdownx-fullscreen-button") == "全屏"


def test_preview_follows_the_section_being_edited(live_server, context, client):
    page = open_editor(context, client, live_server)
    page.fill("textarea#id_body", LONG_BODY)
    page.wait_for_function("() => document.querySelectorAll('.markdownx-preview h2').length === 6")
    page.evaluate(
        """() => {
            const editor = document.querySelector('textarea#id_body');
            const at = editor.value.indexOf('## 第5节');
            editor.focus();
            editor.setSelectionRange(at, at);
            editor.dispatchEvent(new Event('keyup'));
        }"""
    )
    page.wait_for_function(
        """() => {
            const preview = document.querySelector('.markdownx-preview');
            const heading = preview.querySelectorAll('h2')[4].getBoundingClientRect();
            const box = preview.getBoundingClientRect();
            return heading.top >= box.top && heading.top <= box.top + box.height / 2;
        }"""
    )


def test_ctrl_s_saves_and_keeps_continue_editing_with_the_caret(live_server, context, client):
    page = open_editor(context, client, live_server)
    page.fill("#id_title", "快捷键保存")
    page.fill("textarea#id_body", "第一行\n\n第二行的中间")
    page.evaluate("() => document.querySelector('textarea#id_body').setSelectionRange(6, 6)")
    page.focus("textarea#id_body")
    page.keyboard.press("Control+s")
    page.wait_for_url(re.compile(r".*/blog/post/\d+/change/$"))
    page.locator(".messagelist .success").wait_for()
    post = Post.objects.get(title="快捷键保存")
    assert post.body.replace("\r\n", "\n") == "第一行\n\n第二行的中间"
    assert page.evaluate("() => document.activeElement.id") == "id_body"
    assert page.evaluate("() => document.activeElement.selectionStart") == 6


def test_a_closed_tab_loses_nothing_the_draft_is_offered_back_and_cleared_on_save(
    live_server, context, client
):
    post = PostFactory(title="旧标题", body="旧正文")
    page = open_editor(context, client, live_server, f"{post.pk}/change/")
    page.fill("textarea#id_body", "没保存的新正文 $x$")
    page.wait_for_function(f"() => localStorage.getItem('admin-editor:draft:{post.pk}') !== null")
    page.close()

    page = context.new_page()
    page.goto(f"{live_server.url}/{settings.ADMIN_PATH}blog/post/{post.pk}/change/")
    offer = page.locator(".markdownx-draft")
    assert "未保存草稿" in offer.inner_text()
    assert page.input_value("textarea#id_body") == "旧正文"  # nothing replaced without asking
    offer.locator("button", has_text="恢复").click()
    assert page.input_value("textarea#id_body") == "没保存的新正文 $x$"
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    post.refresh_from_db()
    assert post.body == "没保存的新正文 $x$"
    assert page.evaluate(f"() => localStorage.getItem('admin-editor:draft:{post.pk}')") is None
    assert page.locator(".markdownx-draft").count() == 0


def test_on_a_phone_the_editor_stacks_and_fits(live_server, context, client):
    page = open_editor(context, client, live_server, width=390)
    source, preview = boxes(page)
    assert source["right"] <= 390 and preview["right"] <= 390
    assert preview["width"] == source["width"] and source["height"] >= 300
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
