"""import_wordpress against WordPress exports (WXR 1.2) written by these tests: every field, the
odd cases, math shortcodes, old permalinks redirected, idempotency, atomicity and the dry run."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.importers import writer
from blog.importers.source import SourceError
from blog.importers.wordpress import (
    body_source,
    comment_source,
    convert_math,
    line_breaks,
    open_wordpress,
)
from blog.models import Category, Comment, OldPath, Post, Tag
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

SITE = "https://blog.example.com"


def cdata(text: str) -> str:
    """``text`` as CDATA, a ``]]>`` inside it split over two sections as WordPress does."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def comment(cid, text="评论", parent=0, approved="1", **fields):
    values = {
        "comment_id": cid,
        "comment_author": f"读者{cid}",
        "comment_author_email": f"r{cid}@example.com",
        "comment_author_url": "",
        "comment_author_IP": "127.0.0.1",
        "comment_date": f"2024-05-13 10:{cid % 60:02d}:00",
        "comment_date_gmt": f"2024-05-13 02:{cid % 60:02d}:00",
        "comment_content": text,
        "comment_approved": approved,
        "comment_type": "comment",
        "comment_parent": parent,
        "comment_user_id": 0,
        **fields,
    }
    inner = "".join(f"<wp:{k}>{cdata(str(v))}</wp:{k}>" for k, v in values.items())
    return f"<wp:comment>{inner}</wp:comment>"


def item(
    post_id,
    title="标题",
    body="正文",
    *,
    slug=None,
    status="publish",
    kind="post",
    date="2024-05-13 10:30:00",
    date_gmt="2024-05-13 02:30:00",
    link=None,
    terms=(),
    meta=(),
    comments=(),
    creator="admin",
    comment_status="open",
    password="",
):
    slug = f"post-{post_id}" if slug is None else slug
    link = link or f"{SITE}/{date[:4]}/{date[5:7]}/{slug}/"
    categories = "".join(
        f'<category domain="{domain}" nicename="{nicename}">{cdata(name)}</category>'
        for domain, nicename, name in terms
    )
    postmeta = "".join(
        f"<wp:postmeta><wp:meta_key>{cdata(k)}</wp:meta_key>"
        f"<wp:meta_value>{cdata(v)}</wp:meta_value></wp:postmeta>"
        for k, v in meta
    )
    return f"""
  <item>
    <title>{cdata(title)}</title>
    <link>{link}</link>
    <pubDate>Mon, 13 May 2024 02:30:00 +0000</pubDate>
    <dc:creator>{cdata(creator)}</dc:creator>
    <guid isPermaLink="false">{SITE}/?p={post_id}</guid>
    <description></description>
    <content:encoded>{cdata(body)}</content:encoded>
    <excerpt:encoded>{cdata("")}</excerpt:encoded>
    <wp:post_id>{post_id}</wp:post_id>
    <wp:post_date>{cdata(date)}</wp:post_date>
    <wp:post_date_gmt>{cdata(date_gmt)}</wp:post_date_gmt>
    <wp:post_modified>{cdata(date)}</wp:post_modified>
    <wp:post_modified_gmt>{cdata(date_gmt)}</wp:post_modified_gmt>
    <wp:comment_status>{cdata(comment_status)}</wp:comment_status>
    <wp:ping_status>{cdata("open")}</wp:ping_status>
    <wp:post_name>{cdata(slug)}</wp:post_name>
    <wp:status>{cdata(status)}</wp:status>
    <wp:post_parent>0</wp:post_parent>
    <wp:menu_order>0</wp:menu_order>
    <wp:post_type>{cdata(kind)}</wp:post_type>
    <wp:post_password>{cdata(password)}</wp:post_password>
    <wp:is_sticky>0</wp:is_sticky>
    {categories}{postmeta}{"".join(comments)}
  </item>"""


