"""Every TeX formula of the kexue.fm seed pages survives Markdown rendering unchanged.

MathJax reads the text of the page, so what matters is ``html.unescape`` of the rendered HTML:
it must hold each formula's TeX character for character, inside the delimiters MathJax looks
for (``\\(..\\)`` inline, ``\\[..\\]`` or a bare ``\\begin{env}`` block for display).

The formulas come from ``data/seed_formulas.json``, extracted once from ``shared/seeds`` (beside
the repository, absent in CI) by ``data/extract_seed_formulas.py``; when the seeds are present a
test checks that the JSON is still what the script extracts. The demo fixture
(``fixtures/demo_content.json``) is built from the same pages: every formula in every post body
must survive too, in the body and in the teaser.
"""

import html
import importlib.util
import json
import re
from pathlib import Path

import pytest

from blog.markup import MORE_MARKER, render_post

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = HERE / "data"
SEEDS = REPO.parent / "shared" / "seeds"  # == Path(__file__).resolve().parents[3] / "shared/seeds"


def _load_extractor():
    spec = importlib.util.spec_from_file_location(
        "extract_seed_formulas", DATA / "extract_seed_formulas.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


extractor = _load_extractor()
FORMULAS: list[str] = json.loads((DATA / "seed_formulas.json").read_text(encoding="utf-8"))
DEMO = json.loads((REPO / "fixtures" / "demo_content.json").read_text(encoding="utf-8"))
POSTS = DEMO["posts"]

INLINE = [f for f in FORMULAS if f.startswith("$") and not f.startswith("$$")]
DISPLAY = [f for f in FORMULAS if f.startswith("$$")]
ENVIRONMENTS = [f for f in FORMULAS if f.startswith("\\begin{")]
# Environments MathJax typesets (and numbers) as display math when they stand bare in the page.
BARE_DISPLAY = re.compile(
    r"\\begin\{((?:equation|align|alignat|gather|multline|flalign|eqnarray)\*?)\}.*\\end\{\1\}",
    re.DOTALL,
)


def tex_of(formula: str) -> str:
    """The TeX MathJax must receive: the text between the dollars, or the whole environment."""
    if formula.startswith("$$"):
        return formula[2:-2]
    if formula.startswith("$"):
        return formula[1:-1]
    return formula


def page_text(markdown: str, *, teaser: bool = False) -> str:
    rendered = render_post(markdown)
    return html.unescape(rendered.teaser_html if teaser else rendered.html)


def assert_survives(formula: str, text: str, source: str) -> None:
    """``formula`` reaches MathJax unchanged and delimited in the unescaped page ``text``."""
    tex = tex_of(formula)
    context = f"\nformula: {formula!r}\nsource: {source[:300]!r}\nrendered: {text[:600]!r}"
    assert tex in text, "TeX changed by the renderer" + context
    if formula.startswith("$$"):
        # Wrapped for MathJax, or a display environment MathJax typesets (and numbers) itself.
        bare = BARE_DISPLAY.fullmatch(tex)
        assert f"\\[{tex}\\]" in text or bare, "display math not in \\[..\\]" + context
    elif formula.startswith("$"):
        assert f"\\({tex}\\)" in text, "inline math not in \\(..\\)" + context


def ids(formulas: list[str]) -> list[str]:
    return [f"{FORMULAS.index(f):02d}" for f in formulas]


# --- the extracted list itself ------------------------------------------------------------------


def test_formula_list_covers_every_kind():
    assert len(FORMULAS) == len(set(FORMULAS))
    assert INLINE and DISPLAY and ENVIRONMENTS
    assert len(INLINE) + len(DISPLAY) + len(ENVIRONMENTS) == len(FORMULAS)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside the repository")
def test_formula_list_matches_the_seed_pages():
    assert extractor.extract_all(SEEDS) == FORMULAS, (
        "seeds changed: run tests/blog/data/extract_seed_formulas.py"
    )


def test_extractor_keeps_delimiters_and_nesting():
    text = r"a $x$ b $$\begin{array}{c}1\end{array}$$ c \begin{align}y\\z\end{align} d \$5"
    assert extractor.extract_formulas(text) == [
        "$x$",
        r"$$\begin{array}{c}1\end{array}$$",
        r"\begin{align}y\\z\end{align}",
    ]


# --- each seed formula on its own and in the contexts the posts use -----------------------------


@pytest.mark.parametrize("formula", FORMULAS, ids=ids(FORMULAS))
def test_formula_alone(formula):
    assert_survives(formula, page_text(formula), formula)


@pytest.mark.parametrize("formula", INLINE, ids=ids(INLINE))
@pytest.mark.parametrize(
    "template",
    [
        "文字{}文字",
        "在这一节中,{}是常数。",
        "- 列表项{}文字",
        "> 引用{}文字",
        "## 标题{}",
        "| 列 | 说明 |\n|---|---|\n| {} | 文字 |",
        "{}的价格是 $5 和 $10 美元",
    ],
    ids=["glued", "sentence", "list", "quote", "heading", "table", "prices"],
)
def test_inline_formula_in_context(formula, template):
    source = template.format(formula)
    assert_survives(formula, page_text(source), source)


@pytest.mark.parametrize("formula", DISPLAY, ids=ids(DISPLAY))
@pytest.mark.parametrize(
    "template",
    ["文字{}文字", "文字:\n{}\n文字", "文字:\n\n{}\n\n文字"],
    ids=["glued", "own-line", "own-paragraph"],
)
def test_display_formula_in_context(formula, template):
    source = template.format(formula)
    assert_survives(formula, page_text(source), source)


@pytest.mark.parametrize("formula", ENVIRONMENTS, ids=ids(ENVIRONMENTS))
@pytest.mark.parametrize(
    "template",
    ["文字:\n{}\n文字", "文字:\n\n{}\n\n文字", "$${}$$", "文字$${}$$文字", "文字:\n$${}$$\n文字"],
    ids=["own-line", "own-paragraph", "in-dollars", "glued-in-dollars", "own-line-in-dollars"],
)
def test_environment_in_context(formula, template):
    # A bare environment is a block: written inside a sentence it must be wrapped in $$..$$
    # (the "glued-in-dollars" case), as kexue.fm's sources do.
    source = template.format(formula)
    assert_survives(formula, page_text(source), source)


def test_display_glued_to_text_stays_in_its_paragraph():
    text = page_text("文字$$x^2$$文字")
    assert "文字\\[x^2\\]文字" in re.sub(r"<[^>]+>", "", text)
    assert text.count("<p>") == 1


# --- the demo fixture built from the same pages -------------------------------------------------


def test_every_seed_formula_is_in_the_demo_fixture():
    in_bodies = {f for post in POSTS for f in extractor.extract_formulas(post["body"])}
    assert set(FORMULAS) <= in_bodies, sorted(set(FORMULAS) - in_bodies)


@pytest.mark.parametrize("post", POSTS, ids=[str(post["id"]) for post in POSTS])
def test_demo_post_formulas_survive(post):
    body = post["body"]
    formulas = extractor.extract_formulas(body)
    # The fixture keeps the seeds' LaTeX exactly: no formula that is not a seed formula.
    assert set(formulas) <= set(FORMULAS), sorted(set(formulas) - set(FORMULAS))
    text = page_text(body)
    assert "<code" not in text and "<pre" not in text  # MathJax skips code
    for formula in formulas:
        assert_survives(formula, text, body)
    marker = MORE_MARKER.search(body)
    if marker:
        teaser = page_text(body, teaser=True)
        for formula in extractor.extract_formulas(body[: marker.start()]):
            assert_survives(formula, teaser, body[: marker.start()])
