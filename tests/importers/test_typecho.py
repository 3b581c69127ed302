"""import_typecho against real Typecho databases (MariaDB and SQLite), written from Typecho's
install SQL: every field, the odd cases, idempotency, atomicity and the dry run."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from blog.models import Category, Comment, Post, Series, Tag
from tests.factories import PostFactory, UserFactory

from .typecho_db import TypechoDB

pytestmark = pytest.mark.django_db

T0 = int(datetime(2024, 5, 13, 2, 30, tzinfo=UTC).timestamp())  # 10:30 in Asia/Shanghai


def run(database, *args, verbosity=1):
    out = StringIO()
    call_command("import_typecho", database.url, *map(str, args), verbosity=verbosity, stdout=out)
    return out.getvalue()


def post_row(cid, title="标题", text="<!--markdown-->正文", **fields):
    return {
        "cid": cid,
        "title": title,
        "slug": str(cid),
        "created": T0,
        "modified": T0,
        "text": text,
        "authorId": 1,
        "type": "post",
        "status": "publish",
        "allowComment": "1",
        **fields,
    }


def comment_row(coid, cid, text="评论", parent=0, **fields):
    return {
        "coid": coid,
        "cid": cid,
        "created": T0 + coid * 60,
        "author": f"读者{coid}",
        "authorId": 0,
        "mail": f"r{coid}@example.com",
        "url": "",
        "text": text,
        "type": "comment",
        "status": "approved",
        "parent": parent,
        **fields,
    }


def small_blog(db):
    db.insert("options", [{"name": "siteUrl", "user": 0, "value": "https://kexue.fm"}])
    db.insert(
        "users",
        [
            {
                "uid": 1,
                "name": "sujianlin",
                "mail": "su@kexue.fm",
                "url": "https://kexue.fm",
                "screenName": "苏剑林",
                "password": "$P$Bphpass",
                "group": "administrator",
            },
        ],
    )
    db.insert(
        "metas",
        [
            {"mid": 1, "name": "信息时代", "slug": "big-data", "type": "category", "parent": 0},
            {"mid": 2, "name": "机器学习", "slug": "ml", "type": "category", "parent": 1},
            {"mid": 3, "name": "attention", "slug": "attention", "type": "tag", "parent": 0},
        ],
    )
    db.insert(
        "contents",
        [
            post_row(
                10066,
                "Transformer升级之路：1、Sinusoidal位置编码追根溯源",
                "<!--markdown-->前言 $a^2+b^2=c^2$\n\n"
                "![图](https://kexue.fm/usr/uploads/2024/05/1.png)\n\n*强调*",
                modified=T0 + 3600,
                views=1234,
            ),
            post_row(
                10067,
                "关于",
                "<p>HTML <b>page</b> *not emphasis* $5</p>",
                type="page",
                allowComment="0",
                views=5,
            ),
        ],
    )
    db.insert("relationships", [{"cid": 10066, "mid": 2}, {"cid": 10066, "mid": 3}])
    db.insert(
        "comments",
        [
            comment_row(1, 10066, "好文 $x^2$", url="https://r.example.com"),
            comment_row(
                2, 10066, "谢谢", parent=1, author="苏剑林", authorId=1, mail="su@kexue.fm"
            ),
            comment_row(3, 10066, "buy", status="spam"),
            comment_row(4, 10066, "等待", status="waiting"),
        ],
    )


def test_every_field_of_a_small_blog(typecho, client):
    small_blog(typecho)
    out = run(typecho)
    assert "posts: 2 created, 0 updated, 0 unchanged" in out, out
    post = Post.objects.get(pk=10066)
    assert post.title == "Transformer升级之路：1、Sinusoidal位置编码追根溯源"
    assert timezone.localtime(post.published_at).isoformat() == "2024-05-13T10:30:00+08:00"
    assert post.updated_at == datetime.fromtimestamp(T0 + 3600, UTC)
    assert post.status == Post.Status.PUBLISHED and post.comments_open and not post.is_page
    assert post.reader_count == 1234
    assert "<em>强调</em>" in post.body_html and post.has_math  # Markdown, with TeX
    assert post.category.name == "机器学习" and post.category.parent.name == "信息时代"
    assert [t.name for t in post.tag_list] == ["attention"]
    (author,) = post.ordered_authors()
    assert (author.username, author.display_name, author.email) == (
        "sujianlin",
        "苏剑林",
        "su@kexue.fm",
    )
    assert not author.has_usable_password()
    page = Post.objects.get(pk=10067)
    assert page.is_page and not page.comments_open
    assert "<b>page</b> *not emphasis*" in page.body_html  # HTML kept
    assert "cid=10067: HTML body with $: TeX inside HTML blocks is not typeset" in out
    comments = {c.source_key: c for c in Comment.objects.filter(post=post)}
    first, reply = comments["typecho:coid:1"], comments["typecho:coid:2"]
    assert (first.number, first.author_name, first.email, first.website) == (
        1,
        "读者1",
        "r1@example.com",
        "https://r.example.com",
    )
    assert first.created_at == datetime.fromtimestamp(T0 + 60, UTC) == first.approved_at
    assert first.has_math and "\\(x^2\\)" in first.body_html
    assert reply.parent == first and reply.is_staff_reply and reply.user == author
    assert comments["typecho:coid:3"].status == Comment.Status.SPAM
    assert comments["typecho:coid:4"].status == Comment.Status.PENDING
    assert [c.number for c in sorted(comments.values(), key=lambda c: c.number)] == [1, 2, 3, 4]
    # The old permalink serves the post; the page keeps its URL but stays out of the list.
    response = client.get("/archives/10066/")
    assert response.status_code == 200 and "好文" in response.content.decode()
    assert client.get("/archives/10067/").status_code == 200
    listing = client.get("/").content.decode()
    assert "/archives/10066/" in listing and "/archives/10067/" not in listing
    feed = client.get("/feed/").content.decode()
    assert "/archives/10066/" in feed and "/archives/10067/" not in feed
    assert Category.objects.count() == 2 and Tag.objects.count() == 1
    # Without --media-dir the old host's upload links stay and are listed.
    assert "https://kexue.fm/usr/uploads/2024/05/1.png" in post.body
    assert "typecho_contents cid=10066: https://kexue.fm/usr/uploads/2024/05/1.png" in out


def test_statuses_drafts_scheduled_and_skipped_rows(typecho):
    future = int((timezone.now() + timedelta(days=3)).timestamp())
    typecho.insert(
        "contents",
        [
            post_row(1, "公开"),
            post_row(2, "私密", status="private"),
            post_row(3, "待审", status="waiting"),
            post_row(4, "草稿", type="post_draft"),
            post_row(5, "已发表文章的草稿", type="post_draft", parent=1),
            post_row(6, "定时", created=future),
            post_row(7, "加密", password="secret"),
            post_row(8, "附件", type="attachment"),
        ],
    )
    typecho.insert(
        "comments",
        [
            comment_row(1, 1),
            comment_row(2, 1, type="trackback"),
            comment_row(3, 1, type="pingback"),
        ],
    )
    out = run(typecho, verbosity=2)
    statuses = dict(Post.objects.values_list("pk", "status"))
    assert statuses == {
        1: "published",
        2: "draft",
        3: "draft",
        4: "draft",
        6: "published",
        7: "draft",
    }
    assert not Post.objects.get(pk=6).is_public  # scheduled
    assert "typecho_contents cid=2: private post: imported as a draft" in out
    assert "typecho_contents cid=3: pending post: imported as a draft" in out
    assert "typecho_contents cid=5: unsaved draft of cid=1: skipped" in out
    assert "typecho_contents cid=7: password-protected: read as private" in out
    assert "typecho_comments coid=2: trackback: skipped" in out
    assert "typecho_comments coid=3: pingback: skipped" in out
    assert Comment.objects.count() == 1


def test_without_a_views_column_reader_counts_are_zero(tmp_path):
    database = TypechoDB("sqlite", path=tmp_path / "plain.db", views=False)
    database.insert("contents", [post_row(1)])
    run(database)
    assert Post.objects.get(pk=1).reader_count == 0
    database.drop()


def test_odd_cases_are_imported_and_reported(typecho):
    typecho.insert(
        "metas",
        [
            {"mid": 1, "name": "数学", "slug": "math", "type": "category", "parent": 0},
            {"mid": 2, "name": "Math", "slug": "math", "type": "category", "parent": 0},
            {"mid": 3, "name": "孤儿", "slug": "orphan", "type": "category", "parent": 99},
        ],
    )
    typecho.insert("contents", [post_row(1, ""), post_row(2, "   ", authorId=9)])
    typecho.insert("relationships", [{"cid": 1, "mid": 1}, {"cid": 1, "mid": 2}])
    typecho.insert(
        "comments",
        [
            comment_row(1, 1, "orphan reply", parent=77),
            comment_row(2, 999, "on a deleted post"),
            comment_row(3, 1, "reply to a later comment", parent=4),
            comment_row(4, 1, "the later comment"),
            comment_row(5, 1, "bad url", url="javascript:alert(1)"),
        ],
    )
    out = run(typecho, verbosity=2)
    assert sorted(Category.objects.values_list("slug", flat=True)) == ["math", "math-2", "orphan"]
    assert Category.objects.get(slug="orphan").parent is None
    assert "typecho_metas mid=3: parent typecho:mid:99 not found: top level" in out
    assert list(Post.objects.order_by("pk").values_list("title", flat=True)) == ["无题", "无题"]
    assert "typecho_contents cid=1: empty title: “无题”" in out
    assert "typecho_contents cid=2: author not in the source: left out of the byline" in out
    assert Post.objects.get(pk=2).ordered_authors() == []
    assert "typecho_contents cid=1: in 2 categories: the first is kept" in out
    assert Post.objects.get(pk=1).category.name == "数学"
    comments = {c.source_key: c for c in Comment.objects.all()}
    assert comments["typecho:coid:1"].parent is None
    assert (
        "typecho_comments coid=1: reply to typecho:coid:77, not in the source: shown at top level"
        in out
    )
    assert "typecho:coid:2" not in comments
    assert "typecho_comments coid=2: on typecho:cid:999, not in the source: skipped" in out
    assert comments["typecho:coid:3"].parent == comments["typecho:coid:4"]
    assert comments["typecho:coid:5"].website == ""
    assert "comments: 4 created, 0 updated, 0 unchanged, 1 skipped" in out
    again = run(typecho, verbosity=2)
    assert "comments: 0 created, 0 updated, 4 unchanged, 1 skipped" in again
    # The same problems, every run.
    assert again[again.index("Problems") :] == out[out.index("Problems") :]


def test_non_utf8_legacy_text_is_decoded_and_reported(tmp_path):
    """An old GBK blog: MariaDB tables in latin1 holding GBK bytes, and the same in SQLite."""
    for engine in ("mariadb", "sqlite"):
        database = TypechoDB(engine, path=tmp_path / "gbk.db", charset="latin1")
        try:
            database.insert(
                "contents",
                [post_row(1, "科学空间".encode("gbk"), "<!--markdown-->旧文".encode("gbk"))],
            )
            database.insert("comments", [comment_row(1, 1, b"bad \xff\xfe bytes", author="reader")])
            out = run(database)
            post = Post.objects.get(pk=1)
            assert (post.title, post.body.strip()) == ("科学空间", "旧文")
            assert "typecho_contents cid=1: title is not UTF-8: read as GB18030" in out
            assert Comment.objects.get().body.startswith("bad ")
            assert "typecho_comments coid=1: text is not UTF-8" in out
        finally:
            database.drop()
            Post.objects.all().delete()


def test_an_id_taken_here_by_another_post_keeps_that_post(typecho, client):
    mine = PostFactory(pk=5, title="本站的文章")
    # cid 6 comes after the renumbered post: the new id must not take it.
    typecho.insert("contents", [post_row(5, "导入的文章"), post_row(6, "下一篇")])
    typecho.insert("comments", [comment_row(1, 5, "给导入的文章")])
    out = run(typecho)
    assert "typecho_contents cid=5: id 5 is already post “本站的文章” here" in out
    mine.refresh_from_db()
    assert mine.title == "本站的文章" and not mine.comments.exists()
    imported = Post.objects.get(source_key="typecho:cid:5")
    assert imported.pk not in (5, 6) and imported.comments.get().body == "给导入的文章"
    assert Post.objects.get(pk=6).title == "下一篇"
    # A re-run finds it by its key: nothing new.
    assert "posts: 0 created, 0 updated, 2 unchanged" in run(typecho)
    assert Post.objects.count() == 3


def test_rerunning_changes_nothing_and_edits_in_the_source_update(typecho):
    small_blog(typecho)
    first = run(typecho)
    ids = sorted(Comment.objects.values_list("pk", flat=True))
    second = run(typecho)
    assert "posts: 0 created, 0 updated, 2 unchanged" in second
    assert "comments: 0 created, 0 updated, 4 unchanged" in second
    assert "authors: 0 created, 0 updated, 1 unchanged" in second
    assert sorted(Comment.objects.values_list("pk", flat=True)) == ids
    assert first.count("\n") == second.count("\n")
    typecho.execute(
        "UPDATE typecho_contents SET title = ?, views = ? WHERE cid = 10066", ["新标题", 2000]
    )
    typecho.execute("UPDATE typecho_comments SET text = ? WHERE coid = 1", ["改过的评论"])
    typecho.insert("comments", [comment_row(5, 10066, "新评论", parent=2)])
    third = run(typecho)
    assert "posts: 0 created, 1 updated, 1 unchanged" in third
    assert "comments: 1 created, 1 updated, 3 unchanged" in third
    post = Post.objects.get(pk=10066)
    assert (post.title, post.reader_count) == ("新标题", 2000)
    new = Comment.objects.get(source_key="typecho:coid:5")
    assert new.number == 5 and new.parent.source_key == "typecho:coid:2"
    assert Comment.objects.get(source_key="typecho:coid:1").body == "改过的评论"


def test_reader_counts_never_go_down(typecho):
    typecho.insert("contents", [post_row(1, views=10)])
    run(typecho)
    Post.objects.filter(pk=1).update(reader_count=50)  # read here since the first run
    run(typecho)
    assert Post.objects.get(pk=1).reader_count == 50


def test_dry_run_writes_nothing_and_reports_exactly_what_a_run_does(typecho):
    small_blog(typecho)
    dry = run(typecho, "--dry-run", verbosity=2)
    assert not Post.objects.exists() and not Comment.objects.exists()
    assert not Category.objects.exists()
    real = run(typecho, verbosity=2)
    assert dry.startswith("Dry run (nothing written)")
    assert dry.splitlines()[1:] == real.splitlines()[1:]


def test_an_error_midway_leaves_nothing(typecho):
    """The comments table cannot be read (a column missing): the posts written before are
    rolled back and the command says nothing was imported."""
    small_blog(typecho)
    typecho.execute("ALTER TABLE typecho_comments DROP COLUMN parent")
    with pytest.raises(CommandError, match="nothing imported"):
        run(typecho)
    assert not Post.objects.exists() and not Comment.objects.exists()
    assert not Category.objects.exists() and not Tag.objects.exists()


def test_comment_tex_past_the_limits_is_held_and_reported(typecho):
    nested = "$" + "\\frac{" * 60 + "x" + "}" * 60 + "$"
    typecho.insert("contents", [post_row(1)])
    typecho.insert(
        "comments",
        [
            comment_row(1, 1, nested),
            comment_row(2, 1, "$\\def\\x{y}\\x$"),
            comment_row(3, 1, "<script>alert(1)</script> $x$"),
        ],
    )
    out = run(typecho, verbosity=2)
    comments = {c.source_key: c for c in Comment.objects.all()}
    assert comments["typecho:coid:1"].status == Comment.Status.PENDING
    assert comments["typecho:coid:2"].status == Comment.Status.PENDING
    assert "typecho_comments coid=1: held for moderation: 公式嵌套过深" in out
    assert "typecho_comments coid=2: held for moderation: 评论中不能使用 \\def" in out
    safe = comments["typecho:coid:3"]
    assert safe.status == Comment.Status.APPROVED and "<script>" not in safe.body_html
    assert "&lt;script&gt;" in safe.body_html


def test_media_dir_is_copied_and_links_rewritten(typecho, tmp_path, settings, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    uploads = tmp_path / "uploads"
    (uploads / "2024" / "05").mkdir(parents=True)
    (uploads / "2024" / "05" / "1.png").write_bytes(b"\x89PNG fake")
    typecho.insert("options", [{"name": "siteUrl", "user": 0, "value": "https://kexue.fm/"}])
    typecho.insert(
        "contents",
        [
            post_row(
                1,
                text="<!--markdown-->![a](https://kexue.fm/usr/uploads/2024/05/1.png) "
                '<img src="/usr/uploads/2024/05/1.png"> '
                "![b](http://kexue.fm/usr/uploads/2024/05/missing.png) "
                "[other](https://example.com/usr/uploads/2024/05/1.png)",
            )
        ],
    )
    out = run(typecho, "--media-dir", uploads, verbosity=2)
    body = Post.objects.get(pk=1).body
    assert body.count("/media/typecho/2024/05/1.png") == 2
    assert "http://kexue.fm/usr/uploads/2024/05/missing.png" in body
    assert "https://example.com/usr/uploads/2024/05/1.png" in body
    assert "missing.png: not in the media folder, link kept" in out
    assert (
        settings.MEDIA_ROOT / "typecho" / "2024" / "05" / "1.png"
    ).read_bytes() == b"\x89PNG fake"
    assert "media: copied 1 file(s)" in out


def test_series_detected_in_the_dry_run_and_applied_when_confirmed(typecho):
    typecho.insert(
        "contents",
        [
            post_row(1, "Transformer升级之路：1、Sinusoidal位置编码追根溯源"),
            post_row(2, "Transformer升级之路：2、博采众长的旋转式位置编码"),
            post_row(3, "“熵”不起：从熵、最大熵原理到最大熵模型（一）"),
            post_row(4, "“熵”不起：从熵、最大熵原理到最大熵模型（二）"),
            post_row(5, "“熵”不起：从熵、最大熵原理到最大熵模型（十二）"),
            post_row(6, "Transformer升级之路：2、重复的第二篇"),
            post_row(7, "孤篇：1、只有一篇"),
        ],
    )
    detect = run(typecho, "--series", "detect", "--dry-run")
    assert "Transformer升级之路 (arabic, 2 parts)" in detect
    assert "“熵”不起 (chinese, 3 parts)" in detect
    assert "12: /archives/5/" in detect
    assert "/archives/6/: part 2 of “Transformer升级之路” is also /archives/2/" in detect
    assert "孤篇" not in detect
    assert not Series.objects.exists()
    run(typecho, "--series", "apply")
    transformer = Series.objects.get(title="Transformer升级之路")
    assert transformer.numbering == "arabic"
    assert list(transformer.posts.order_by("series_part").values_list("pk", "series_part")) == [
        (1, 1),
        (2, 2),
    ]
    entropy = Series.objects.get(title="“熵”不起")
    assert entropy.numbering == "chinese"
    assert sorted(entropy.posts.values_list("series_part", flat=True)) == [1, 2, 12]
    assert Post.objects.get(pk=6).series is None
    out = run(typecho, "--series", "apply")
    assert "series: 0 created, 0 updated, 2 unchanged" in out
    assert Series.objects.count() == 2


def test_verbosity_three_lists_every_record_and_zero_prints_nothing(typecho):
    small_blog(typecho)
    assert run(typecho, "--dry-run", verbosity=0) == ""
    out = run(typecho, verbosity=3)
    assert "  created post  typecho_contents cid=10066" in out
    assert "  created comment  typecho_comments coid=4" in out


def test_existing_users_keep_their_password(typecho):
    user = UserFactory(username="sujianlin", email="old@example.com")
    user.set_password("s3cret-pass")
    user.save()
    small_blog(typecho)
    out = run(typecho)
    user.refresh_from_db()
    assert user.check_password("s3cret-pass") and user.email == "old@example.com"
    assert "authors: 0 created, 0 updated, 1 unchanged" in out
    assert Post.objects.get(pk=10066).ordered_authors() == [user]


def test_bad_urls_and_prefixes_are_clear_errors(tmp_path, db):
    with pytest.raises(CommandError, match="no such SQLite file"):
        call_command("import_typecho", f"sqlite:///{tmp_path}/none.db")
    with pytest.raises(CommandError, match="use a mysql:// or sqlite:///"):
        call_command("import_typecho", "postgres://localhost/x")
    database = TypechoDB("sqlite", path=tmp_path / "t.db")
    with pytest.raises(CommandError, match="no table wp_users"):
        call_command("import_typecho", database.url, "--prefix", "wp_")
    with pytest.raises(CommandError, match="not a directory; nothing imported"):
        call_command("import_typecho", database.url, "--media-dir", tmp_path / "none")
    database.drop()
    with pytest.raises(CommandError, match="cannot open"):
        call_command("import_typecho", "mysql://root@127.0.0.1:1/typecho")


def test_math_is_typeset_on_the_server_in_one_request_per_batch(typecho, settings, monkeypatch):
    """Node on: every post and approved comment with math is typeset in requests of 20 documents
    (not one per post), each exactly as a save would typeset it."""
    from blog import mathjax

    settings.BLOG_MATHJAX_NODE = "node"
    requests = []
    request = mathjax.WORKER.request
    monkeypatch.setattr(
        mathjax.WORKER, "request", lambda *a: requests.append(len(a[1])) or request(*a)
    )
    body = (
        "<!--markdown-->$$\\begin{equation}E=mc^2\\label{eq:e}\\end{equation}$$ 由$\\eqref{eq:e}$"
    )
    typecho.insert("contents", [post_row(cid, f"第{cid}篇", body) for cid in range(1, 13)])
    typecho.insert("comments", [comment_row(1, 1, "$x^2$"), comment_row(2, 2, "$y$")])
    run(typecho)
    assert requests == [20, 4, 2]  # 12 posts x (body, teaser), 20 documents a request; 2 comments
    alone = Post(body=body.removeprefix("<!--markdown-->"))
    alone.render()
    for post in Post.objects.all():
        assert post.math_typeset and post.body_html == alone.body_html
    assert all(c.math_typeset and "<mjx-container" in c.body_html for c in Comment.objects.all())


def test_the_content_generation_moves_once_per_import(typecho, monkeypatch):
    """Not once per row: every cached page is stale once, when the import commits."""
    from caching import generation

    moves = []
    move = generation._move
    monkeypatch.setattr(generation, "_move", lambda: moves.append(1) or move())
    small_blog(typecho)
    typecho.insert("contents", [post_row(1, "Transformer升级之路：2、下一篇")])
    run(typecho, "--series", "apply")
    assert Series.objects.count() == 1 and Tag.objects.exists()
    # Once inside the import's transaction (and once more at its commit, which the test's own
    # transaction never reaches); a signal per written row would move it for each.
    assert len(moves) == 1


def test_the_progress_bar_shows_counts_and_rate_on_stderr(typecho, capsys):
    from blog.importers import writer
    from blog.importers.typecho import open_typecho

    small_blog(typecho)
    with open_typecho(typecho.url) as source:
        writer.write(source, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "posts/s" in err
    assert "4/4" in err and "comments/s" in err


def test_a_record_given_twice_by_a_reader_is_imported_once_and_reported(db):
    """The writer's own guard (Typecho's keys are unique; another reader's may not be)."""
    from blog.importers import writer
    from blog.importers.source import Source, SourceComment, SourcePost

    moment = datetime.fromtimestamp(T0, UTC)
    twice = [
        SourcePost(
            key="x:1",
            title=title,
            body="正文",
            body_format="markdown",
            status="published",
            published_at=moment,
            where=f"line {n}",
        )
        for n, title in ((1, "第一次"), (2, "第二次"))
    ]
    comments = [
        SourceComment(
            key="x:c1",
            post_key="x:1",
            author_name="读者",
            body=body,
            created_at=moment,
            status="approved",
            where=f"line {n}",
        )
        for n, body in ((3, "评论"), (4, "又一次"))
    ]
    source = Source(name="x", location="test", authors=[], terms=[], posts=twice, comments=comments)
    report = writer.write(source)
    assert Comment.objects.get(source_key="x:c1").body == "评论"
    assert ("line 4", "x:c1 appears twice in the source: skipped") in report.problems
    assert Post.objects.get(source_key="x:1").title == "第一次"
    assert ("line 2", "x:1 appears twice in the source: skipped") in report.problems
    assert report.counts["posts"] == {"created": 1, "skipped": 1}
