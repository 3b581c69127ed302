"""The table of contents in real Chromium: beside the article and held in view on a desktop,
folded above the article on a phone, and its links jump to the headings. No CSP violation."""

import pytest

from tests.browser.test_csp import RECORD_VIOLATIONS, collected_violations
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)

SECTIONS = 8
LONG_BODY = "\n\n".join(
    f"## 第{n}节 {'长标题' * (n % 3)}\n\n" + "\n\n".join(f"第{n}节第{p}段。" * 30 for p in range(6))
    for n in range(1, SECTIONS + 1)
)


@pytest.fixture
def long_post(transactional_db):
    return PostFactory(title="一篇很长的文章", body=LONG_BODY, show_toc=True)


def open_post(page, live_server, post, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + post.get_absolute_url())
    return page.locator("details.post-toc")


def test_on_a_desktop_the_toc_is_beside_the_article_and_stays_in_view(live_server, page, long_post):
    toc = open_post(page, live_server, long_post, 1280)
    page.wait_for_function("() => document.querySelector('details.post-toc').open")
    links = toc.locator("nav a")
    assert links.count() == SECTIONS and links.first.is_visible()
    article = page.locator("article.post").bounding_box()
    box = toc.bounding_box()
    assert box["x"] >= article["x"] + article["width"]  # to the right of the article
    assert box["y"] < 800  # on the first screen

    # The sidebar's widgets come after it in the same column.
    sidebar = page.locator("aside.sidebar").bounding_box()
    assert abs(sidebar["x"] - box["x"]) < 1 and sidebar["y"] >= box["y"] + box["height"]

    page.mouse.wheel(0, 4000)
    page.wait_for_function("() => window.scrollY > 3000")
    box = toc.bounding_box()
    assert box["y"] >= 0 and box["y"] + 40 < 800  # still on screen: sticky
    assert toc.locator("nav a").first.is_visible()
    assert page.js_errors == [] and collected_violations(page) == []


def test_on_a_phone_the_toc_is_folded_above_the_article_and_opens(live_server, page, long_post):
    toc = open_post(page, live_server, long_post, 390)
    page.wait_for_load_state("load")
    assert toc.get_attribute("open") is None
    assert not toc.locator("nav a").first.is_visible()
    title = page.locator("h1.post-title").bounding_box()
    box = toc.bounding_box()
    assert box["y"] + box["height"] <= title["y"] and box["width"] > 300  # above, full width
    assert box["height"] < 80  # folded: one line

    toc.locator("summary").click()
    assert toc.get_attribute("open") is not None
    assert toc.locator("nav a").nth(SECTIONS - 1).is_visible()
    assert page.js_errors == [] and collected_violations(page) == []


@pytest.mark.parametrize("width", [390, 1280])
def test_toc_links_jump_to_their_headings(live_server, page, long_post, width):
    toc = open_post(page, live_server, long_post, width)
    if width == 390:
        toc.locator("summary").click()
    else:
        page.wait_for_function("() => document.querySelector('details.post-toc').open")
    target = toc.locator("nav a").nth(5)
    href = target.get_attribute("href")
    target.click()
    page.wait_for_function(
        "(hash) => location.hash === hash", arg=page.evaluate("(h) => encodeURI(h)", href)
    )
    heading = page.locator(f"[id='{href[1:]}']")
    assert heading.evaluate("(h) => h.tagName") == "H2"
    top = heading.bounding_box()["y"]
    assert 0 <= top < 100  # scrolled to the top of the viewport
