"""backup_blog / restore_blog round trip, and export_markdown."""

import io
import json
import tarfile
import zipfile
from datetime import timedelta

import pytest
import yaml
from django.contrib.auth.models import Group, Permission
from django.core import serializers
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone
from PIL import Image

from accounts.models import User
from blog.backup import backup_models
from blog.models import Authorship, Category, Post, Series, Tag
from tests.factories import (
    CategoryFactory,
    PostFactory,
    SeriesFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload_png(staff_client) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, "PNG")
    buffer.name = "figure.png"
    buffer.seek(0)
    response = staff_client.post("/editor/upload/", {"image": buffer})
    assert response.status_code == 200, response.content
    return response.json()["image_code"][4:-1]  # "![](/media/uploads/<hex>.png)" -> URL


@pytest.fixture
def blog(staff_client, media_root):
    """A small but complete site: every model, several authors, drafts, counts, an image."""
    editors = Group.objects.create(name="editors")
    editors.permissions.add(Permission.objects.get(codename="change_post"))
    su = UserFactory(username="sujianlin", display_name="苏剑林", latin_name="Su, Jianlin")
    guest = UserFactory(username="guest", display_name="客座作者", homepage="https://example.org")
    guest.groups.add(editors)
    series = SeriesFactory(title="Transformer升级之路", slug="transformer", numbering="chinese")
    category = CategoryFactory(name="信息时代", slug="信息时代")
    tags = [TagFactory(name="attention"), TagFactory(name="位置编码")]
    image_url = upload_png(staff_client)
    posts = [
        PostFactory(
            title=f"第{n}篇",
            authors=[su, guest] if n == 2 else [su],
            series=series,
            series_part=n,
            category=category,
            tags=tags[: n % 3],
            reader_count=1000 * n + 7,
            body=f"正文 $x^{n}$\n\n![图]({image_url})\n\n<!--more-->\n\n后文\n",
        )
        for n in (1, 2, 3)
    ]
    PostFactory(title="草稿", status=Post.Status.DRAFT, authors=[su], reader_count=0)
    PostFactory(title="定时", published_at=timezone.now() + timedelta(days=3), authors=[guest])
    return {"posts": posts, "image_url": image_url}


def snapshot() -> dict[str, list[dict]]:
    """Every backed-up row, field by field (ids included), foreign keys as natural keys."""
    return {
        model._meta.label: serializers.serialize(
            "python", model._base_manager.order_by("pk"), use_natural_foreign_keys=True
        )
        for model in backup_models()
    }


def empty_the_database():
    """As a fresh `migrate` leaves it: no rows, id sequences back at the start."""
    for model in reversed(backup_models()):
        model._base_manager.all().delete()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), backup_models()):
            cursor.execute(sql)


def test_backup_then_restore_into_an_empty_database_keeps_everything(
    blog, media_root, tmp_path, capsys
):
    before = snapshot()
    image_path = media_root / blog["image_url"].removeprefix("/media/")
    image_bytes = image_path.read_bytes()
    archive = tmp_path / "site.tar.gz"

    call_command("backup_blog", str(archive))
    assert "Wrote" in capsys.readouterr().out
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert {"manifest.json", "data.json"} <= set(names)
    assert f"media/{image_path.relative_to(media_root).as_posix()}" in names

    empty_the_database()
    image_path.unlink()
    assert Post.objects.count() == 0 and User.objects.count() == 0

    call_command("restore_blog", str(archive))
    assert "Restored" in capsys.readouterr().out
    after = snapshot()
    assert after == before
    assert image_path.read_bytes() == image_bytes

    # Spot checks in the readers' terms.
    post = Post.objects.get(title="第2篇")
    assert [a.username for a in post.ordered_authors()] == ["sujianlin", "guest"]
    assert post.reader_count == 2007 and post.series.title == "Transformer升级之路"
    assert post.series_part == 2 and post.category.slug == "信息时代"
    assert sorted(post.tags.values_list("name", flat=True)) == ["attention", "位置编码"]
    assert blog["image_url"] in post.body_html
    assert User.objects.get(username="guest").groups.get().permissions.get().codename == (
        "change_post"
    )
    assert User.objects.get(username="editor").check_password("correct horse battery staple")
    assert Post.objects.published().count() == 3

    # New rows get fresh ids: the sequences were moved past the restored ones.
    newest = max(p.pk for p in blog["posts"] + list(Post.objects.all()))
    fresh = PostFactory(title="恢复后的新文章", authors=[User.objects.get(username="sujianlin")])
    assert fresh.pk > newest
    assert Tag.objects.create(name="new", slug="new").pk > max(before["blog.Tag"][-1]["pk"], 0)


