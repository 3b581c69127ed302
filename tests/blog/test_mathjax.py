"""Math typeset on the server at save time (blog/mathjax.py, mathjax/typeset.mjs), and the
fallback to the browser's MathJax where Node is missing."""

import os
import re
import signal
from urllib.parse import unquote

import feedparser
import pytest
from django.core import checks
from django.core.management import CommandError, call_command

from blog import mathjax
from blog.comments.workflow import approve
from blog.models import Comment, Post
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

BODY = r"""由式$\eqref{eq:attn}$可知，$y^*_i = \boldsymbol{x}_i$。

$$\begin{equation}\boldsymbol{o}_t = \sum_{i\le t} \alpha_{t,i}\boldsymbol{v}_i \label{eq:attn}\end{equation}$$

<!--more-->

\begin{align}
a &= b + \cancel{c} \\[5pt]
\text{中文} &= \style{color: red}{d}
\end{align}
"""
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\begin\{equation\}")


@pytest.fixture
def server_math(settings):
    settings.BLOG_MATHJAX_NODE = "node"


@pytest.fixture
def no_node(settings):
    settings.BLOG_MATHJAX_NODE = "/nonexistent/node"


def test_saving_a_post_stores_typeset_numbered_and_linked_math(server_math):
    post = PostFactory(body=BODY)
    assert post.math_typeset
    assert not RAW_TEX.search(post.body_html) and not RAW_TEX.search(post.teaser_html)
    assert 'href="#mjx-eqn%3Aeq%3Aattn"' in post.body_html  # \eqref, resolved before its \label
    assert '<mjx-mtd id="mjx-eqn:eq:attn">' in post.body_html
    assert "<mtext>(1)</mtext>" in post.teaser_html
    assert post.body_html.count("<mjx-container") == 4
    assert "<mtext>(1)</mtext>" in post.body_html
    assert "<mtext>(2)</mtext>" in post.body_html and "<mtext>(3)</mtext>" in post.body_html
    assert 'style="color: red;"' in post.body_html  # \style
    assert "menclose" in post.body_html  # \cancel
    assert "中" in post.body_html


def test_teasers_on_one_list_page_share_no_equation_ids_or_dead_links(server_math, client):
    PostFactory.create_batch(2, body=BODY)
    html = client.get("/").content.decode()
    assert html.count("<mjx-container") >= 4  # both teasers, typeset
    ids = re.findall(r'\sid="([^"]*)"', html)
    assert len(ids) == len(set(ids))
    targets = {unquote(href) for href in re.findall(r'href="#([^"]*)"', html)}
    assert targets <= set(ids)


def test_a_post_page_with_typeset_math_loads_no_mathjax(server_math, client):
    post = PostFactory(body=BODY)
    html = client.get(post.get_absolute_url()).content.decode()
    assert "mathjax-chtml.css" in html
    assert not re.search(r"<script[^>]*mathjax", html)  # the comment preview loads it on demand
    preloads = re.findall(r'<link rel="preload" as="font"[^>]*href="[^"]*/MathJax_([\w-]+)\.', html)
    assert {"Main-Regular", "Math-BoldItalic"} <= set(preloads)  # its fonts
    assert "<mjx-container" in html


def test_without_node_posts_fall_back_to_the_browser(no_node, client):
    post = PostFactory(body=BODY)
    assert not post.math_typeset
    assert "\\begin{equation}" in post.body_html
    html = client.get(post.get_absolute_url()).content.decode()
    assert re.search(r"<script[^>]*tex-chtml-full", html) and "mathjax-chtml.css" not in html
    warnings = [m for m in checks.run_checks() if m.id == "blog.W001"]
    assert len(warnings) == 1


def test_the_check_is_silent_when_node_runs_or_is_turned_off(server_math, settings):
    assert not [m for m in checks.run_checks() if m.id == "blog.W001"]
    settings.BLOG_MATHJAX_NODE = ""
    assert not [m for m in checks.run_checks() if m.id == "blog.W001"]


