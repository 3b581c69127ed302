"""Markdown + TeX -> HTML, teasers and plain-text excerpts.

Posts come from trusted staff (raw HTML allowed); comments come from anyone (raw HTML off, then
sanitised with nh3 by ``blog.comments``). Math is never touched by Markdown: markdown-it's
``dollarmath`` and ``amsmath`` plugins lift it out before emphasis and escapes run, and the
renderer wraps it in ``\\(..\\)`` / ``\\[..\\]`` (or leaves a bare ``\\begin{equation}`` block as
is) so that MathJax typesets it in the browser. Rendering happens when a post is saved; pages
serve the stored HTML.
"""

import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.html import strip_tags
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_inline_dollar
from mdit_py_plugins.footnote import footnote_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

MORE_MARKER = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE)

# Display environments MathJax typesets on its own when they stand bare in the page.
DISPLAY_ENVIRONMENTS = (
    "equation",
    "equation*",
    "align",
    "align*",
    "gather",
    "gather*",
    "multline",
    "multline*",
    "flalign",
    "flalign*",
    "alignat",
    "alignat*",
    "eqnarray",
    "eqnarray*",
)
_BARE_ENVIRONMENT = re.compile(
    r"\A\\begin\{(?P<env>[a-z]+\*?)\}(?P<body>.*)\\end\{(?P=env)\}\Z",
    re.DOTALL,
)
# Where text is plain: a short inline formula is kept as TeX, anything else is this placeholder.
SHORT_FORMULA = 30
FORMULA = "[公式]"
_NOT_SHOWN = re.compile(r"\\(?:label|eqref|ref)\s*\{[^{}]*\}")
_MATH_TOKENS = {"math_inline", "math_inline_double", "math_block", "math_block_label", "amsmath"}

_formatter = HtmlFormatter(nowrap=True)

# A table splits its rows at every `|`, even inside `$x|y$`. Before parsing, a `|` inside inline
# math is swapped for a private-use character, which the output turns back into `|`. The pattern
# follows the dollar rule of ``_pandoc_dollars``.
_PIPE_STAND_IN = "\ue000"
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?![\s$])(?:[^$\n\\]|\\.)+?(?<!\s)\$(?!\d)")


@dataclass(frozen=True)
class Rendered:
    """Everything stored on a post when its source is saved."""

    html: str
    teaser_html: str
    excerpt: str
    search_text: str
    has_math: bool
    has_more: bool


def render_post(source: str) -> Rendered:
    """Render a post body and its teaser (text before ``<!--more-->``, else the first blocks)."""
    md = post_parser()
    source = _protect_pipes(source)
    tokens = md.parse(source)
    html = md.renderer.render(tokens, md.options, {})
    marker = MORE_MARKER.search(source)
    teaser_source = source[: marker.start()] if marker else _leading_blocks(source, tokens)
    teaser_html = html if teaser_source == source else md.render(teaser_source)
    return Rendered(
        html=_restore_pipes(html),
        teaser_html=_restore_pipes(teaser_html),
        excerpt=_restore_pipes(plain_text(tokens)),
        search_text=_restore_pipes(search_text(tokens)),
        has_math=contains_math(tokens),
        has_more=teaser_source != source,
    )


def render_preview(source: str) -> str:
    """The admin's live preview: exactly the body HTML the public page will show."""
    return render_post(source).html


def render_comment(source: str) -> str:
    """Comment Markdown with raw HTML off. The caller must still sanitise the result (nh3)."""
    return parse_comment(source)[0]


def comment_tokens(source: str) -> list[Token]:
    """The parsed tokens of a comment (for its excerpt); ``|`` in inline math restored."""
    return parse_comment(source)[1]


def parse_comment(source: str) -> tuple[str, list[Token]]:
    """``render_comment`` and ``comment_tokens`` from one parse (an import renders thousands)."""
    md = comment_parser()
    env = {}
    tokens = md.parse(_protect_pipes(source), env)
    html = _restore_pipes(md.renderer.render(tokens, md.options, env))
    for token in tokens:
        for child in token.children or ():
            child.content = _restore_pipes(child.content)
        token.content = _restore_pipes(token.content)
    return html, tokens


def _protect_pipes(source: str) -> str:
    if "|" not in source or "$" not in source:
        return source
    return _INLINE_MATH.sub(lambda m: m.group().replace("|", _PIPE_STAND_IN), source)


def _restore_pipes(text: str) -> str:
    return text.replace(_PIPE_STAND_IN, "|")


