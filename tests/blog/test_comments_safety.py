"""Reader input never becomes markup, script or an unsafe URL: the sanitised HTML, checked
against classic XSS payloads (tests/blog/data/xss_payloads.json), TeX attacks
(tests/blog/data/tex_attacks.json) and all ~4,900 payloads of the brs-kb corpus.
The same payloads run in real Chromium in tests/browser/test_comments.py."""

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import brs_kb
import pytest

from blog.comments.html import ALLOWED_CLASSES, ALLOWED_TAGS, render, sanitise

# brs-kb stamps each payload with datetime.utcnow(), deprecated since Python 3.12.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:brs_kb")

DATA = Path(__file__).parent / "data"
CLASSIC = json.loads((DATA / "xss_payloads.json").read_text())
TEX_ATTACKS = json.loads((DATA / "tex_attacks.json").read_text())
SAFE_HREF = re.compile(r"(https?://|mailto:|#comment-[0-9]+$)", re.IGNORECASE)
ATTRIBUTES = {"href", "title", "rel", "class", "start"}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def problems(html: str) -> list[str]:
    """Everything unsafe in sanitised HTML; an empty list means it is safe to show."""
    found = []
    if re.search(r"<\s*/?\s*script", html, re.IGNORECASE):
        found.append("script tag")
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        if tag not in ALLOWED_TAGS:
            found.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            squashed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
            if name.startswith("on"):
                found.append(f"event handler {name}")
            if name not in ATTRIBUTES:
                found.append(f"attribute {name} on <{tag}>")
            if squashed.startswith(("javascript:", "vbscript:", "data:")):
                found.append(f"script URL in {name}")
            if name == "href" and not SAFE_HREF.match(value):
                found.append(f"href {value!r}")
            if name == "class" and not set(value.split()) <= ALLOWED_CLASSES.get(tag, set()):
                found.append(f"class {value!r} on <{tag}>")
            if name == "rel" and value != "nofollow ugc noopener":
                found.append(f"rel {value!r}")
    return found


def brs_payloads() -> list[str]:
    return sorted({entry["payload"] for entry in brs_kb.get_all_payloads().values()})


def test_the_corpora_are_big_enough():
    assert len(CLASSIC) >= 50
    assert len(TEX_ATTACKS) >= 30
    assert len(brs_payloads()) >= 4_000


def test_the_checker_catches_what_it_must():
    """The checks below would notice unsanitised output (a test that cannot fail is useless)."""
    assert problems("<script>alert(1)</script>")
    assert problems('<img src=x onerror="alert(1)">')
    assert problems('<a href="javascript:alert(1)">x</a>')
    assert problems('<a href="java\nscript:alert(1)">x</a>')
    assert problems('<a href="/admin/">x</a>')
    assert problems('<span class="site-header">x</span>')
    assert problems('<div style="position:fixed">x</div>')
    assert not problems('<p><a href="https://e.org" rel="nofollow ugc noopener">e</a></p>')


@pytest.mark.parametrize("payload", CLASSIC + TEX_ATTACKS)
def test_classic_payloads_and_tex_attacks_come_out_harmless(payload):
    assert problems(render(payload).html) == []


def test_every_brs_kb_payload_comes_out_harmless():
    failures = {}
    for payload in brs_payloads():
        found = problems(render(payload).html)
        if found:
            failures[payload] = found
    assert failures == {}


def test_payloads_inside_markup_nh3_would_see_are_also_cleaned():
    """If the Markdown parser ever let raw HTML through, nh3 alone must still hold."""
    failures = {p: problems(sanitise(p)) for p in CLASSIC + brs_payloads()[::7]}
    assert {p: f for p, f in failures.items() if f} == {}


def test_math_survives_sanitising_with_its_classes():
    html = render("行内 $a<b$ 和\n\n$$\\sum_{n=1}^\\infty \\frac{1}{n^2}$$\n").html
    assert '<span class="math inline">\\(a&lt;b\\)</span>' in html
    assert '<div class="math block">\n\\[\\sum_{n=1}^\\infty \\frac{1}{n^2}\\]\n</div>' in html
    assert render("$x$").has_math and not render("x").has_math


def test_links_get_nofollow_ugc_noopener_and_only_safe_schemes():
    html = render("[a](https://e.org) <https://f.org> [m](mailto:x@e.org) [q](#comment-3)").html
    assert html.count('rel="nofollow ugc noopener"') == 4
    assert 'href="https://e.org"' in html and 'href="#comment-3"' in html
    for bad in ["[a](/admin/)", "[a](//evil.example)", "[a](#fn1)", "[a](ftp://e.org)"]:
        assert "href" not in render(bad).html, bad


def test_markdown_niceties_are_kept():
    html = render(
        "**b** *i* `c` ~~s~~\n\n> q\n\n- l\n\n| a |\n|---|\n| 1 |\n\n```python\nx = 1\n```"
    ).html
    for tag in ("<strong>", "<em>", "<code>", "<s>", "<blockquote>", "<li>", "<table>", "<pre"):
        assert tag in html, tag
    assert '<span class="n">x</span>' in html  # Pygments classes are allowed on spans


def test_images_and_raw_html_are_shown_as_text_or_links():
    html = render('![x](https://e.org/x.png) <b>b</b> <img src="https://e.org/y.png">').html
    assert "<img" not in html and "&lt;b&gt;b&lt;/b&gt;" in html


def test_pathological_inputs_render_quickly():
    # Each takes well under 0.4 s here; the bound is generous for a loaded 2-core machine and
    # still catches quadratic blow-ups (minutes).
    for source in ["[" * 10_000, "[![" * 3_333, "*a" * 5_000, "&#x" * 3_333, "$a$" * 3_333]:
        started = time.perf_counter()
        render(source)
        assert time.perf_counter() - started < 10, source[:10]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("好文章！", "好文章！"),
        ("请问 $\\alpha$ 怎么取？", "请问 $\\alpha$ 怎么取？"),
        ("长公式 $" + "x+" * 40 + "y$ 结束", "长公式 [公式] 结束"),
        ("前文\n\n$$E=mc^2$$\n\n后文", "前文 [公式] 后文"),
        ("> 引用别人的话\n\n我的话", "我的话"),
        ("<b>不是标签</b>", "<b>不是标签</b>"),
        ("```\ncode\n```\n文字", "文字"),
    ],
)
def test_excerpt_is_the_commenters_own_plain_words(source, expected):
    assert render(source).excerpt == expected


def test_excerpt_is_never_cut_inside_a_formula():
    formula = "$\\int_0^1 x^2 dx$"
    for prefix_length in range(60, 82):
        excerpt = render("字" * prefix_length + formula + "后面还有很多字" * 5).excerpt
        assert len(excerpt) <= 80
        assert excerpt.endswith("…")
        assert excerpt.count("$") in (0, 2), excerpt
        if "$" in excerpt:
            assert formula in excerpt


def test_excerpt_is_cut_in_words_when_long():
    excerpt = render("很长的句子" * 40).excerpt
    assert len(excerpt) == 80 and excerpt.endswith("…")
