"""import_posts: Markdown with front matter in, idempotent updates, clear errors for bad files."""

from io import StringIO
from textwrap import dedent

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from blog.models import Category, Post, Series, Tag
from tests.factories import PostFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

MLA = """\
    ---
    title: 缓存与效果的极限拉扯：从MHA、MQA、GQA到MLA
    date: 2024-05-13 10:30
    tags: [attention, 低秩]
    category: 信息时代
    series: Transformer升级之路
    part: 3
    ---
    前几天，幻方发布了 $\\text{DeepSeek-V2}$。

    $$\\begin{equation}a^2+b^2=c^2\\end{equation}$$
    """


def write(directory, name, text):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")
    return path


def run(*args, verbosity=1):
    out, err = StringIO(), StringIO()
    call_command("import_posts", *map(str, args), verbosity=verbosity, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def author(db):
    return StaffFactory(username="sujianlin", display_name="苏剑林")


def test_imports_title_date_tags_category_series_and_part(tmp_path, author):
    write(tmp_path, "2024/mla.md", MLA)
    out, _ = run(tmp_path)
    assert "1 created" in out
    post = Post.objects.get()
    assert post.title == "缓存与效果的极限拉扯：从MHA、MQA、GQA到MLA"
    assert timezone.localtime(post.published_at).isoformat() == "2024-05-13T10:30:00+08:00"
    assert sorted(post.tags.values_list("name", flat=True)) == ["attention", "低秩"]
    assert post.category.name == "信息时代" and post.category.slug == "信息时代"
    assert (post.series.title, post.series_part) == ("Transformer升级之路", 3)
    assert post.ordered_authors() == [author]
    assert post.status == Post.Status.PUBLISHED and post.is_public
    assert "\\begin{equation}a^2+b^2=c^2\\end{equation}" in post.body_html
    assert post.source_key == "2024/mla.md"


def test_rerunning_updates_instead_of_duplicating(tmp_path, author):
    path = write(tmp_path, "mla.md", MLA)
    run(tmp_path)
    out, _ = run(tmp_path)
    assert "1 unchanged" in out
    path.write_text(
        path.read_text(encoding="utf-8").replace("part: 3", "part: 4").replace("前几天", "后来"),
        encoding="utf-8",
    )
    out, _ = run(tmp_path)
    assert "1 updated" in out
    post = Post.objects.get()
    assert post.series_part == 4 and "后来" in post.body
    assert (Series.objects.count(), Category.objects.count(), Tag.objects.count()) == (1, 1, 2)


def test_an_explicit_id_keeps_the_old_permalink_and_new_posts_get_fresh_ids(tmp_path, author):
    write(tmp_path, "a.md", MLA.replace("part: 3", "part: 3\n    id: 10091"))
    run(tmp_path)
    assert Post.objects.get().pk == 10091
    run(tmp_path)  # by id again
    assert Post.objects.count() == 1
    assert PostFactory().pk != 10091  # PostgreSQL's sequence moved past the imported id


def test_an_id_updates_an_existing_post_with_that_permalink(tmp_path, author):
    existing = PostFactory(title="旧标题")
    write(tmp_path, "a.md", f"---\ntitle: 新标题\ndate: 2020-01-02\nid: {existing.pk}\n---\n正文\n")
    out, _ = run(tmp_path)
    assert "1 updated" in out
    existing.refresh_from_db()
    assert existing.title == "新标题" and Post.objects.count() == 1


def test_dry_run_reports_and_writes_nothing(tmp_path, author):
    write(tmp_path, "mla.md", MLA)
    out, _ = run(tmp_path, "--dry-run")
    assert "Would import 1 of 1 file(s): 1 created" in out
    assert not Post.objects.exists() and not Series.objects.exists() and not Tag.objects.exists()


def test_verbosity_two_lists_each_file_and_zero_prints_nothing(tmp_path, author):
    write(tmp_path, "mla.md", MLA)
    out, _ = run(tmp_path, verbosity=2)
    assert f"created  {tmp_path / 'mla.md'} -> /archives/" in out
    out, _ = run(tmp_path, verbosity=0)
    assert out == ""


def test_authors_from_front_matter_in_order_and_draft_status(tmp_path, author):
    UserFactory(username="a"), UserFactory(username="b")
    write(
        tmp_path,
        "x.md",
        "---\ntitle: 合写\ndate: 2021-03-04\nauthors: [b, a]\nstatus: draft\n---\n正文\n",
    )
    run(tmp_path)
    post = Post.objects.get()
    assert [user.username for user in post.ordered_authors()] == ["b", "a"]
    assert post.status == Post.Status.DRAFT


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("no front matter\n", 1, "no front matter"),
        ("---\ntitle: [unclosed\ndate: 2024-01-01\n---\nx\n", 3, "not valid YAML"),
        ("---\ndate: 2024-01-01\n---\nx\n", 1, "title: required"),
        ("---\ntitle: t\n---\nx\n", 1, "date: required"),
        ("---\ntitle: t\ndate: 2024-02-30\n---\nx\n", 3, "date: not a date"),
        ("---\ntitle: t\ndate: 2024-01-01\npart: 2\n---\nx\n", 4, "series and part go together"),
        ("---\ntitle: t\ndate: 2024-01-01\nseries: S\npart: zero\n---\nx\n", 5, "part: must be"),
        ("---\ntitle: t\ndate: 2024-01-01\ntags: {a: 1}\n---\nx\n", 4, "tags: must be"),
        ("---\ntitle: t\ndate: 2024-01-01\nid: -3\n---\nx\n", 4, "id: must be"),
        ("---\ntitle: t\ndate: 2024-01-01\nstatus: maybe\n---\nx\n", 4, "status: must be"),
        ("---\ntitle: t\ndate: 2024-01-01\ntitel: typo\n---\nx\n", 4, "titel: unknown key"),
        ("---\ntitle: t\ndate: 2024-01-01\nauthor: nobody\n---\nx\n", 1, "no user named nobody"),
    ],
)
def test_malformed_files_are_reported_with_file_and_line_and_nothing_is_written(
    tmp_path, author, text, line, message
):
    write(tmp_path, "good.md", MLA)
    bad = tmp_path / "bad.md"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        run(tmp_path)
    assert f"{bad}:{line}: " in str(excinfo.value)
    assert message in str(excinfo.value)
    assert not Post.objects.exists()


