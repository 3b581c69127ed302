"""The author types Markdown + TeX in the admin and sees it typeset in the live preview."""

import pytest
from django.conf import settings

from tests.factories import StaffFactory

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