def plain_text(tokens: list[Token], limit: int | None = None, *, quotes: bool = True) -> str:
    """The text as it reads where text is plain (meta descriptions, summaries, excerpts).

    At most ``limit`` characters (``BLOG_TEASER_CHARS`` by default); ``quotes=False`` leaves out
    block quotes (a comment's excerpt is its author's own words). Code blocks and markup are left
    out. Math reads as ``plain_formula`` says, and a cut falls between formulas or inside plain
    words, never inside a formula.
    """
    limit = limit or settings.BLOG_TEASER_CHARS
    text, used = [], 0
    for kind, piece in _plain_pieces(tokens, quotes):
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


def plain_formula(tex: str, *, display: bool, whole: bool = False) -> str:
    """How a formula reads in plain text, the same everywhere.

    ``\\label``, ``\\eqref`` and ``\\ref`` are dropped (their numbers exist only on the typeset
    page); a short inline formula is kept whole between dollars (``$x_i$``); a longer or displayed
    one reads "[公式]". ``whole`` keeps any formula as TeX between dollars, without a wrapping
    display environment such as ``equation`` (a search snippet shows the formula that holds the
    match).
    """
    tex = _one_line(_NOT_SHOWN.sub("", tex))
    if not tex:
        return ""
    if whole:
        environment = _BARE_ENVIRONMENT.match(tex)
        if environment and environment["env"] in DISPLAY_ENVIRONMENTS:
            tex = _one_line(environment["body"])
        return f"$${tex}$$" if display else f"${tex}$"
    if display or len(tex) > SHORT_FORMULA:
        return FORMULA
    return f"${tex}$"


def _plain_pieces(tokens: list[Token], quotes: bool):
    quoted = 0
    for token in tokens:
        if token.type == "blockquote_open":
            quoted += 1
        elif token.type == "blockquote_close":
            quoted -= 1
        elif quoted and not quotes:
            continue
        elif token.type in {"math_block", "math_block_label", "amsmath"}:
            yield "formula", plain_formula(token.content, display=True)
            yield "space", ""
        elif token.type == "inline":
            yield from _plain_inline_pieces(token.children or [])
            yield "space", ""


def _plain_inline_pieces(children: list[Token]):
    for child in children:
        if child.type in {"text", "code_inline"}:
            words = re.sub(r"\s+", " ", child.content)
            if words:
                yield "text", words
        elif child.type in {"softbreak", "hardbreak"}:
            yield "space", ""
        elif child.type in {"math_inline", "math_inline_double"}:
            formula = plain_formula(child.content, display=child.type == "math_inline_double")
            if formula:
                yield "formula", formula


def search_text(tokens: list[Token]) -> str:
    """The whole body as searchable plain text: prose, code and image captions, markup dropped.

    Formulas keep their TeX so that a search for "softmax" also finds ``\\text{softmax}``; they
    are wrapped in ``\\(..\\)`` (inline) or ``\\[..\\]`` (display) so that search snippets
    can tell where a formula starts and ends and never cut one in half (``blog.search``).
    """
    parts: list[str] = []
    for token in tokens:
        if token.type in {"math_block", "math_block_label", "amsmath"}:
            parts.append(f" \\[{_one_line(token.content)}\\] ")
        elif token.type in {"fence", "code_block"}:
            parts.append(f" {token.content} ")
        elif token.type == "html_block":
            parts.append(f" {strip_tags(token.content)} ")
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type in {"text", "code_inline", "image"}:
                    parts.append(child.content)
                elif child.type == "math_inline":
                    parts.append(f"\\({_one_line(child.content)}\\)")
                elif child.type == "math_inline_double":
                    parts.append(f" \\[{_one_line(child.content)}\\] ")
                elif child.type in {"softbreak", "hardbreak"}:
                    parts.append(" ")
            parts.append(" ")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _one_line(tex: str) -> str:
    return re.sub(r"\s+", " ", tex.strip())


def contains_math(tokens: list[Token]) -> bool:
    for token in tokens:
        if token.type in _MATH_TOKENS:
            return True
        if token.children and any(child.type in _MATH_TOKENS for child in token.children):
            return True
    return False


def tex_problems(source: str) -> list[str]:
    """Cheap checks an author wants before publishing: unbalanced environments and braces."""
    problems = []
    begins = re.findall(r"\\begin\{([^}]*)\}", source)
    ends = re.findall(r"\\end\{([^}]*)\}", source)
    for env in sorted(set(begins) | set(ends)):
        if begins.count(env) != ends.count(env):
            problems.append(
                f"\\begin{{{env}}} appears {begins.count(env)} times "
                f"but \\end{{{env}}} {ends.count(env)} times"
            )
    tokens = post_parser().parse(source)
    for tex in _math_sources(tokens):
        depth = 0
        for match in re.finditer(r"\\.|[{}]", tex, re.DOTALL):
            if match.group() == "{":
                depth += 1
            elif match.group() == "}":
                depth -= 1
            if depth < 0:
                break
        if depth != 0:
            problems.append(f"unbalanced braces in formula: {tex[:60]}")
    return problems


