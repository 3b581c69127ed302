"""Math reads one way wherever text is plain: one rule (``markup.plain_formula``), every place.

The places: the meta description, og:description and JSON-LD description of a post, the Atom
summary, search snippets of posts and comments, the 最近评论 widget and a comment's quoted
excerpt (``data-excerpt``). None shows TeX delimiters, environments, labels or references.
"""

import html
import json
import re

import feedparser
import pytest

from blog.comments.html import render as render_comment
from blog.markup import FORMULA, plain_formula, render_post
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

NOT_PLAIN = ("\\(", "\\)", "\\[", "\\]", "\\begin", "\\end", "\\label", "\\eqref", "\\ref")

POST_BODY = (
    "设 $\\boldsymbol{q}_i$ 是第 $i$ 个查询，$\\boldsymbol{q}_i = \\boldsymbol{W}_q\\boldsymbol{x}_i"
    " + \\boldsymbol{b}_q$，注意力定义为\n\n"
    "$$\\begin{equation}\\text{Attention}(Q,K,V) = \\text{softmax}(QK^{\\top})V"
    "\\label{eq:attention}\\end{equation}$$\n\n"
    "由式$\\eqref{eq:attention}$可知，打分函数 $s(\\boldsymbol{q}_i)\\label{eq:s}$ 决定权重。\n"
)
POST_EXCERPT = (
    "设 $\\boldsymbol{q}_i$ 是第 $i$ 个查询，[公式]，注意力定义为 [公式] "
    "由式可知，打分函数 $s(\\boldsymbol{q}_i)$ 决定权重。"
)
COMMENT_BODY = (
    "> 引用的话 $\\eqref{eq:attention}$\n\n"
    "请问式$\\eqref{eq:attention}$中 $\\boldsymbol{q}_i$ 的维度？\n"
    "$$\\begin{equation}d_k = d / h\\label{eq:dk}\\end{equation}$$\n"
)
COMMENT_EXCERPT = "请问式中 $\\boldsymbol{q}_i$ 的维度？ [公式]"


def assert_plain(text: str, where: str) -> None:
    for tex in NOT_PLAIN:
        assert tex not in text, f"{tex!r} in {where}: {text!r}"


# --- the rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tex", "display", "expected"),
    [
        ("x_i", False, "$x_i$"),
        ("  a +\n b ", False, "$a + b$"),
        ("\\boldsymbol{q}_i^{\\top}k_j", False, "$\\boldsymbol{q}_i^{\\top}k_j$"),
        ("\\sum_{i=1}^{n} a_i b_i = \\langle a, b \\rangle", False, FORMULA),  # longer than 30
        ("x^2", True, FORMULA),  # displayed
        ("\\begin{equation}E=mc^2\\label{eq:e}\\end{equation}", True, FORMULA),
        ("\\eqref{eq:e}", False, ""),  # a reference alone reads as nothing
        ("\\ref{fig}", False, ""),
        ("f(x)\\label{eq:f}", False, "$f(x)$"),
    ],
)
def test_plain_formula_rule(tex, display, expected):
    assert plain_formula(tex, display=display) == expected


def test_a_formula_shown_whole_loses_its_label_and_numbered_environment():
    tex = "\\begin{equation}E = mc^2 \\label{eq:e}\\end{equation}"
    assert plain_formula(tex, display=True, whole=True) == "$$E = mc^2$$"
    aligned = "\\begin{aligned}a &= b \\\\ c &= d\\end{aligned}"
    assert plain_formula(aligned, display=True, whole=True) == f"$${aligned}$$"


def test_post_excerpt_and_comment_excerpt_follow_the_same_rule():
    assert render_post(POST_BODY).excerpt == POST_EXCERPT
    assert render_comment(COMMENT_BODY).excerpt == COMMENT_EXCERPT


@pytest.mark.parametrize("limit_source", ["post", "comment"])
def test_plain_text_is_never_cut_inside_a_formula(limit_source, settings):
    settings.BLOG_TEASER_CHARS = 40
    formula = "$\\alpha_{ij}+\\beta_{k}$"
    for prefix in range(20, 45):
        source = "字" * prefix + formula + "后面还有很多字" * 10
        if limit_source == "post":
            text = render_post(source).excerpt
            limit = 40
        else:
            text = render_comment(source).excerpt
            limit = 80
        assert len(text) <= limit and text.endswith("…")
        assert text.count("$") in (0, 2), text
        if "$" in text:
            assert formula in text


# --- every plain-text place ----------------------------------------------------------------------


@pytest.fixture
def post():
    post = PostFactory(title="注意力的公式", body=POST_BODY)
    CommentFactory(post=post, body=COMMENT_BODY)
    return post


def attribute(page: str, pattern: str) -> str:
    match = re.search(pattern, page)
    assert match, pattern
    return html.unescape(match.group(1))


def test_post_page_descriptions_read_math_by_the_rule(client, post):
    page = client.get(post.get_absolute_url()).content.decode()
    description = attribute(page, r'<meta name="description" content="([^"]*)"')
    og = attribute(page, r'<meta property="og:description" content="([^"]*)"')
    ld = json.loads(attribute(page, r'<script type="application/ld\+json">(.*?)</script>'))
    assert description == og == ld["description"] == POST_EXCERPT
    quoted = attribute(page, r'data-excerpt="([^"]*)"')
    assert quoted == COMMENT_EXCERPT
    for where, text in [("meta", description), ("og", og), ("ld", ld["description"])]:
        assert_plain(text, where)


def test_recent_comments_widget_reads_math_by_the_rule(client, post):
    page = client.get("/").content.decode()
    start = page.index("widget-recent-comments")
    widget = html.unescape(page[start : page.index("</section>", start)])
    assert COMMENT_EXCERPT in widget
    assert_plain(widget, "最近评论")


def test_atom_summary_reads_math_by_the_rule(client, post):
    feed = feedparser.parse(client.get("/feed/atom/").content)
    [entry] = feed.entries
    assert entry.summary == POST_EXCERPT
    assert_plain(entry.summary, "Atom summary")


@pytest.mark.parametrize("query", ["查询", "Attention", "权重", "维度", "eq:attention"])
def test_search_snippets_read_math_by_the_rule(client, post, query):
    page = client.get("/search/", {"q": query}).content.decode()
    snippets = re.findall(r'<p class="search-snippet">(.*?)</p>', page, re.DOTALL)
    assert snippets or query == "eq:attention"
    for snippet in snippets:
        assert_plain(html.unescape(re.sub(r"<[^>]+>", "", snippet)), f"snippet for {query}")


def test_a_search_hit_inside_a_formula_shows_that_formula_whole(client, post):
    page = client.get("/search/", {"q": "softmax"}).content.decode()
    [snippet] = re.findall(r'<p class="search-snippet">(.*?)</p>', page, re.DOTALL)
    text = html.unescape(re.sub(r"<[^>]+>", "", snippet))
    assert "$$\\text{Attention}(Q,K,V) = \\text{softmax}(QK^{\\top})V$$" in text