def test_skip_invalid_imports_the_good_files_and_reports_the_bad(tmp_path, author):
    write(tmp_path, "good.md", MLA)
    (tmp_path / "bad.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    (tmp_path / "latin1.md").write_bytes("---\ntitle: caf\xe9\n".encode("latin-1"))
    out, err = run(tmp_path, "--skip-invalid")
    assert "Imported 1 of 3 file(s): 1 created, 0 updated, 0 unchanged, 2 skipped." in out
    assert f"skipped {tmp_path / 'bad.md'}:3: front matter is not valid YAML" in err
    assert f"skipped {tmp_path / 'latin1.md'}:2: not UTF-8" in err
    assert Post.objects.count() == 1


def test_two_files_claiming_one_series_part_or_one_id_are_errors(tmp_path, author):
    write(tmp_path, "a.md", MLA)
    write(tmp_path, "b.md", MLA.replace("缓存", "另一篇"))
    with pytest.raises(CommandError, match="part 3 of series Transformer升级之路 is already post"):
        run(tmp_path)
    assert not Post.objects.exists()
    write(tmp_path, "b.md", "---\ntitle: x\ndate: 2024-01-01\nid: 7\n---\n")
    write(tmp_path, "c.md", "---\ntitle: y\ndate: 2024-01-01\nid: 7\n---\n")
    with pytest.raises(CommandError, match="id 7 also in"):
        run(tmp_path)


def test_missing_paths_and_authors_are_command_errors(tmp_path, db):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope")
    write(tmp_path, "a.md", MLA)
    with pytest.raises(CommandError, match="pass --author"):
        run(tmp_path)
    with pytest.raises(CommandError, match="no such user"):
        run(tmp_path, "--author", "ghost")