def test_typeset_math_catches_up_idempotently(settings, capsys):
    settings.BLOG_MATHJAX_NODE = "/nonexistent/node"
    post = PostFactory(body=BODY)
    comment = CommentFactory(post=post, body="由 $\\alpha$ 可得")
    plain = PostFactory(body="没有公式。")
    with pytest.raises(CommandError):
        call_command("typeset_math")
    settings.BLOG_MATHJAX_NODE = "node"
    call_command("typeset_math", "--dry-run")
    assert "1 posts with math would be typeset" in capsys.readouterr().out
    assert not Post.objects.get(pk=post.pk).math_typeset
    call_command("typeset_math")
    assert "posts: 1/1" in capsys.readouterr().out
    first = Post.objects.get(pk=post.pk)
    assert first.math_typeset and "<mjx-container" in first.body_html
    assert Comment.objects.get(pk=comment.pk).math_typeset
    call_command("typeset_math")
    assert Post.objects.get(pk=post.pk).body_html == first.body_html
    assert Post.objects.get(pk=plain.pk).body_html == plain.body_html


def test_comments_are_typeset_when_approved_with_their_own_equation_ids(server_math, client):
    post = PostFactory(body=BODY)
    comment = CommentFactory(
        post=post,
        status=Comment.Status.PENDING,
        approved_at=None,
        body="$$\\begin{equation}x\\label{eq:attn}\\end{equation}$$ 见 $\\eqref{eq:attn}$",
    )
    assert not comment.math_typeset and "\\begin{equation}" in comment.body_html
    approve(Comment.objects.filter(pk=comment.pk))
    comment.refresh_from_db()
    assert comment.math_typeset
    assert f'id="mjx-c{comment.number}-eqn:eq:attn"' in comment.body_html
    html = client.get(post.get_absolute_url()).content.decode()
    assert not re.search(r"<script[^>]*mathjax", html)


@pytest.mark.parametrize(
    "tex",
    [
        r"\style{position:fixed;top:0}{x}",
        r"\class{site-header}{x}",
        r"\cssId{main}{x}",
        r"\href{javascript:alert(1)}{x}",
        r"\unicode[some-font;position:fixed]{x41}",
        r"\require{html}\style{position:fixed}{x}",
    ],
)
def test_comment_tex_cannot_style_link_or_name_page_elements(server_math, tex):
    comment = CommentFactory(body=f"见 ${tex}$")
    # Refused by the comment TeX allow-list, it is not typeset on the server; either way the
    # stored body can neither style, link nor name page elements.
    html = comment.body_html
    assert not re.search(r'style="[^"]*position: *fixed', html)
    assert not re.search(r"href=\"\s*javascript:", html)
    assert not re.search(r'\sid="(?!mjx-)', html) and 'class="site-header' not in html


@pytest.mark.parametrize(
    ("tex", "drawn"),
    [
        (r"\braket{a|b}", "mjx-c27E8"),  # braket
        (r"\ce{H2O}", "mjx-c48"),  # mhchem
        (r"\bbox[5px,border:1px solid]{x}", "border: 1px solid"),  # bbox
        (r"a \coloneqq b", "mjx-c3A"),  # mathtools
    ],
)
def test_the_server_knows_every_package_the_browser_loads(server_math, tex, drawn):
    # static/js/mathjax-config.js is the one configuration: the browser's tex-chtml-full loads
    # every package, so the server does too.
    (html,) = mathjax.typeset([{"html": f"\\({tex}\\)"}])
    assert drawn in html and "mjx-c5C" not in html  # an unknown macro shows its backslash


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_feeds_carry_mathml_and_eqref_links_but_no_raw_tex(server_math, client, url):
    post = PostFactory(body=BODY)
    CommentFactory(post=post, body="由 $\\alpha$ 可得")
    feed = feedparser.parse(client.get(url).content)
    assert feed.bozo == 0
    (entry,) = feed.entries
    html = entry.content[0].value if url.endswith("atom/") else entry.description
    assert not RAW_TEX.search(html)
    assert "<math" in html and "<mjx-" not in html
    page = f"https://kexue.test{post.get_absolute_url()}"
    assert f'<a href="{page}#mjx-eqn%3Aeq%3Aattn">(1)</a>' in html
    comments = feedparser.parse(client.get("/feed/comments/").content)
    (item,) = comments.entries
    assert "<math" in item.description and not RAW_TEX.search(item.description)