def test_restore_refuses_a_database_that_already_has_content(blog, tmp_path):
    archive = tmp_path / "site.tar.gz"
    call_command("backup_blog", str(archive), verbosity=0)
    with pytest.raises(CommandError, match=r"not empty \(.*5 blog\.Post.*--flush"):
        call_command("restore_blog", str(archive))


def test_restore_with_flush_replaces_existing_content(blog, tmp_path):
    before = snapshot()
    archive = tmp_path / "site.tar.gz"
    call_command("backup_blog", str(archive), verbosity=0)
    Post.objects.filter(title="第1篇").update(title="改过的标题", reader_count=1)
    PostFactory(title="备份之后的文章")
    Category.objects.create(name="新分类", slug="new")
    call_command("restore_blog", str(archive), "--flush", verbosity=0)
    assert snapshot() == before


def test_restore_dry_run_checks_the_archive_and_changes_nothing(blog, media_root, tmp_path):
    archive = tmp_path / "site.tar.gz"
    call_command("backup_blog", str(archive), verbosity=0)
    empty_the_database()
    for path in media_root.rglob("*.png"):
        path.unlink()
    out = io.StringIO()
    call_command("restore_blog", str(archive), "--dry-run", stdout=out)
    assert "Would restore" in out.getvalue()
    assert Post.objects.count() == 0 and Series.objects.count() == 0
    assert list(media_root.rglob("*.png")) == []


def test_backup_dry_run_writes_nothing_and_reports_counts(blog, tmp_path):
    out = io.StringIO()
    call_command("backup_blog", str(tmp_path / "x.tar.gz"), "--dry-run", verbosity=2, stdout=out)
    assert "Would back up" in out.getvalue() and "blog.Post: 5" in out.getvalue()
    assert not (tmp_path / "x.tar.gz").exists()


def test_restore_refuses_an_archive_with_a_path_outside_media(db, tmp_path, media_root):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in {
            "manifest.json": json.dumps({"format": 1, "counts": {}}).encode(),
            "data.json": b"[]",
            "media/../../escape.txt": b"x",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    with pytest.raises(CommandError, match="unexpected archive member"):
        call_command("restore_blog", str(archive))
    assert not (tmp_path / "escape.txt").exists()


def test_restore_refuses_a_file_that_is_not_a_backup(db, tmp_path):
    bogus = tmp_path / "notes.tar.gz"
    bogus.write_text("hello")
    with pytest.raises(CommandError, match="not a readable"):
        call_command("restore_blog", str(bogus))


def read_front_matter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body.removeprefix("\n")


def test_export_markdown_writes_one_file_per_post_with_front_matter(blog, tmp_path):
    post = blog["posts"][1]
    Post.objects.filter(pk=post.pk).update(title='引号 "quoted": 冒号 # 井号')
    call_command("export_markdown", str(tmp_path / "out"), verbosity=0)
    files = sorted((tmp_path / "out").glob("*.md"))
    assert len(files) == Post.objects.count() == 5
    meta, body = read_front_matter((tmp_path / "out" / f"{post.pk}.md").read_text())
    post.refresh_from_db()
    assert meta["id"] == post.pk
    assert meta["title"] == '引号 "quoted": 冒号 # 井号'
    assert meta["date"] == timezone.localtime(post.published_at).replace(microsecond=0) or (
        meta["date"] == post.published_at
    )
    assert sorted(meta["tags"]) == sorted(post.tags.values_list("name", flat=True))
    assert meta["category"] == "信息时代"
    assert meta["series"] == "Transformer升级之路" and meta["part"] == 2
    assert meta["authors"] == ["sujianlin", "guest"] and meta["status"] == "published"
    assert body == post.body

    draft = Post.objects.get(title="草稿")
    meta, _ = read_front_matter((tmp_path / "out" / f"{draft.pk}.md").read_text())
    assert meta["status"] == "draft" and meta["series"] is None and meta["part"] is None
    assert meta["category"] is None and meta["tags"] == []


def test_export_markdown_into_a_zip(blog, tmp_path):
    call_command("export_markdown", str(tmp_path / "posts.zip"), verbosity=0)
    with zipfile.ZipFile(tmp_path / "posts.zip") as archive:
        names = archive.namelist()
        assert len(names) == 5
        meta, _ = read_front_matter(archive.read(names[0]).decode())
    assert set(meta) >= {"id", "title", "date", "tags", "category", "series", "part"}


def test_export_markdown_query_count_does_not_grow_with_posts(blog, tmp_path):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        call_command("export_markdown", str(tmp_path / "a"), verbosity=0)
    for _ in range(5):
        PostFactory(tags=[TagFactory()], category=CategoryFactory())
    with CaptureQueriesContext(connection) as large:
        call_command("export_markdown", str(tmp_path / "b"), verbosity=0)
    assert len(large) == len(small)


def test_authorship_rows_are_backed_up(blog):
    assert Authorship in backup_models() and Group in backup_models()
