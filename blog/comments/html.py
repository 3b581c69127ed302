"""Comment Markdown -> safe HTML, and the plain-text excerpt shown in the sidebar.

Comments come from anyone. ``markup.render_comment`` parses Markdown with raw HTML off (typed
tags come out as text) and images disabled; its output then goes through nh3 (Ammonia) with an
explicit allow-list, so whatever the parser lets through, only these tags, attributes, classes and
URL schemes reach the page. Math stays as ``\\(..\\)`` / ``\\[..\\]`` text inside ``span.math`` /
``div.math``: MathJax typesets it in the browser, within the allow-list and limits of
``blog.comments.tex`` and with the ``ui/safe`` extension (static/js/mathjax-config.js).
"""

import re
from dataclasses import dataclass
from functools import cache

import nh3
from markdown_it.token import Token
from pygments.token import STANDARD_TYPES

from blog import markup

ALLOWED_TAGS = {
    *("p", "br", "hr", "strong", "em", "del", "s", "sup", "sub", "span", "div"),
    *("code", "pre", "blockquote", "ul", "ol", "li", "a"),
    *("table", "thead", "tbody", "tr", "th", "td"),
    *("h1", "h2", "h3", "h4", "h5", "h6"),
}
# `class` is never in ATTRIBUTES: classes are allowed per tag below (nh3 panics on both).
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_CLASSES = {
    # MathJax looks for \(..\) and \[..\] anywhere; these classes only style the wrappers.
    "span": {"math", "inline", "display"} | {name for name in STANDARD_TYPES.values() if name},
    "div": {"math", "block", "display"},
    "pre": {"highlight"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"
# The only relative links kept are quotes of another comment in the same thread ("#12").
_COMMENT_FRAGMENT = re.compile(r"#comment-[0-9]{1,7}")

EXCERPT_CHARS = 80


@dataclass(frozen=True)
class RenderedComment:
    html: str
    excerpt: str
    has_math: bool


def render(source: str) -> RenderedComment:
    html, tokens = markup.parse_comment(source)
    return RenderedComment(
        html=sanitise(html),
        excerpt=excerpt(tokens),
        has_math=markup.contains_math(tokens),
    )


def sanitise(html: str) -> str:
    return _cleaner().clean(html)


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        url_relative=_keep_comment_fragment,
        strip_comments=True,
    )


def _keep_comment_fragment(url: str) -> str | None:
    return url if _COMMENT_FRAGMENT.fullmatch(url) else None


def excerpt(tokens: list[Token], limit: int = EXCERPT_CHARS) -> str:
    """Plain text of the comment's own words (quotes left out), math as everywhere else.

    ``markup.plain_text`` decides how formulas read and where a cut falls. The result is text:
    templates escape it.
    """
    return markup.plain_text(tokens, limit, quotes=False)