def test_typeset_returns_none_when_node_fails(server_math, settings):
    settings.BLOG_MATHJAX_TIMEOUT = 0.001
    # Long enough to overrun 1 ms even on a warm worker (a lone \(x\) sometimes did not).
    slow = "".join(f"\\[\\sum_{{i={n}}}^n \\frac{{x_i^{{{n}}}}}{{1+y_i}}\\]" for n in range(200))
    assert mathjax.typeset([{"html": slow}]) is None
    settings.BLOG_MATHJAX_TIMEOUT = 60
    assert "<mjx-container" in mathjax.typeset([{"html": "\\(x\\)"}])[0]  # a fresh worker


def test_workers_that_fail_leave_no_pipes_open(server_math, settings):
    """A dead worker's pipes are closed when it is replaced, not whenever the garbage collector
    gets to them (the logged error keeps them reachable)."""
    mathjax.typeset([{"html": "\\(x\\)"}])
    open_before = len(os.listdir("/proc/self/fd"))
    settings.BLOG_MATHJAX_NODE = "false"  # found, runs, and exits at once
    failures = [mathjax.typeset([{"html": "\\(x\\)" * 10_000}]) for _ in range(20)]
    assert failures == [None] * 20
    settings.BLOG_MATHJAX_NODE = "node"
    assert "<mjx-container" in mathjax.typeset([{"html": "\\(x\\)"}])[0]
    assert len(os.listdir("/proc/self/fd")) <= open_before


def test_one_node_worker_serves_every_save_and_is_replaced_when_it_dies(server_math):
    first = PostFactory(body=BODY)
    pid = mathjax.WORKER.pid
    second = PostFactory(body=BODY)
    assert first.math_typeset and second.math_typeset
    assert mathjax.WORKER.pid == pid
    os.kill(pid, signal.SIGKILL)
    third = PostFactory(body=BODY)
    assert third.math_typeset and third.body_html == first.body_html
    assert mathjax.WORKER.pid != pid


def test_a_save_is_one_worker_request_and_a_whole_body_teaser_is_typeset_once(server_math):
    PostFactory(body="$x$")  # the worker is up
    requests, documents = mathjax.WORKER.requests, mathjax.WORKER.documents
    short = PostFactory(body=r"短文：$\alpha$ 与 $\beta$。")
    assert (mathjax.WORKER.requests, mathjax.WORKER.documents) == (requests + 1, documents + 1)
    assert short.teaser_html == short.body_html and "<mjx-container" in short.body_html
    PostFactory(body=BODY)  # a <!--more--> teaser differs from the body
    assert (mathjax.WORKER.requests, mathjax.WORKER.documents) == (requests + 2, documents + 3)
    long = PostFactory(
        body="\n\n".join([rf"\begin{{equation}}x_{{{i}}}\end{{equation}}" for i in range(300)])
    )
    assert (mathjax.WORKER.requests, mathjax.WORKER.documents) == (requests + 3, documents + 5)
    assert (
        long.body_html.count("<mjx-container") == 300 and "<mtext>(300)</mtext>" in long.body_html
    )


def test_a_document_the_worker_cannot_typeset_leaves_the_worker_running(server_math):
    assert mathjax.typeset([{"html": "\\(x\\)", "profile": "nonexistent"}]) is None
    pid = mathjax.WORKER.pid
    assert mathjax.typeset([{"html": "\\(x\\)"}]) is not None
    assert mathjax.WORKER.pid == pid
