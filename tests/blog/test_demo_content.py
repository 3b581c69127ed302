"""The demo blog built from the kexue.fm seed pages loads completely and idempotently."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from blog.models import Post, Series

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "demo_content.json"


@pytest.fixture
def demo():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_loads_every_post_with_its_seed_facts(demo):
    call_command("load_demo_content", verbosity=0)
    assert Post.objects.published().count() == len(demo["posts"])
    mla = Post.objects.get(pk=10091)
    assert mla.title == "缓存与效果的极限拉扯:从MHA、MQA、GQA到MLA"
    assert mla.reader_count == 84758
    assert f"{mla.published_at:%Y-%m-%d}" == "2024-05-13"
    assert mla.ordered_authors()[0].display_name == "苏剑林"
    assert mla.has_math


@pytest.mark.parametrize(
    "title", ["Transformer升级之路", "低秩近似之路", "重温SSM", "最小熵原理", "生成扩散模型漫谈"]
)
def test_named_series_exist_with_numbered_parts(title):
    call_command("load_demo_content", verbosity=0)
    series = Series.objects.get(title=title)
    parts = list(series.posts.values_list("series_part", flat=True))
    assert parts and all(parts)


def test_loading_twice_changes_nothing_and_keeps_higher_live_counts(demo):
    call_command("load_demo_content", verbosity=0)
    Post.objects.filter(pk=10091).update(reader_count=90000)
    call_command("load_demo_content", verbosity=0)
    assert Post.objects.count() == len(demo["posts"])
    assert Series.objects.count() == len(demo["series"])
    assert Post.objects.get(pk=10091).reader_count == 90000


def test_dry_run_changes_nothing(capsys):
    call_command("load_demo_content", dry_run=True)
    assert Post.objects.count() == 0
    assert "Would load" in capsys.readouterr().out


def test_new_posts_after_demo_get_fresh_ids():
    from tests.factories import PostFactory

    call_command("load_demo_content", verbosity=0)
    assert PostFactory().pk not in set(
        Post.objects.exclude(title__startswith="测试").values_list("pk", flat=True)
    )


def test_every_demo_post_ends_with_a_marked_excerpt_note_linking_its_original(demo, client):
    call_command("load_demo_content", verbosity=0)
    for item in demo["posts"]:
        source = f"https://kexue.fm/archives/{item['id']}"
        assert item["source"] == source
        post = Post.objects.get(pk=item["id"])
        assert post.title == item["title"]  # seed titles as they are (half-width punctuation)
        last = post.body_html.rstrip().rsplit("<blockquote>", 1)[1]
        assert "【摘录】" in last and f'<a href="{source}">{source}</a>' in last
        assert post.body_html.rstrip().endswith("</blockquote>")
    html = client.get("/archives/10091/").content.decode()
    assert "那么MHA可以形式地记为" in html and "【摘录】" in html
