"""The citation panel and equation permalinks in real Chromium, clipboard included."""

from pathlib import Path

import pytest

from blog import citations
from blog.models import Post
from tests.browser.conftest import wait_for_mathjax
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_TITLE = r"引用测试：{Brace} 100% & A_b #1 $x$ ~ ^ \ “全角”（括号）</pre>"
SENTINEL = "clipboard before the click"

EQUATIONS = (
    "见式 \\eqref{eq:last}。\n\n"
    "$$\\begin{equation}a^2+b^2=c^2\\label{eq:pyth}\\end{equation}$$\n\n"
    "无标签的式子 $$\\begin{equation}x=1\\end{equation}$$\n\n"
    "\\begin{align}a&=b\\label{eq:ab}\\\\c&=d\\end{align}\n\n"
    + "填充的段落。\n\n" * 60
    + "$$\\begin{equation}z=2\\label{eq:last}\\end{equation}$$\n\n"
    + "结尾。\n\n" * 20
)


@pytest.fixture
def clipboard_page(page, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    return page


def citation_of(post) -> citations.Citation:
    return citations.for_post(Post.objects.for_cards().get(pk=post.pk))


def set_clipboard(page, text=SENTINEL):
    page.evaluate("text => navigator.clipboard.writeText(text)", text)


def clipboard_after(page, action) -> str:
    """What the clipboard holds once ``action`` has replaced the sentinel put there first."""
    set_clipboard(page)
    action()
    page.wait_for_function(
        "sentinel => navigator.clipboard.readText().then(text => text !== sentinel)",
        arg=SENTINEL,
        polling=50,
    )
    return page.evaluate("navigator.clipboard.readText()")


def test_cite_link_opens_the_panel(live_server, page):
    post = PostFactory(body="正文。\n")
    page.goto(live_server.url + post.get_absolute_url())
    panel = page.locator("details.cite-panel")
    assert not panel.evaluate("el => el.open")
    page.click("a.cite-link")
    assert panel.evaluate("el => el.open")
    page.wait_for_function("() => document.activeElement.tagName === 'SUMMARY'")
    assert page.locator("#cite-biblatex").is_visible()
    assert page.js_errors == []


def test_a_link_to_cite_opens_the_panel_on_load(live_server, page):
    post = PostFactory(body="正文。\n")
    page.goto(live_server.url + post.get_absolute_url() + "#cite")
    page.wait_for_function("() => document.querySelector('details.cite-panel').open")


def test_each_copy_button_puts_exactly_the_text_shown_on_the_clipboard(live_server, clipboard_page):
    page = clipboard_page
    post = PostFactory(title=HOSTILE_TITLE, body="正文。\n")
    page.goto(live_server.url + post.get_absolute_url())
    page.click("a.cite-link")
    citation = citation_of(post)
    for fmt in citations.FORMATS:
        button = page.locator(f'button[data-copy="cite-{fmt.slug}"]')
        copied = clipboard_after(page, button.click)
        shown = page.locator(f"#cite-{fmt.slug}").text_content()
        assert copied == shown == fmt.render(citation), fmt.slug
        assert button.text_content() == "已复制"
    assert page.js_errors == []


def test_copy_falls_back_when_the_clipboard_api_is_missing(live_server, clipboard_page):
    page = clipboard_page
    post = PostFactory(title="回退复制", body="正文。\n")
    # Plain-http pages have no navigator.clipboard; the panel then copies with execCommand.
    page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})"
    )
    page.goto(live_server.url + post.get_absolute_url())
    assert page.evaluate("navigator.clipboard === undefined")
    reader = page.context.new_page()
    reader.goto(live_server.url + post.get_absolute_url())
    set_clipboard(reader)
    page.click("a.cite-link")
    page.click('button[data-copy="cite-gbt7714"]')
    reader.wait_for_function(
        "sentinel => navigator.clipboard.readText().then(text => text !== sentinel)",
        arg=SENTINEL,
    )
    assert reader.evaluate("navigator.clipboard.readText()") == citations.gbt7714(citation_of(post))
    assert page.js_errors == []


def _open_equations(page, url):
    page.goto(url)
    wait_for_mathjax(page)
    page.wait_for_selector(".eq-tools", state="attached")


