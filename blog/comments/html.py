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
SHORT_FORMULA = 30  # longer inline TeX reads as "[公式]" in an excerpt
_FORMULA = "[公式]"


@dataclass(frozen=True)
class RenderedComment:
    html: str
    excerpt: str
    has_math: bool


def render(source: str) -> RenderedComment:
    tokens = markup.comment_tokens(source)
    return RenderedComment(
        html=sanitise(markup.render_comment(source)),
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
    """Plain text of the comment's own words, at most ``limit`` characters.

    Quoted blocks and code blocks are left out. A short inline formula is kept whole as
    ``$…$``, a longer or displayed one becomes "[公式]"; a cut falls between formulas or inside
    plain words, never inside a formula. The result is text: templates escape it.
    """
    pieces = list(_excerpt_pieces(tokens))
    text, used = [], 0
    for kind, piece in pieces:
        if kind == "space":
            if text and not text[-1].endswith(" "):
                text.append(" ")
                used += 1
            continue
        room = limit - 1 - used  # keep one character for the ellipsis
        if len(piece) <= room:
            text.append(piece)
            used += len(piece)
            continue
        if kind == "text" and room > 0:
            text.append(piece[:room].rstrip())
        return "".join(text).rstrip() + "…"
    return "".join(text).strip()


def _excerpt_pieces(tokens: list[Token]):
    skip = 0
    for token in tokens:
        if token.type == "blockquote_open":
            skip += 1
        elif token.type == "blockquote_close":
            skip -= 1
        elif skip:
            continue
        elif token.type in {"math_block", "math_block_label"}:
            yield "formula", _FORMULA
            yield "space", ""
        elif token.type == "inline":
            yield from _inline_pieces(token.children or [])
            yield "space", ""


def _inline_pieces(children: list[Token]):
    for child in children:
        if child.type in {"text", "code_inline"}:
            words = re.sub(r"\s+", " ", child.content)
            if words:
                yield "text", words
        elif child.type in {"softbreak", "hardbreak"}:
            yield "space", ""
        elif child.type == "math_inline":
            tex = re.sub(r"\s+", " ", child.content.strip())
            yield "formula", f"${tex}$" if len(tex) <= SHORT_FORMULA else _FORMULA
        elif child.type == "math_inline_double":
            yield "formula", _FORMULA
