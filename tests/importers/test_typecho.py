"""import_typecho against real Typecho databases (MariaDB and SQLite), written from Typecho's
install SQL: every field, the odd cases, idempotency, atomicity and the dry run."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from blog.models import Category, Comment, Post, Tag

pytestmark = pytest.mark.django_db

T0 = int(datetime(2024, 5, 13, 2, 30, tzinfo=UTC).timestamp())


def run(database, *args, verbosity=1):
    out = StringIO()
    call_command("import_typecho", database.url, *args, verbosity=verbosity, stdout=out)
    return out.getvalue()


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
                "group": "administrator",
            }
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
            {
                "cid": 10066,
                "title": "Transformer升级之路：1、Sinusoidal位置编码追根溯源",
                "slug": "10066",
                "created": T0,
                "modified": T0 + 3600,
                "text": "<!--markdown-->前言 $a^2+b^2=c^2$\n\n![图](https://kexue.fm/usr/uploads/2024/05/1.png)",
                "authorId": 1,
                "type": "post",
                "status": "publish",
                "allowComment": "1",
                "views": 1234,
            },
            {
                "cid": 10067,
                "title": "关于",
                "slug": "about",
                "created": T0,
                "modified": T0,
                "text": "<p>HTML <b>page</b></p>",
                "authorId": 1,
                "type": "page",
                "status": "publish",
                "allowComment": "0",
                "views": 5,
            },
        ],
    )
    db.insert("relationships", [{"cid": 10066, "mid": 2}, {"cid": 10066, "mid": 3}])
    db.insert(
        "comments",
        [
            {
                "coid": 1,
                "cid": 10066,
                "created": T0 + 60,
                "author": "读者",
                "authorId": 0,
                "mail": "r@example.com",
                "url": "https://r.example.com",
                "text": "好文 $x$",
                "type": "comment",
                "status": "approved",
                "parent": 0,
            },
            {
                "coid": 2,
                "cid": 10066,
                "created": T0 + 120,
                "author": "苏剑林",
                "authorId": 1,
                "mail": "su@kexue.fm",
                "url": "",
                "text": "谢谢",
                "type": "comment",
                "status": "approved",
                "parent": 1,
            },
            {
                "coid": 3,
                "cid": 10066,
                "created": T0 + 180,
                "author": "spammer",
                "authorId": 0,
                "mail": "s@spam.example",
                "url": "",
                "text": "buy",
                "type": "comment",
                "status": "spam",
                "parent": 0,
            },
        ],
    )


def test_imports_a_small_blog(typecho, client):
    small_blog(typecho)
    out = run(typecho)
    assert "posts: 2 created" in out, out
    post = Post.objects.get(pk=10066)
    assert post.title.startswith("Transformer升级之路")
    assert post.reader_count == 1234
    assert post.category.name == "机器学习" and post.category.parent.name == "信息时代"
    assert [t.name for t in post.tag_list] == ["attention"]
    assert post.ordered_authors()[0].username == "sujianlin"
    comments = list(Comment.objects.filter(post=post).order_by("number"))
    assert [(c.number, c.author_name, c.status) for c in comments] == [
        (1, "读者", "approved"),
        (2, "苏剑林", "approved"),
        (3, "spammer", "spam"),
    ]
    assert comments[1].parent == comments[0] and comments[1].is_staff_reply
    assert client.get("/archives/10066/").status_code == 200
    assert Category.objects.count() == 2 and Tag.objects.count() == 1