def test_numbered_equations_get_permalinks_and_short_citations(live_server, clipboard_page):
    page = clipboard_page
    post = PostFactory(title="公式引用测试", body=EQUATIONS)
    _open_equations(page, live_server.url + post.get_absolute_url())
    ids = page.eval_on_selector_all(".eq-tools", "els => els.map(el => el.id)")
    assert ids == ["eq-eq:pyth", "eq-2", "eq-eq:ab", "eq-4", "eq-eq:last"]

    canonical = f"https://kexue.test/archives/{post.pk}/"
    first = page.locator('[id="eq-eq:pyth"]')
    assert first.evaluate("el => getComputedStyle(el).opacity") == "0"
    page.locator("mjx-container").nth(1).hover()  # nth(0) is the inline \eqref
    page.wait_for_function(
        "() => getComputedStyle(document.getElementById('eq-eq:pyth')).opacity === '1'"
    )

    link = clipboard_after(page, first.locator(".eq-permalink").click)
    assert link == canonical + "#eq-eq:pyth"
    assert page.evaluate("location.hash") == "#eq-eq:pyth"

    cite = clipboard_after(page, first.locator(".eq-cite").click)
    assert cite == f"见苏剑林《公式引用测试》式(1)：{canonical}#eq-eq:pyth"

    unlabeled = page.locator('[id="eq-2"]')
    page.locator("mjx-container").nth(2).hover()
    assert clipboard_after(page, unlabeled.locator(".eq-permalink").click) == canonical + "#eq-2"
    align_row = page.locator('[id="eq-4"]')
    page.locator("mjx-container").nth(3).hover()
    assert clipboard_after(page, align_row.locator(".eq-cite").click).endswith(
        f"式(4)：{canonical}#eq-4"
    )
    assert page.js_errors == []


def _in_viewport(page, selector) -> bool:
    return page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }",
    )


def test_an_equation_url_scrolls_to_the_equation(live_server, page):
    post = PostFactory(body=EQUATIONS)
    page.set_viewport_size({"width": 1000, "height": 700})
    _open_equations(page, live_server.url + post.get_absolute_url() + "#eq-eq:last")
    page.wait_for_selector("mjx-container.eq-target")
    assert page.evaluate("window.scrollY") > 1000
    assert _in_viewport(page, '[id="eq-eq:last"]')
    assert page.locator("mjx-container.eq-target").count() == 1


def test_eqref_links_reach_their_equation(live_server, page):
    # MathJax's ui/safe used to drop "mjx-eqn:..." ids, so \eqref links led nowhere.
    post = PostFactory(body=EQUATIONS)
    page.set_viewport_size({"width": 1000, "height": 700})
    _open_equations(page, live_server.url + post.get_absolute_url())
    assert page.evaluate("window.scrollY") == 0
    page.locator('mjx-container a[href="#mjx-eqn%3Aeq%3Alast"]').first.click()
    page.wait_for_function("() => window.scrollY > 1000")
    assert _in_viewport(page, '[id="mjx-eqn:eq:last"]')


@pytest.mark.parametrize("width", [390, 1280])
def test_latin_names_are_chosen_remembered_copied_and_downloaded(
    clipboard_page, live_server, width
):
    page = clipboard_page
    page.set_viewport_size({"width": width, "height": 844})
    post = PostFactory(title="名字的选择")
    latin = citation_of(post).in_latin()
    page.goto(live_server.url + post.get_absolute_url() + "#cite")
    assert page.is_visible(".cite-latex-note")
    page.check('input[name="cite-names"][value="latin"]')
    assert page.is_hidden("#cite-bibtex") and page.is_visible("#cite-bibtex-latin")
    copied = clipboard_after(
        page, lambda: page.click('button[aria-describedby="cite-bibtex-label"]')
    )
    assert copied == citations.bibtex(latin)

    page.reload()
    assert page.is_checked('input[name="cite-names"][value="latin"]')
    link = page.locator(".cite-format", has=page.locator("#cite-bibtex")).locator("a.cite-download")
    assert link.get_attribute("download") == f"kexuefm-{post.pk}-bibtex-latin.bib"
    with page.expect_download() as download:
        link.click()
    saved = download.value
    assert saved.suggested_filename == f"kexuefm-{post.pk}-bibtex-latin.bib"
    assert Path(saved.path()).read_text(encoding="utf-8") == citations.bibtex(latin)
