"""Math typeset on the server: finished without JavaScript, and no MathJax or layout shift with it."""

import json
from pathlib import Path

import pytest

from tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)

SEEDS = json.loads(
    (Path(__file__).resolve().parents[1] / "blog" / "data" / "seed_formulas.json").read_text()
)
BODY = (
    "由式$\\eqref{eq:sdpa}$可知。\n\n"
    + "\n\n".join(f + "\n" if f.startswith("\\begin") else f"公式：{f}" for f in SEEDS)
    + "\n"
)
REPORT = """() => ({
    containers: document.querySelectorAll('.article-body mjx-container').length,
    raw: /\\\\\\(|\\\\\\[|\\\\begin\\{/.test(document.querySelector('.article-body').innerText),
    errors: document.querySelectorAll('.article-body mjx-merror').length,
    tags: [...document.querySelectorAll('mjx-assistive-mml mlabeledtr > mtd:first-child')].map(e => e.textContent),
    refs: [...document.querySelectorAll('.article-body a[href^="#mjx-eqn"]')].map(a => a.getAttribute('href')),
})"""


@pytest.fixture
def server_math(settings):
    settings.BLOG_MATHJAX_NODE = "node"


def test_every_seed_formula_is_typeset_numbered_and_linked_without_javascript(
    server_math, live_server, browser
):
    post = PostFactory(body=BODY)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + post.get_absolute_url())
    report = page.evaluate(REPORT)  # page.evaluate runs even when the page's scripts are off
    context.close()
    assert report["raw"] is False and report["errors"] == 0
    assert report["containers"] == len(SEEDS) + 1  # and the eqref
    assert report["tags"][:3] == ["(1)", "(2)", "(3)"]
    assert "#mjx-eqn%3Aeq%3Asdpa" in report["refs"]


def test_a_typeset_post_loads_no_mathjax_and_does_not_shift(server_math, live_server, page):
    post = PostFactory(body=BODY)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url + post.get_absolute_url())
    page.wait_for_load_state("load")
    assert not [url for url in requests if url.endswith(".js") and "mathjax" in url]
    assert page.locator(".eq-tools").count() >= 1  # equation permalinks without MathJax
    # MathJax's fonts are in the cache after the first page: on a first visit they race the first
    # paint (preloaded, they usually win; docs/math.md has the phone figures).
    page.goto(live_server.url + post.get_absolute_url())
    page.wait_for_load_state("load")
    shift = page.evaluate(
        """() => new Promise(resolve => {
            let total = 0;
            new PerformanceObserver(list => list.getEntries().forEach(e => total += e.value))
                .observe({type: 'layout-shift', buffered: true});
            setTimeout(() => resolve(total), 500);
        })"""
    )
    # 0.185 when the browser typeset (issue 15), 0.0016 when the fonts arrive after first paint
    assert shift == 0
    assert page.js_errors == []
