"""The renderer under random and pathological input: never raises, finishes, emits nothing active.

Comments are rendered by ``render_comment`` (raw HTML off) and then sanitised with nh3 by
``blog.comments.html.sanitise``, the function every stored comment and every preview goes through:
these tests call it, not a copy of its allow-list.
"""

import threading
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blog.comments import html as comment_html
from blog.comments import tex as comment_tex
from blog.markup import render_comment, render_post, tex_problems

FRAGMENTS = [
    "$", "$$", "\\", "{", "}", "\\(", "\\)", "\\[", "\\]", "x^2", "\\frac{a}{b}",
    "\\begin{equation}", "\\end{equation}", "\\begin{align}", "\\end{align}", "\\label{a}",
    "\\eqref{a}", "\\href{javascript:alert(1)}{x}", "\\style{position:fixed}{x}",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>a</a>",
    "<svg onload=alert(1)>", "<iframe src=javascript:alert(1)>", "<style>*{}</style>",
    "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](java\tscript:alert(1))",
    "[x](  javascript:alert(1) )", "[x](vbscript:msgbox)", "[x](data:text/html,<script>)",
    "![i](javascript:x)", "<javascript:alert(1)>", "[x]: javascript:alert(1)\n\n[x]",
    "&#106;avascript:alert(1)", "&lt;script&gt;", "http://example.org/?a=1&b=<2>",
    "www.example.org", "`", "```", "```js\n", "\n", "\n\n", "> ", "- ", "1. ", "    ",
    "|", "| a | b |\n|---|---|\n", "*", "**", "_", "~~", "[^1]", "[^1]: note\n",
    "|:--|--:|\n", "<!--more-->", "<!--", "-->", "\u202e", "\u200b", "\x00", "\t", "# ", "---\n", "\\\\",
    '" onmouseover="alert(1)', "' onfocus='alert(1)",
]  # fmt: skip

markdown_tex = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40
).map("".join)


class ActiveContent(HTMLParser):
    """Collects anything in HTML that could run script."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "object", "embed", "style", "svg", "math", "base", "form"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name.lower() in {"href", "src", "action", "formaction", "xlink:href"}:
                compact = "".join(ch for ch in (value or "") if ch > " ").lower()
                if compact.startswith(("javascript:", "vbscript:", "data:")):
                    self.found.append(f"{tag} {name}={value!r}")


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown_tex)
def test_comment_path_never_emits_script_event_handlers_or_javascript_urls(source):
    rendered = render_comment(source)
    assert active_content(rendered) == []  # raw HTML is off: already inert before nh3
    cleaned = comment_html.sanitise(rendered)
    assert active_content(cleaned) == []
    assert "<script" not in cleaned.lower() and " style=" not in cleaned
    assert comment_html.render(source).html == cleaned  # what is stored and previewed
    problem = comment_tex.comment_problem(cleaned)  # the TeX check never raises either
    assert problem is None or isinstance(problem, str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown_tex)
def test_post_renderer_never_raises(source):
    rendered = render_post(source)
    assert isinstance(rendered.html, str) and isinstance(rendered.excerpt, str)
    assert len(rendered.teaser_html) <= len(rendered.html) + len(source) + 100
    tex_problems(source)


def test_the_sanitiser_is_not_a_no_op():
    """The control: the checker finds active content when it is there."""
    assert active_content('<a href=" JaVa\tscript:x">a</a><img onerror=x>') == [
        "a href=' JaVa\\tscript:x'",
        "img onerror=",
    ]
    assert active_content(comment_html.sanitise('<a href="javascript:x" onclick="y">a</a>')) == []


PATHOLOGICAL = {
    "20k dollars": "$" * 20_000,
    "10k $x pairs": "$x" * 10_000,
    "10k double dollars": "$$\n" * 10_000,
    "10k quote markers": ">" * 10_000 + " deep",
    "10k quote lines": "\n".join(">" * n + " x" for n in range(1, 400)),
    "2k nested list": "\n".join("  " * n + "- x" for n in range(2_000)),
    "unbalanced environments": "\\begin{equation}" * 5_000 + "x",
    "unbalanced braces": "$" + "{" * 50_000 + "$",
    "link openers": "[a](" * 10_000,
    "brackets": "[" * 20_000 + "]" * 20_000,
    "emphasis": "*a" * 20_000 + "_b" * 20_000,
    "backticks": "`" * 10_000 + "x" + "`" * 9_999,
    "table": "|" * 5_000 + "\n" + "|-" * 2_500 + "\n" + "|$x|y$" * 2_000,
    "footnotes": "".join(f"[^{n}]" for n in range(3_000)) + "\n\n[^1]: x\n",
    "html nesting": "<div>" * 10_000,
    "entities": "&#x" * 20_000,
}


def finishes(function, argument, timeout=120):
    """Runs function(argument) in a thread; a generous timeout, not a speed claim."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(argument)
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"{function.__name__} did not return within {timeout}s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.parametrize("source", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_renders_and_returns(source):
    assert isinstance(finishes(render_post, source).html, str)
    comment = comment_html.sanitise(finishes(render_comment, source))
    assert active_content(comment) == []
    finishes(comment_tex.comment_problem, comment)
    finishes(tex_problems, source)
