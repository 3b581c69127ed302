"""The Content Security Policy in a real browser: MathJax and the admin editor work under it."""

import pytest
from django.test import Client

from tests.browser.conftest import wait_for_mathjax
from tests.factories import PostFactory, SeriesFactory, StaffFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Collects every CSP violation the page reports, from the first script on.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
});
"""

MATH_BODY = r"""
Attention 的核心是 $\operatorname{softmax}(QK^\top/\sqrt{d})V$，见式 $\eqref{eq:rope}$。

$$\begin{equation}\boldsymbol{q}_m^\top\boldsymbol{k}_n = \text{Re}\left[\sum_i q_i k_i^* e^{\text{i}(m-n)\theta_i}\right]\label{eq:rope}\end{equation}$$

| 记号 | 含义 |
| --- | --- |
| $x|y$ | 条件 |

$$\cancel{x}\xrightarrow{f}\color{red}{y}\quad\bbox[5px,border:1px solid red]{z}\quad\style{border:2px dashed blue}{w}$$
"""


def collected_violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def test_post_with_math_renders_with_zero_csp_violations(live_server, page):
    post = PostFactory(body=MATH_BODY, series=SeriesFactory(), series_part=1, tags=[TagFactory()])
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(live_server.url + post.get_absolute_url())
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "nonce-" not in policy  # cacheable body, no nonce
    wait_for_mathjax(page)
    page.wait_for_selector("mjx-container[display='true']")
    assert page.locator("mjx-container").count() >= 5
    assert page.locator("mjx-container >> text=(1)").count() >= 1  # equation number
    # bbox and style reach the page as style attributes: the reason for style-src 'unsafe-inline'.
    borders = page.evaluate(
        "[...document.querySelectorAll('mjx-container *')]"
        ".map((e) => getComputedStyle(e)).map((s) => `${s.borderTopStyle} ${s.borderTopColor}`)"
    )
    assert "solid rgb(255, 0, 0)" in borders and "dashed rgb(0, 0, 255)" in borders
    assert page.js_errors == []
    assert collected_violations(page) == [], "\n".join(collected_violations(page))


def test_post_with_math_typeset_on_the_server_has_zero_csp_violations(settings, live_server, page):
    settings.BLOG_MATHJAX_NODE = "node"
    post = PostFactory(body=MATH_BODY)
    assert post.math_typeset
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + post.get_absolute_url())
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    fonts = page.evaluate("Object.fromEntries([...document.fonts].map(f => [f.family, f.status]))")
    assert fonts["MJXZERO"] == "loaded"  # the strut font, a data: URL in mathjax-chtml.css
    assert fonts["MJXTEX-I"] == "loaded"
    assert page.js_errors == []
    assert collected_violations(page) == [], "\n".join(collected_violations(page))


def test_inline_script_injected_into_a_page_is_blocked(live_server, page):
    """The policy is really enforced: the control for the zero-violation tests above."""
    post = PostFactory(body="<script>window.__ran = true</script>\n\n正文 $x$\n")
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in collected_violations(page))


def login(context, live_server, user):
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])


def test_admin_editor_previews_and_typesets_math_under_the_csp(live_server, context, page):
    staff = StaffFactory(username="csp-editor")
    login(context, live_server, staff)
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(live_server.url + "/admin/blog/post/add/")
    assert response.status == 200
    assert "content-security-policy" in response.headers
    page.fill("#id_title", "预览测试")
    page.locator("#id_body").fill(
        "预览：$$\\begin{equation}e^{i\\pi}+1=0\\end{equation}$$\n\n行内 $x^2$。\n"
    )
    page.locator("#id_body").dispatch_event("input")
    preview = page.locator(".markdownx-preview")
    preview.locator("mjx-container").first.wait_for()
    assert preview.locator("mjx-container").count() == 2
    assert page.js_errors == []
    assert collected_violations(page) == [], "\n".join(collected_violations(page))


def test_admin_login_form_works_under_the_csp(live_server, page):
    StaffFactory(username="csp-login")
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "csp-login")
    page.fill("#id_password", "correct horse battery staple")
    assert collected_violations(page) == []  # the login page itself
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    assert page.locator("#site-name").count() == 1
    assert collected_violations(page) == [], "\n".join(collected_violations(page))