AUTHORS = """
  <wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[admin]]></wp:author_login>
    <wp:author_email><![CDATA[admin@example.com]]></wp:author_email>
    <wp:author_display_name><![CDATA[博主]]></wp:author_display_name>
    <wp:author_first_name><![CDATA[]]></wp:author_first_name>
    <wp:author_last_name><![CDATA[]]></wp:author_last_name></wp:author>"""
TERMS = """
  <wp:category><wp:term_id>2</wp:term_id><wp:category_nicename><![CDATA[ml]]></wp:category_nicename>
    <wp:category_parent><![CDATA[science]]></wp:category_parent>
    <wp:cat_name><![CDATA[机器学习]]></wp:cat_name></wp:category>
  <wp:category><wp:term_id>1</wp:term_id><wp:category_nicename><![CDATA[science]]></wp:category_nicename>
    <wp:category_parent><![CDATA[]]></wp:category_parent>
    <wp:cat_name><![CDATA[科学]]></wp:cat_name>
    <wp:category_description><![CDATA[科学与技术]]></wp:category_description></wp:category>
  <wp:tag><wp:term_id>3</wp:term_id><wp:tag_slug><![CDATA[attention]]></wp:tag_slug>
    <wp:tag_name><![CDATA[注意力]]></wp:tag_name></wp:tag>"""


def wxr(*items, authors=AUTHORS, terms=TERMS) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>旧博客</title>
  <link>{SITE}</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>{SITE}</wp:base_site_url>
  <wp:base_blog_url>{SITE}</wp:base_blog_url>
  {authors}{terms}{"".join(items)}
