"""MathJax, served by the app, typesets every formula exactly as kexue.fm does."""

import pytest
from django.core.management import call_command

from tests.browser.conftest import wait_for_mathjax
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db(transaction=True)

EQUATIONS = r"""
第一个公式
$$\begin{equation}\boldsymbol{o}_t = \sum_{i\le t} \alpha_{t,i}\boldsymbol{v}_i \label{eq:attn}\end{equation}$$

对齐环境：
\begin{align}
a &= b + \cancel{c} \\[5pt]
\text{中文} &= \style{color: red}{d}
\end{align}

数组：$$\left\{\begin{array}{c|cc}\hline x & 1 & 2 \\ \hline \end{array}\right.$$

由式$\eqref{eq:attn}$可知，$y^*_i = x_i * 2$。
"""


def math_report(page):
    return page.evaluate(
        """() => ({
            containers: document.querySelectorAll('mjx-container').length,
            errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
            raw: [...document.querySelectorAll('.article-body .math')].filter(e => !e.querySelector('mjx-container')).map(e => e.textContent),
            labels: [...document.querySelectorAll('mjx-assistive-mml mlabeledtr > mtd:first-child')].map(e => e.textContent),
        })"""
    )


def test_post_equations_render_number_and_link(live_server, page):
    post = PostFactory(body=EQUATIONS)
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)
    report = math_report(page)
    assert report["errors"] == []
    assert report["raw"] == []
    assert report["containers"] >= 5
    assert "(1)" in report["labels"]
    assert {"(2)", "(3)"} <= set(report["labels"])  # align numbers each line
    # \eqref is a link to the labelled equation, and following it scrolls there.
    link = page.locator("mjx-container a[href^='#mjx-eqn']").first
    target_id = link.get_attribute("href")[1:]
    target = page.evaluate(
        """id => {
            const el = document.getElementById(decodeURIComponent(id));
            return el && el.closest('mjx-container').querySelector('mjx-assistive-mml').textContent;
        }""",
        target_id,
    )
    assert target and "(1)" in target  # the link points at equation (1)
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    link.click()
    page.wait_for_function("() => location.hash.startsWith('#mjx-eqn')")
    in_view = page.evaluate(
        """id => { const r = document.getElementById(decodeURIComponent(id)).getBoundingClientRect();
                   return r.top >= -1 && r.bottom <= window.innerHeight + 1; }""",
        target_id,
    )
    assert in_view
    assert page.js_errors == []


def test_mathjax_is_served_by_the_site_itself(live_server, page):
    post = PostFactory(body="$x$\n")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)
    assert any("/static/mathjax/tex-chtml-full.js" in url for url in requested)
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requested)


def test_demo_posts_render_without_math_errors(live_server, page):
    call_command("load_demo_content", verbosity=0)
    for pk in (10091, 9859, 10137, 10427, 8338, 3567, 10001):
        page.goto(f"{live_server.url}/archives/{pk}/")
        wait_for_mathjax(page)
        report = math_report(page)
        assert report["errors"] == [], pk
        assert report["raw"] == [], pk
        assert report["containers"] > 0, pk


def test_wide_display_math_scrolls_instead_of_overflowing_on_a_phone(live_server, browser):
    post = PostFactory(body="$$" + " + ".join(f"x_{{{i}}}^2" for i in range(80)) + "$$\n")
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)
    widths = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, view: window.innerWidth,"
        " math: document.querySelector('mjx-container[display=\"true\"]').scrollWidth,"
        " box: document.querySelector('mjx-container[display=\"true\"]').clientWidth})"
    )
    context.close()
    assert widths["doc"] <= widths["view"]
    assert widths["math"] > widths["box"]  # the formula scrolls inside its own box


def test_dollar_prices_stay_text_in_a_post_and_a_comment(live_server, page):
    post = PostFactory(body="价格是 $5 和 $10 美元，而 $x$ 是变量。\n")
    CommentFactory(post=post, body="这本书 $5 和 $10 美元都有卖，而 $y$ 呢？")
    page.goto(live_server.url + post.get_absolute_url())
    wait_for_mathjax(page)
    assert "价格是 $5 和 $10 美元，而" in page.locator(".article-body").first.inner_text()
    assert "这本书 $5 和 $10 美元都有卖，" in page.locator(".comment-body").first.inner_text()
    typeset = page.evaluate(
        "() => [...document.querySelectorAll('mjx-container mjx-assistive-mml')]"
        ".map(e => e.textContent)"
    )
    assert sorted(typeset) == ["x", "y"]
