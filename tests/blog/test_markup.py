"""The renderer keeps every formula intact and produces valid, MathJax-ready HTML."""

import html

import pytest

from blog.markup import heading_slug, render_comment, render_post, tex_problems


def tex_of(rendered_html: str) -> str:
    return html.unescape(rendered_html)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"$\boldsymbol{x}_i\in\mathbb{R}^d$", r"\(\boldsymbol{x}_i\in\mathbb{R}^d\)"),
        (r"$y^*_i = x_i * 2$", r"\(y^*_i = x_i * 2\)"),
        (r"$a_1 b_2 a_3$", r"\(a_1 b_2 a_3\)"),
        (r"$a<b>c$", r"\(a<b>c\)"),
        (r"$\left\{ a \right.\right\}$", r"\(\left\{ a \right.\right\}\)"),
        (r"$\text{数据}x$", r"\(\text{数据}x\)"),
    ],
)
def test_inline_math_survives_markdown(source, expected):
    assert expected in tex_of(render_post(source).html)


def test_display_math_block_is_wrapped_for_mathjax():
    out = render_post("$$\n\\sum_{i=1}^n x_i^2\n$$\n").html
    assert '<div class="math block">' in out
    assert r"\[\sum_{i=1}^n x_i^2\]" in out


def test_bare_equation_environment_is_left_for_mathjax_to_number():
    source = "$$\\begin{equation}a^2+b^2=c^2\\label{eq:pyth}\\end{equation}$$\n"
    out = tex_of(render_post(source).html)
    assert r"\begin{equation}a^2+b^2=c^2\label{eq:pyth}\end{equation}" in out
    assert r"\[\begin{equation}" not in out


def test_amsmath_align_with_spacing_is_kept_verbatim():
    source = "\\begin{align}\na &= b \\\\[5pt]\nc &= d\n\\end{align}\n"
    out = tex_of(render_post(source).html)
    assert "\\begin{align}\na &= b \\\\[5pt]\nc &= d\n\\end{align}" in out


def test_array_and_style_survive():
    source = (
        "$$\\begin{array}{c|cc}\n\\hline\n\\text{数据}x & 1 & 2 \\\\\n\\hline \\end{array}$$\n\n"
        "$$\\style{display: inline-block; width: 10px}{a}$$\n"
    )
    out = tex_of(render_post(source).html)
    assert "\\begin{array}{c|cc}\n\\hline\n\\text{数据}x & 1 & 2 \\\\\n\\hline \\end{array}" in out
    assert r"\style{display: inline-block; width: 10px}{a}" in out


def test_display_math_glued_to_text_stays_inside_a_valid_paragraph():
    out = render_post("文字$$x^2+y^2$$文字\n").html
    assert out.startswith('<p>文字<span class="math display">\\[x^2+y^2\\]</span>文字</p>')
    assert "<div" not in out


def test_pipe_inside_math_in_a_table_cell_does_not_split_the_cell():
    source = "| 条件概率 | 范数 |\n|---|---|\n| $p(y|x)$ | $\\|v\\|$ |\n"
    out = tex_of(render_post(source).html)
    assert r"<td><span class=\"math inline\">\(p(y|x)\)</span></td>" in out.replace('"', '\\"')
    assert r"\(\|v\|\)" in out


# Pandoc's rule: an opening `$` is followed by a non-space, a closing `$` is preceded by a non-space
# and not followed by a digit. Anything else is a dollar sign in prose.
DOLLARS_IN_PROSE = [
    "价格是 $5 和 $10 美元",
    "从 $5 涨到 $10",
    "$ 5$",
    "$x $",
    "$x$5",
    "$20 to $30",
    "it costs $5, or $10 with tax",
]
MATH_NEXT_TO_TEXT = [
    ("a $x$ b", r"\(x\)"),
    ("2$x$", r"\(x\)"),
    ("$x$ 等于 5", r"\(x\)"),  # a paragraph starting with math and ending in a digit
    ("共 $n=10$ 项", r"\(n=10\)"),
    ("$b=10000$上", r"\(b=10000\)"),
    ("$x$ 的价格是 $5", r"\(x\)"),
    ("文字 $$ x^2 $$ 文字", r"\[x^2\]"),
]