</channel>
</rss>
"""


@pytest.fixture
def export(tmp_path):
    """Write a WXR text to a file and return its path."""
    path = tmp_path / "export.xml"

    def write(text: str):
        path.write_text(text, encoding="utf-8")
        return path

    return write


def run(path, *args, verbosity=1):
    out = StringIO()
    call_command("import_wordpress", str(path), *map(str, args), verbosity=verbosity, stdout=out)
    return out.getvalue()


def line_of(text: str, marker: str) -> int:
    return text[: text.index(marker)].count("\n") + 1


def item_line(text: str, post_id: int) -> int:
    """The line of the ``<item>`` of WordPress post ``post_id``."""
    return text[: text.rindex("<item>", 0, text.index(f"<wp:post_id>{post_id}<"))].count("\n") + 1


BODY = (
    "第一段，第一行\n第二行 [latex]e^{i\\pi}+1=0[/latex]\n\n"
    "第二段 $latex a &lt; b&s=2&bg=ffffff$ 结束\n\n"
    "<pre>code\nkeeps\n\nits lines</pre>\n\n"
    "$$\n\\int_0^1 x\\,dx\n$$\n\n"
    "<!--more-->\n\n<b>HTML</b> kept ]]> here"
)


def small_blog():
    return wxr(
        item(
            12,
            "你好，世界",
            BODY,
            slug="hello-world",
            terms=[("category", "ml", "机器学习"), ("post_tag", "attention", "注意力")],
            meta=[("views", "1234"), ("_edit_lock", "1")],
            comments=[
                comment(1, "好文 $x^2$", comment_author_url="https://r.example.com"),
                comment(2, "谢谢", parent=1, comment_user_id=1, comment_author="博主"),
                comment(3, "buy", approved="spam"),
                comment(4, "等待", approved="0"),
                comment(5, "删了", approved="trash"),
                comment(6, "", comment_type="pingback"),
            ],
        ),
        item(
            20,
            "关于",
            "关于本站",
            slug="about",
            kind="page",
            link=f"{SITE}/about/",
            comment_status="closed",
            meta=[("post_views_count", "5")],
        ),
        item(30, "草稿", status="draft", date_gmt="0000-00-00 00:00:00"),
        item(31, "私密", status="private"),
        item(32, "待审", status="pending"),
        item(
            33,
            "定时",
            status="future",
            date="2099-01-01 08:00:00",
            date_gmt="2099-01-01 00:00:00",
        ),
        item(34, "回收站", status="trash", comments=[comment(7, "在回收站的文章上")]),
        item(35, "附件", kind="attachment", status="inherit"),
    )


def test_every_field_of_a_small_blog(export, client):
    text = small_blog()
    path = export(text)
    out = run(path, verbosity=2)
    assert "posts: 6 created, 0 updated, 0 unchanged" in out, out
    post = Post.objects.get(pk=12)
    assert post.title == "你好，世界" and post.source_key == "wordpress:post:12"
    assert timezone.localtime(post.published_at).isoformat() == "2024-05-13T10:30:00+08:00"
    assert post.status == Post.Status.PUBLISHED and post.comments_open and not post.is_page
    assert post.reader_count == 1234
    assert post.category.name == "机器学习" and post.category.parent.name == "科学"
    assert post.category.parent.description == "科学与技术"
    assert [t.name for t in post.tag_list] == ["注意力"]
    (author,) = post.ordered_authors()
    assert (author.username, author.display_name, author.email) == (
        "admin",
        "博主",
        "admin@example.com",
    )
    assert not author.has_usable_password()
    # Body: paragraphs at blank lines, a single line break kept, math shortcodes as TeX.
    assert "第一段，第一行<br />\n第二行 $e^{i\\pi}+1=0$" in post.body
    assert "第二段 $a < b$ 结束" in post.body
    assert "<pre>code\nkeeps\n\nits lines</pre>" in post.body
    assert "$$\n\\int_0^1 x\\,dx\n$$" in post.body
    assert "<b>HTML</b> kept ]]> here" in post.body
    assert post.has_math and post.has_more
    assert post.body_html.count("<p>") >= 3 and "<br />" in post.body_html
    page = Post.objects.get(pk=20)
    assert page.is_page and not page.comments_open and page.reader_count == 5
    statuses = dict(Post.objects.values_list("pk", "status"))
    assert statuses == {
        12: Post.Status.PUBLISHED,
        20: Post.Status.PUBLISHED,
        30: Post.Status.DRAFT,
        31: Post.Status.DRAFT,
        32: Post.Status.DRAFT,
        33: Post.Status.PUBLISHED,
    }
    # The draft had no GMT date: its local date is read in the blog's time zone.
    draft = Post.objects.get(pk=30)
    assert timezone.localtime(draft.published_at).isoformat() == "2024-05-13T10:30:00+08:00"
    assert not Post.objects.get(pk=33).is_public  # scheduled
    comments = {c.source_key: c for c in Comment.objects.filter(post=post)}
    assert set(comments) == {f"wordpress:comment:{n}" for n in (1, 2, 3, 4)}
    first, reply = comments["wordpress:comment:1"], comments["wordpress:comment:2"]
    assert (first.number, first.author_name, first.email, first.website) == (
        1,
        "读者1",
        "r1@example.com",
        "https://r.example.com",
    )
    assert first.created_at == datetime(2024, 5, 13, 2, 1, tzinfo=UTC) == first.approved_at
    assert first.has_math and "\\(x^2\\)" in first.body_html
    assert reply.parent == first and reply.is_staff_reply and reply.user == author
    assert comments["wordpress:comment:3"].status == Comment.Status.SPAM
    assert comments["wordpress:comment:4"].status == Comment.Status.PENDING
    # Every problem is reported with its line in the file.
    where = f"{path} line"
    assert f"{where} {line_of(text, comment(5, '删了', approved='trash'))}: trashed" in out
    assert f"{where} {line_of(text, comment(6, '', comment_type='pingback'))}: pingback" in out
    assert f"{where} {item_line(text, 34)}: trash: skipped" in out
    on_trashed = line_of(text, comment(7, "在回收站的文章上"))
    assert f"{where} {on_trashed}: on wordpress:post:34, not in the source: skipped" in out
    assert "attachment" not in out
    assert Category.objects.count() == 2 and Tag.objects.count() == 1
    # The post page works at its kept id; the page stays out of the list.
    assert "好文" in client.get("/archives/12/").content.decode()
    listing = client.get("/").content.decode()
    assert "/archives/12/" in listing and "/archives/20/" not in listing


def test_math_shortcodes_become_the_blogs_tex():
    assert convert_math("[latex]x^2[/latex]") == "$x^2$"
    assert convert_math('[latex size="2"] a\n+ b [/latex]') == "$a + b$"
    assert convert_math("$latex \\alpha&s=2&bg=ffffff&fg=000000$") == "$\\alpha$"
    assert convert_math("$latex a &amp; b &amp;s=1$ and $latex=c$") == "$a & b$ and $c$"
    assert convert_math("$latex \\$5$") == "$\\$5$"
    assert convert_math("[latex][/latex]x") == "x"
    assert convert_math("costs $5 and $10, $x$") == "costs $5 and $10, $x$"


def test_single_line_breaks_follow_wpautop():
    assert line_breaks("a\nb\n\nc") == "a<br />\nb\n\nc"
    assert line_breaks("<ul>\n<li>x</li>\n</ul>") == "<ul>\n<li>x</li>\n</ul>"
    assert line_breaks("a\n<div>b</div>") == "a\n<div>b</div>"
    assert line_breaks("<pre>a\nb</pre>\nc\nd") == "<pre>a\nb</pre>\nc<br />\nd"
    assert body_source("<pre>a\n\n\n\nb</pre>\n<p>c</p>") == "<pre>a\n\n\n\nb</pre>\n\nc"
    assert line_breaks("$$\na\nb\n$$") == "$$\na\nb\n$$"
    assert line_breaks("\\begin{align}\na\\\\\nb\n\\end{align}") == (
        "\\begin{align}\na\\\\\nb\n\\end{align}"
    )


def test_block_editor_paragraphs_become_markdown_paragraphs_and_their_math_is_typeset(export):
    gutenberg = (
        "<!-- wp:paragraph -->\r\n<p>欧拉公式 $latex e^{i\\pi}+1=0$ 很美</p>\r\n"
        "<!-- /wp:paragraph -->\r\n\r\n<!-- wp:paragraph -->\r\n"
        '<p class="note">注 $y$</p>\r\n<!-- /wp:paragraph -->'
    )
    assert body_source(gutenberg) == (
        "<!-- wp:paragraph -->\n\n欧拉公式 $e^{i\\pi}+1=0$ 很美\n\n<!-- /wp:paragraph -->\n\n"
        '<!-- wp:paragraph -->\n<p class="note">注 $y$</p>\n<!-- /wp:paragraph -->'
    )
    text = wxr(item(1, body=gutenberg), item(2, body="<pre>echo $HOME</pre>\n\n$x$"))
    path = export(text)
    out = run(path)
    post = Post.objects.get(pk=1)
    assert post.has_math and "<p>欧拉公式" in post.body_html
    # The paragraph with a class stays an HTML block: its $y$ is reported, not typeset.
    message = "TeX inside an HTML block is not typeset: check it"
    assert f"{path} line {item_line(text, 1)}: {message}" in out
    assert f"{path} line {item_line(text, 2)}: {message}" not in out


def test_comment_html_becomes_markdown_and_the_rest_stays_text(export):
    assert (
        comment_source(
            '<strong>粗</strong> <em>斜</em> <code>x</code> <a href="https://a.example/" '
            'rel="nofollow">链接</a> <del>删</del> <abbr title="t">缩</abbr>'
        )
        == "**粗** *斜* `x` [链接](https://a.example/) ~~删~~ 缩"
    )
    assert comment_source('<a href="#comment-12">@读者</a> 同意') == "@读者 同意"
    assert comment_source("<blockquote>引用\n第二行</blockquote>回复") == "> 引用\n> 第二行\n\n回复"
    hostile = '<a href="javascript:alert(1)">点</a> <img src=x onerror=alert(1)> $latex x$'
    run(export(wxr(item(1, comments=[comment(1, hostile), comment(2, "<b>好</b>")]))))
    bad, good = Comment.objects.order_by("number")
    assert "<b>好</b>" not in good.body_html and "<strong>好</strong>" in good.body_html
    assert "javascript:" not in bad.body_html and "<img" not in bad.body_html
    assert bad.body.startswith("点 <img") and "<a " not in bad.body_html
    assert "&lt;img" in bad.body_html and bad.has_math


OLD_FORMS = [
    "/?p=12",
    "/?p=12&utm_source=feed",
    "/index.php?p=12",
    "/2024/05/13/hello-world/",
    "/2024/05/hello-world/",
    "/2024/05/hello-world",
]


@pytest.mark.parametrize("old", OLD_FORMS)
def test_old_permalinks_redirect_to_the_post(export, client, old):
    taken = PostFactory(pk=12, title="本站的文章")  # WordPress's id 12 is taken here
    run(export(wxr(item(12, "你好", slug="hello-world"))))
    imported = Post.objects.get(source_key="wordpress:post:12")
    assert imported.pk != taken.pk
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == f"/archives/{imported.pk}/"


def test_pages_and_the_links_of_the_old_site_redirect(export, client):
    run(
        export(
            wxr(
                item(20, "关于", slug="about", kind="page", link=f"{SITE}/about/"),
                item(21, "中文", slug="%e4%bd%a0%e5%a5%bd", link=f"{SITE}/archives/21"),
            )
        )
    )
    for old, target in [
        ("/?page_id=20", "/archives/20/"),
        ("/?p=20", "/archives/20/"),
        ("/about/", "/archives/20/"),
        ("/2024/05/%E4%BD%A0%E5%A5%BD/", "/archives/21/"),
        ("/2024/05/13/你好/", "/archives/21/"),
    ]:
        response = client.get(old)
        assert (response.status_code, response.get("Location")) == (301, target), old
    # The post's own address here is no old address: WordPress's /archives/N is the post.
    assert not OldPath.objects.filter(path="/archives/21").exists()
    response = client.get("/archives/21")
    assert (response.status_code, response["Location"]) == (301, "/archives/21/")


def test_unknown_old_addresses_stay_what_they_were(export, client):
    run(export(wxr(item(12, slug="hello-world"))))
    home = client.get("/?p=999")
    assert home.status_code == 200 and "/archives/12/" in home.content.decode()
    assert client.get("/?page_id=abc").status_code == 200
    assert client.get("/2024/05/other/").status_code == 404
    assert client.get("/archives/999/").status_code == 404
    assert client.post("/?p=12").status_code != 301


def test_home_query_forms_redirect_past_a_cached_home_page(export, client):
    run(export(wxr(item(12, slug="hello-world"))))
    client.get("/")  # the home page is now in the page cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries) == 0  # the home page itself costs no lookup
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/?p=12").status_code == 301
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/?utm_source=x").status_code == 200
    assert len(queries) == 0


def test_a_failed_lookup_serves_the_cached_home_page_as_before(export, client, caplog):
    run(export(wxr(item(12, slug="hello-world"))))
    client.get("/")

    def database_gone(execute, sql, params, many, context):
        if "blog_oldpath" in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_gone):
        response = client.get("/?p=12")
    assert response.status_code == 200 and "/archives/12/" in response.content.decode()
    assert "old address /?p=12 not looked up: database error" in caplog.text


def test_odd_cases_are_imported_and_reported(export):
    text = wxr(
        item(
            1,
            "",
            comments=[
                comment(1, "孤儿回复", parent=99),
                comment(3, "回复后来的", parent=4),
                comment(4, "后来的"),
            ],
        ),
        item(2, "同名一", slug="same"),
        item(3, "同名二", slug="same"),
        item(4, "未知分类", terms=[("category", "nowhere", "不存在")]),
        item(5, "乱填的浏览数", meta=[("views", "很多")]),
        item(6, "自定义类型", kind="product"),
        item(7, "短代码", '[caption id="1"]<img src="a.png" /> 图[/caption] [gallery ids="1"]'),
        item(8, "超长别名", slug="长" * 600),
    )
    path = export(text)
    out = run(path, verbosity=2)
    untitled = Post.objects.get(pk=1)
    assert untitled.title == writer.UNTITLED
    orphan = Comment.objects.get(source_key="wordpress:comment:1")
    assert orphan.parent is None
    later = Comment.objects.get(source_key="wordpress:comment:3")
    assert later.parent.source_key == "wordpress:comment:4"
    assert Post.objects.filter(pk__in=[2, 3]).count() == 2  # duplicate slugs: both imported
    assert OldPath.objects.get(path="/2024/05/same").post_id == 2
    assert Post.objects.get(pk=5).reader_count == 0
    assert list(OldPath.objects.filter(post_id=8).values_list("path", flat=True)) == ["/?p=8"]
    assert not Post.objects.filter(pk=6).exists()
    where = f"{path} line"
    for post_id, message in [
        (1, "empty title"),
        (3, "old address /2024/05/same already leads to /archives/2/"),
        (4, "category 'nowhere' not in the export: dropped"),
        (5, "views '很多' is not a count: ignored"),
        (6, "post type 'product': skipped"),
        (7, "[caption] shortcode kept as text: check it"),
        (7, "[gallery] shortcode kept as text: check it"),
        (8, f"old address '/2024/05/13/{'长' * 600}/' unusable: ignored"),
    ]:
        assert f"{where} {item_line(text, post_id)}: {message}" in out, message
    assert f"{where} {line_of(text, comment(1, '孤儿回复', parent=99))}: reply to" in out


def test_rerunning_changes_nothing_and_edits_in_the_file_update(export):
    path = export(small_blog())
    first = run(path)
    ids = sorted(Comment.objects.values_list("pk", flat=True))
    paths = sorted(OldPath.objects.values_list("path", "post_id"))
    second = run(path)
    assert "posts: 0 created, 0 updated, 6 unchanged" in second
    assert "comments: 0 created, 0 updated, 4 unchanged" in second
    assert "redirects: 0 created, 0 updated" in second
    assert sorted(Comment.objects.values_list("pk", flat=True)) == ids
    assert sorted(OldPath.objects.values_list("path", "post_id")) == paths
    assert first.count("\n") == second.count("\n")
    edited = small_blog().replace("你好，世界", "新标题").replace("hello-world", "renamed")
    edited = edited.replace(comment(4, "等待", approved="0"), comment(4, "等待", approved="1"))
    third = run(export(edited))
    assert "posts: 0 created, 1 updated, 5 unchanged" in third
    assert "comments: 0 created, 1 updated, 3 unchanged" in third
    assert Post.objects.get(pk=12).title == "新标题"
    assert Comment.objects.get(source_key="wordpress:comment:4").status == "approved"
    assert OldPath.objects.filter(path="/2024/05/renamed", post_id=12).exists()
    assert not OldPath.objects.filter(path="/2024/05/hello-world").exists()


def test_dry_run_writes_nothing_and_reports_exactly_what_a_run_does(export):
    path = export(small_blog())
    dry = run(path, "--dry-run", verbosity=2)
    assert not Post.objects.exists() and not Comment.objects.exists()
    assert not Category.objects.exists() and not OldPath.objects.exists()
    real = run(path, verbosity=2)
    assert dry.startswith("Dry run (nothing written)")
    assert dry.splitlines()[1:] == real.splitlines()[1:]
    # Three old addresses for each of the six posts: ?p=N and two permalink forms (the page's
    # ?page_id=N and /about/ instead), /archives/N/ being their address here.
    assert "redirects: 18 created, 0 updated, 0 unchanged" in real


def test_malformed_xml_is_a_clear_error_with_its_line_and_writes_nothing(export):
    text = small_blog().replace("<wp:post_id>31</wp:post_id>", "<wp:post_id>31</wp:post-id>")
    path = export(text)
    with pytest.raises(CommandError) as error:
        run(path)
    line = line_of(text, "</wp:post-id>")
    assert f"{path} line {line}, column" in str(error.value)
    assert "malformed XML (mismatched tag)" in str(error.value)
    assert "nothing imported" in str(error.value)
    assert not Post.objects.exists() and not Category.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no element found"),
        ("<html><body>not an export</body></html>", "<html> is not a WordPress export"),
        ("<rss><channel><item>&nbsp;</item></channel></rss>", "undefined entity"),
    ],
)
def test_files_that_are_not_exports_are_refused(export, text, message):
    with pytest.raises(CommandError, match=message):
        run(export(text))
    assert not Post.objects.exists()


def test_media_dir_is_copied_and_wp_content_links_rewritten(export, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    uploads = tmp_path / "uploads"
    (uploads / "2024" / "05").mkdir(parents=True)
    (uploads / "2024" / "05" / "a.png").write_bytes(b"\x89PNG fake")
    body = (
        f'<img src="{SITE}/wp-content/uploads/2024/05/a.png" /> '
        '<img src="/wp-content/uploads/2024/05/a.png" /> '
        '<img src="http://blog.example.com/wp-content/uploads/2024/05/gone.png" />'
    )
    out = run(export(wxr(item(1, body=body))), "--media-dir", uploads, verbosity=2)
    stored = Post.objects.get(pk=1).body
    assert stored.count('"/media/wordpress/2024/05/a.png"') == 2
    assert "gone.png: not in the media folder, link kept" in out
    assert (settings.MEDIA_ROOT / "wordpress/2024/05/a.png").read_bytes() == b"\x89PNG fake"


def test_verbosity_three_lists_every_record_and_zero_prints_nothing(export):
    path = export(small_blog())
    assert run(path, "--dry-run", verbosity=0) == ""
    out = run(path, verbosity=3)
    assert f"  created post  {path} line {item_line(small_blog(), 12)}" in out
    assert out.count(" created comment ") == 4


def test_a_legacy_gbk_export_is_read(tmp_path):
    text = wxr(item(1, "你好，世界", "旧博客的正文", comments=[comment(1, "沙发")]))
    path = tmp_path / "gbk.xml"
    path.write_bytes(text.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk"))
    run(path)
    post = Post.objects.get(pk=1)
    assert (post.title, post.body) == ("你好，世界", "旧博客的正文")
    assert post.comments.get().body == "沙发"


def test_bytes_that_are_not_utf8_are_a_clear_error_with_their_line(tmp_path):
    text = wxr(item(1, "标题", "坏字节在此 X"))
    path = tmp_path / "bad.xml"
    path.write_bytes(text.encode().replace("此 X".encode(), "此 ".encode() + b"\xff"))
    with pytest.raises(CommandError, match=rf"{path} line {line_of(text, '坏字节')}, column"):
        run(path)
    assert not Post.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path, db):
    with pytest.raises(CommandError, match=r"cannot read .*missing\.xml"):
        run(tmp_path / "missing.xml")


def test_an_error_midway_leaves_nothing(export):
    """The file is cut short after it was checked (a copy still running): the posts written
    before the break are rolled back."""
    many = [item(n, f"文章{n}", comments=[comment(n)]) for n in range(1, 251)]
    text = wxr(*many)
    path = export(text)
    source = open_wordpress(path)
    path.write_text(text[: text.index("<wp:post_id>240</wp:post_id>")], encoding="utf-8")
    with pytest.raises(SourceError, match="line"):
        writer.write(source)
    assert not Post.objects.exists() and not Comment.objects.exists()
    assert not OldPath.objects.exists() and not Category.objects.exists()