def _math_sources(tokens: list[Token]):
    for token in tokens:
        if token.type in _MATH_TOKENS:
            yield token.content
        for child in token.children or ():
            if child.type in _MATH_TOKENS:
                yield child.content


def _leading_blocks(source: str, tokens: list[Token]) -> str:
    """The source of the first top-level blocks holding about BLOG_TEASER_CHARS characters.

    Cutting only between whole blocks means a teaser never ends inside a formula, a list or a
    table.
    """
    lines = source.splitlines(keepends=True)
    chars = 0
    block_end = None
    for token in tokens:
        if token.type == "footnote_block_open":
            break
        if token.level == 0 and token.map:
            block_end = token.map[1]
        if token.type == "inline":
            chars += len(token.content)
        elif token.type in _MATH_TOKENS:
            chars += len(token.content) // 4  # a formula reads shorter than its source
        if chars >= settings.BLOG_TEASER_CHARS and block_end is not None:
            return "".join(lines[:block_end])
    return source


def _render_math(content: str, options: dict) -> str:
    tex = content.strip()
    if not options["display_mode"]:
        return rf"\({escapeHtml(tex)}\)"
    match = _BARE_ENVIRONMENT.match(tex)
    if (
        match
        and match["env"] in DISPLAY_ENVIRONMENTS
        and tex.count(rf"\begin{{{match['env']}}}") == 1
    ):
        # `$$\begin{equation}..\end{equation}$$` as written on kexue.fm: MathJax numbers a bare
        # environment itself; wrapping it in \[..\] would nest two display structures.
        return escapeHtml(tex)
    return rf"\[{escapeHtml(tex)}\]"


def _render_display_in_paragraph(self, tokens, idx, options, env) -> str:
    # `$$..$$` glued to text: a <div> inside <p> is invalid HTML, a display-styled span is not.
    return f'<span class="math display">{_render_math(tokens[idx].content, {"display_mode": True})}</span>'


def _render_amsmath(self, tokens, idx, options, env) -> str:
    return f'<div class="math amsmath">\n{escapeHtml(tokens[idx].content)}\n</div>\n'


def _highlight(code: str, lang: str, attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it falls back to an escaped <pre><code>
    css_lang = escapeHtml(lang)
    return (
        f'<pre class="highlight"><code class="language-{css_lang}">'
        f"{highlight(code, lexer, _formatter)}</code></pre>\n"
    )


def heading_slug(title: str) -> str:
    """Heading ids that keep Chinese: "最大熵模型" -> "最大熵模型", "Key Ideas" -> "key-ideas"."""
    slug = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return re.sub(r"[\s-]+", "-", slug).strip("-") or "section"


def _base_parser(*, html: bool) -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"html": html, "linkify": True, "highlight": _highlight})
        .enable(["table", "strikethrough", "linkify"])
        .use(dollarmath_plugin, double_inline=True, allow_space=False, renderer=_render_math)
        .use(footnote_plugin)
    )
    md.inline.ruler.at("math_inline", _pandoc_dollars(math_inline_dollar(False, True, True)))
    md.add_render_rule("math_inline_double", _render_display_in_paragraph)
    return md


def _pandoc_dollars(math_rule):
    """Pandoc's rule for inline ``$``: prices such as ``$5 和 $10`` stay text.

    An opening ``$`` must be followed by a non-space and a closing ``$`` preceded by a non-space
    (the plugin's ``allow_space=False``) and not followed by a digit. The plugin's own digit
    option also refuses a digit before the opening ``$`` (and, at the start of a paragraph, looks
    at the paragraph's last character instead), so the closing check is made here.
    """

    def rule(state, silent: bool) -> bool:
        start = state.pos
        if not math_rule(state, True):
            return False
        end, state.pos = state.pos, start
        if state.src[end : end + 1].isdigit():
            return False
        return math_rule(state, silent)

    return rule


@cache
def post_parser() -> MarkdownIt:
    md = _base_parser(html=True).use(amsmath_plugin)
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=heading_slug)
    md.add_render_rule("amsmath", _render_amsmath)
    return md


@cache
def comment_parser() -> MarkdownIt:
    md = _base_parser(html=False).disable("image")
    return md
