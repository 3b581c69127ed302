"""The 热门文章 sidebar widget, and demo reader counts kept as starting totals."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Post, ReadDay
from blog.sidebar import popular_posts
from tests.blog.test_readers import beacon, stored, token
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def widget(html: str) -> str:
    start = html.index('<section class="widget widget-popular">')
    return html[start : html.index("</section>", start)]


def test_popular_posts_rank_all_time_by_count_and_recent_by_daily_tallies():
    today = timezone.localdate()
    classic = PostFactory(title="经典", reader_count=90000)
    trending = PostFactory(title="新热", reader_count=800)
    middle = PostFactory(title="中间", reader_count=5000)
    PostFactory(title="无人读", reader_count=0)
    PostFactory(title="草稿", reader_count=10**6, status=Post.Status.DRAFT)
    PostFactory(title="定时", reader_count=10**6, published_at=timezone.now() + timedelta(days=1))
    ReadDay.objects.add(trending.pk, today, 700)
    ReadDay.objects.add(middle.pk, today - timedelta(days=29), 50)  # the 30th day back: counted
    ReadDay.objects.add(classic.pk, today - timedelta(days=30), 9000)  # 31 days back: not
    with CaptureQueriesContext(connection) as queries:
        popular = popular_posts(limit=8, days=30)
    assert len(queries) == 1
    assert [p.title for p in popular["all_time"]] == ["经典", "中间", "新热"]
    assert [(p.title, p.recent_reads) for p in popular["recent"]] == [("新热", 700), ("中间", 50)]


def test_popular_posts_keep_the_top_n_of_each_list():
    today = timezone.localdate()
    posts = [PostFactory(reader_count=100 * n) for n in range(1, 6)]
    for n, post in enumerate(posts):
        ReadDay.objects.add(post.pk, today, 10 - n)  # the least read overall are read most lately
    popular = popular_posts(limit=2)
    assert popular["all_time"] == [posts[4], posts[3]]
    assert popular["recent"] == [posts[0], posts[1]]


def test_the_sidebar_shows_the_widget_and_computes_it_once(client):
    post = PostFactory(title="苏剑林的热门文章", reader_count=84758)
    ReadDay.objects.add(post.pk, timezone.localdate(), 12)
    with CaptureQueriesContext(connection) as first:
        html = client.get("/").content.decode()
    section = widget(html)
    assert "热门文章" in section and "总排行" in section and "最近30天" in section
    assert "苏剑林的热门文章" in section
    assert "(84758位读者)" in section and "(12次阅读)" in section
    assert sum("ROW_NUMBER" in q["sql"] for q in first.captured_queries) == 1
    with CaptureQueriesContext(connection) as second:
        client.get(post.get_absolute_url())
    assert not any("ROW_NUMBER" in q["sql"] for q in second.captured_queries)  # cached


def test_the_widget_is_hidden_while_nothing_has_been_read(client):
    PostFactory(reader_count=0)
    assert "widget-popular" not in client.get("/").content.decode()


def test_demo_reader_counts_are_the_starting_totals(client, tmp_path):
    seed = {
        "authors": [{"username": "sujianlin", "display_name": "苏剑林"}],
        "categories": [],
        "tags": [],
        "series": [],
        "posts": [
            {
                "id": 10520,
                "title": "缓存与效果的极限拉扯：从MHA、MQA、GQA到MLA",
                "body": "正文。\n",
                "published_at": "2024-05-13T10:00:00+08:00",
                "authors": ["sujianlin"],
                "reader_count": 84758,
            }
        ],
    }
    file = tmp_path / "demo.json"
    file.write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
    call_command("load_demo_content", "--file", str(file), verbosity=0)
    post = Post.objects.get(pk=10520)
    assert post.reader_count == 84758
    assert beacon(client, post, cookie=token(1)).json()["label"] == "84759位读者"
    # Loading the demo again keeps the reads counted since.
    call_command("load_demo_content", "--file", str(file), verbosity=0)
    assert stored(post) == 84759
    # A higher demo figure raises the total.
    seed["posts"][0]["reader_count"] = 90000
    file.write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
    call_command("load_demo_content", "--file", str(file), verbosity=0)
    assert stored(post) == 90000