@pytest.mark.parametrize("source", DOLLARS_IN_PROSE)
@pytest.mark.parametrize("render", [lambda s: render_post(s).html, render_comment])
def test_dollars_that_are_not_math_stay_text(source, render):
    out = tex_of(render(source))
    assert "math" not in out and "\\(" not in out
    assert out.strip() == f"<p>{source}</p>"


@pytest.mark.parametrize(("source", "formula"), MATH_NEXT_TO_TEXT)
@pytest.mark.parametrize("render", [lambda s: render_post(s).html, render_comment])
def test_math_next_to_text_and_prices_is_still_math(source, formula, render):
    assert formula in tex_of(render(source))


def test_prices_in_a_table_do_not_merge_cells():
    out = render_post("| 商品 | 价格 | 含税 |\n|---|---|---|\n| 书 | $5 | $10 |\n").html
    assert "<td>$5</td>" in out and "<td>$10</td>" in out


def test_code_blocks_are_highlighted_by_pygments():
    out = render_post('```python\nprint("hi")\n```\n').html
    assert '<pre class="highlight"><code class="language-python">' in out
    assert '<span class="nb">print</span>' in out


def test_headings_get_anchors_that_keep_chinese():
    out = render_post("## 最大熵模型\n\n### Key Ideas\n").html
    assert '<h2 id="最大熵模型">' in out
    assert '<h3 id="key-ideas">' in out
    assert heading_slug("  ") == "section"


def test_footnotes_and_tables_render():
    out = render_post("见注[^1]\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[^1]: 注释\n").html
    assert 'class="footnote-ref"' in out
    assert "<table>" in out


def test_teaser_is_text_before_more_marker():
    rendered = render_post("第一段。\n\n<!--more-->\n\n第二段。\n")
    assert "第一段" in rendered.teaser_html
    assert "第二段" not in rendered.teaser_html
    assert rendered.has_more


def test_teaser_without_marker_never_cuts_inside_a_formula(settings):
    settings.BLOG_TEASER_CHARS = 30
    source = (
        "开头的一段文字，足够长以便截断。" * 3
        + "\n\n$$\n\\begin{aligned}a&=b\\\\c&=d\\end{aligned}\n$$\n\n后文。\n"
    )
    rendered = render_post(source)
    assert "后文" not in rendered.teaser_html
    assert "\\begin{aligned}" not in rendered.teaser_html
    assert rendered.has_more


def test_short_post_teaser_is_the_whole_body():
    rendered = render_post("短文 $x$。\n")
    assert rendered.teaser_html == rendered.html
    assert not rendered.has_more


def test_excerpt_is_plain_text_with_math_replaced_sensibly():
    rendered = render_post(
        "设 $x$ 为向量，$$\\sum_i x_i$$ 以及 $\\boldsymbol{x}_1,\\cdots,\\boldsymbol{x}_l$。\n"
    )
    assert rendered.excerpt == "设 $x$ 为向量，[公式] 以及 [公式]。"
    assert rendered.has_math


def test_post_without_math_says_so():
    assert not render_post("没有公式的文章。\n").has_math


def test_posts_may_contain_raw_html_but_comments_may_not():
    assert "<em>ok</em>" in render_post("<em>ok</em>\n").html
    out = render_comment("<script>alert(1)</script> $x$")
    assert "<script>" not in out
    assert "&lt;script&gt;" in out


def test_tex_problems_reports_unbalanced_environments_and_braces():
    assert tex_problems("$$\\begin{equation}x\\end{equation}$$") == []
    problems = tex_problems("$$\\begin{equation}x$$ and $\\frac{a}{b$")
    assert any("equation" in p for p in problems)
    assert any("unbalanced braces" in p for p in problems)
