"""Comment TeX: the allow-list and limits of blog/comments/tex.py, on the server and as the
browser applies them (static/js/comment-tex.js)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from blog.comments import tex
from blog.comments.html import render
from blog.models import Comment
from tests.blog.test_comments import submit
from tests.factories import PostFactory

DATA = Path(__file__).parent / "data"
SEED_FORMULAS = json.loads((DATA / "seed_formulas.json").read_text())
TEX_ATTACKS = json.loads((DATA / "tex_attacks.json").read_text())
COMMENT_TEX_JS = Path(settings.BASE_DIR) / "static" / "js" / "comment-tex.js"

# The attacks of issue 13, as a commenter would type them.
NESTED_FRACS = "$" + "\\frac{" * 150 + "x" + "}{y}" * 150 + "$"
NESTED_LEFTS = "$$" + "\\left(" * 600 + "x" + "\\right)" * 600 + "$$"
NESTED_SCRIPTS = "\n\n".join("$" + "x_{" * 600 + "x" + "}" * 600 + "$" for _ in range(4))
MACRO_EXPANSION = "$\\def\\a{xxxxxxxxxx}\\def\\b{\\a\\a\\a\\a\\a\\a\\a\\a\\a\\a}" + (
    "\\def\\c{\\b\\b\\b\\b\\b\\b\\b\\b\\b\\b}\\c\\c\\c\\c\\c\\c\\c\\c$"
)
OVERLAY = (
    "$\\href{https://evil.example/login}{\\unicode[x;position:fixed;top:0;left:0;width:100vw;"
    "height:100vh;opacity:0;z-index:2147483647]{x41}}$"
)
ISSUE_ATTACKS = {
    "150 nested frac": (NESTED_FRACS, "公式嵌套过深（最多 40 层）"),
    "600 nested left": (NESTED_LEFTS, "公式过长（最多 2000 个字符）"),
    "4x600 nested subscripts": (NESTED_SCRIPTS, "公式过长（最多 2000 个字符）"),
    "macro expansion": (MACRO_EXPANSION, "评论中不能使用 \\def"),
    "unicode/href overlay": (OVERLAY, "评论中不能使用 \\href"),
    "tab-split javascript link": ("$\\href{java\tscript:alert(1)}{x}$", "\\href"),
}


def problem(source: str) -> str | None:
    return tex.comment_problem(render(source).html)


def formula(source: str) -> str:
    """The TeX of a seed formula without its $ or $$ delimiters."""
    return re.sub(r"^\$\$?|\$\$?$", "", source)


@pytest.mark.parametrize("source", SEED_FORMULAS)
def test_every_seed_formula_is_allowed_in_a_comment(source):
    tex.check_formula(formula(source))
    display = source if source.startswith("$") else f"$${source}$$"
    assert problem(f"我想问：\n\n{display}\n\n谢谢") is None
    assert list(tex.find_formulas(render(display).html))


def test_an_ordinary_comment_with_matrices_cases_and_colour_is_allowed():
    source = (
        "设 $A=\\begin{pmatrix}1 & 2\\\\ 3 & 4\\end{pmatrix}$，"
        "则 $$f(x)=\\begin{cases}x^2, & x\\geq 0\\\\ -x, & x<0\\end{cases}$$\n\n"
        "$$\\begin{aligned}\\left\\|\\boldsymbol{x}\\right\\|_2 &= \\sqrt{\\sum_i x_i^2}"
        "\\\\[4pt] &\\leq \\color{red}{\\cancel{M}}\\,\\hspace{1em}\\text{（当然）}"
        "\\end{aligned}$$"
    )
    assert problem(source) is None


@pytest.mark.parametrize("source,message", ISSUE_ATTACKS.values(), ids=ISSUE_ATTACKS.keys())
def test_the_attacks_of_the_issue_are_refused_with_a_message_naming_the_limit(source, message):
    with _chinese():
        assert message in problem(source)


def test_every_tex_attack_of_the_corpus_is_refused_or_inert():
    refused = [source for source in TEX_ATTACKS if problem(source)]
    # Left: plain \text and a `$\left($...` that Markdown splits into text, not math.
    assert len(refused) == len(TEX_ATTACKS) - 2


def test_nesting_depth_is_limited_to_40():
    assert tex.check_formula("{" * 40 + "x" + "}" * 40) is None
    for deep in ["{" * 41, "\\left(" * 41, "\\begin{matrix}" * 41, "x_{" * 41, "\\sqrt{" * 41]:
        with pytest.raises(tex.Refused, match="40"):
            tex.check_formula(deep)


def test_formula_length_total_and_count_are_limited():
    assert problem("$" + "x+" * 999 + "$") is None
    assert "2000" in problem("$" + "x+" * 1001 + "$")
    assert "6000" in problem("\n\n".join(["$" + "x+" * 900 + "$"] * 4))
    assert problem(" ".join(["$x$"] * 100)) is None
    assert "100" in problem(" ".join(["$x$"] * 101))


@pytest.mark.parametrize(
    "command",
    [
        "\\unicode{x41}", "\\href{https://x.example}{x}", "\\url{https://x.example}",
        "\\style{position:fixed}{x}", "\\class{x}{y}", "\\cssId{x}{y}", "\\require{html}",
        "\\def\\x{y}", "\\newcommand{\\x}{y}", "\\let\\x=y", "\\mmlToken{mi}{x}", "\\Huge x",
        "\\rule{1em}{1em}", "\\bbox[red]{x}", "\\toggle{a}{b}\\endtoggle", "\\verb|x|",
        "\\begin{alignat}{2}x\\end{alignat}", "\\hspace{100em}", "\\kern-30em", "a\\\\[500pt]b",
        "\\color[rgb]{1,0,0}{x}", "\\color{red;position:fixed}{x}", "\\style{width:100em}{x}",
        "\\begin{array}{*{1000}{c}}x\\end{array}", "\\style{background:url(x)}{x}",
    ],
)  # fmt: skip
def test_commands_outside_the_allow_list_or_its_values_are_refused(command):
    with pytest.raises(tex.Refused):
        tex.check_formula(command)


def test_math_mathjax_finds_outside_dollars_is_checked_too_but_code_is_not():
    # Markdown turns `\\(` into `\(`, which MathJax typesets; a bare environment is typeset too.
    assert "\\unicode" in problem("文字 \\\\(\\unicode{x41}\\\\) 文字")
    assert "\\def" in problem("\\begin{equation}\\def\\x{y}\\end{equation}")
    assert problem("`\\(\\unicode{x41}\\)` 和\n\n```\n\\[\\def\\x{}\\]\n```") is None


@pytest.mark.django_db
def test_a_refused_comment_comes_back_with_the_message_and_the_text(client):
    post = PostFactory()
    with _chinese():
        response = submit(client, post, body=f"看这里 {OVERLAY}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "评论中不能使用 \\href。" in html
    assert "https://evil.example/login" in html  # the typed text is kept in the form
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_a_refused_preview_says_why_and_returns_no_html(client):
    post = PostFactory()
    url = reverse("blog:comment_preview", args=[post.pk])
    with _chinese():
        response = client.post(url, {"body": NESTED_FRACS})
    assert response.status_code == 400
    assert response.json() == {"error": "公式嵌套过深（最多 40 层）。"}


# --- the browser's copy of the rules --------------------------------------------------------


def test_the_browser_applies_the_same_rules():
    match = re.search(r"^  var RULES = (\{.*\});$", COMMENT_TEX_JS.read_text(), re.MULTILINE)
    expected = json.dumps(tex.client_rules(), ensure_ascii=False, separators=(",", ":"))
    assert json.loads(match.group(1)) == tex.client_rules(), f"  var RULES = {expected};"


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_the_browser_scanner_decides_as_the_server_does():
    formulas = [formula(source) for source in SEED_FORMULAS]
    for source in TEX_ATTACKS + [body for body, _message in ISSUE_ATTACKS.values()]:
        formulas += tex.find_formulas(render(source).html)
    formulas += ["{" * 40 + "}" * 40, "{" * 41, "\\kern 3em", "\\kern 30em", "\\\\*[5pt]", "\\"]
    script = (
        "global.window = {}; require(process.argv[1]);"
        "const formulas = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(formulas.map(f => window.CommentTeX.problem(f) !== null)));"
    )
    result = subprocess.run(
        [NODE, "-e", script, str(COMMENT_TEX_JS)],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        check=True,
    )
    browser = json.loads(result.stdout)
    server = []
    for tex_source in formulas:
        try:
            tex.check_formula(tex_source)
            server.append(False)
        except tex.Refused:
            server.append(True)
    assert browser == server
    assert 30 < sum(server) < len(server)


def _chinese():
    from django.utils import translation

    return translation.override("zh-hans")
