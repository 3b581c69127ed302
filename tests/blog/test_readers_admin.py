"""What the author sees of reader counts in the admin: the 90-day trend and the week's most read."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog.models import Post, ReadDay
from blog.sparkline import sparkline_svg
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def svg_in(html: str) -> ET.Element:
    start = html.index('<svg class="sparkline"')
    return ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])


def points(svg: ET.Element) -> list[tuple[float, float]]:
    raw = svg.find(f"{SVG}polyline").get("points").split()
    return [tuple(map(float, point.split(","))) for point in raw]


def test_the_sparkline_scales_values_to_its_height():
    svg = ET.fromstring(sparkline_svg([0, 5, 10], label="t", width=100, height=40))
    assert svg.get("viewBox") == "0 0 100 40"
    assert points(svg) == [(0.0, 38.0), (50.0, 20.0), (100.0, 2.0)]
    assert svg.find(f"{SVG}title").text == "t"


def test_a_sparkline_of_no_reads_is_a_flat_line():
    svg = ET.fromstring(sparkline_svg([0] * 90, label="t"))
    assert {y for _, y in points(svg)} == {38.0}


def test_the_label_is_escaped():
    svg = sparkline_svg([1], label='<script>alert("x")</script>')
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_the_post_page_in_the_admin_shows_90_days_of_reads(staff_client):
    post = PostFactory(reader_count=500)
    today = timezone.localdate()
    ReadDay.objects.add(post.pk, today, 30)
    ReadDay.objects.add(post.pk, today - timedelta(days=10), 12)
    ReadDay.objects.add(post.pk, today - timedelta(days=95), 999)  # older than 90 days
    html = staff_client.get(reverse("admin:blog_post_change", args=[post.pk])).content.decode()
    line = points(svg_in(html))
    assert len(line) == 90
    assert line[-1][1] == 2.0  # today is the peak: the top of the chart
    assert line[-11][1] == pytest.approx(38 - 12 / 30 * 36, abs=0.05)
    assert "最近90天共42次阅读" in html
    assert "style=" not in html[html.index('<svg class="sparkline"') :].split("</svg>")[0]


def test_the_trend_costs_one_query_however_many_days_have_reads(staff_client):
    post = PostFactory()
    url = reverse("admin:blog_post_change", args=[post.pk])
    staff_client.get(url)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    for n in range(60):
        ReadDay.objects.add(post.pk, timezone.localdate() - timedelta(days=n), n + 1)
    with CaptureQueriesContext(connection) as many:
        staff_client.get(url)
    assert len(many) == len(few)
    assert sum("blog_readday" in q["sql"] for q in many.captured_queries) == 1


def test_most_read_this_week_ranks_posts_by_their_last_seven_days(staff_client):
    today = timezone.localdate()
    steady = PostFactory(title="老文章", reader_count=90000)
    hot = PostFactory(title="新文章", reader_count=300)
    quiet = PostFactory(title="没人读", reader_count=5)
    ReadDay.objects.add(steady.pk, today - timedelta(days=6), 40)
    ReadDay.objects.add(steady.pk, today - timedelta(days=7), 5000)  # eight days ago: not this week
    ReadDay.objects.add(hot.pk, today, 200)
    ReadDay.objects.add(hot.pk, today - timedelta(days=1), 100)
    response = staff_client.get(reverse("admin:blog_post_most_read"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("新文章") < html.index("老文章")
    assert "<td>300</td>" in html and "<td>40</td>" in html
    assert quiet.title not in html
    changelist = staff_client.get(reverse("admin:blog_post_changelist")).content.decode()
    assert reverse("admin:blog_post_most_read") in changelist


def test_most_read_this_week_takes_a_constant_number_of_queries(staff_client):
    url = reverse("admin:blog_post_most_read")
    ReadDay.objects.add(PostFactory().pk, timezone.localdate(), 1)
    staff_client.get(url)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    for n in range(20):
        ReadDay.objects.add(PostFactory().pk, timezone.localdate(), n + 1)
    with CaptureQueriesContext(connection) as many:
        staff_client.get(url)
    assert len(many) == len(few)


def test_most_read_this_week_is_for_staff_only(client):
    response = client.get(reverse("admin:blog_post_most_read"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_saving_the_admin_form_does_not_overwrite_a_read_that_lands_meanwhile(staff_client):
    post = PostFactory(reader_count=10, title="原标题")
    authorship = post.authorship_set.get()

    def a_read_lands(sender, instance, **kwargs):
        # Between the admin loading the post and writing it back, a reader is counted.
        if sender is Post and instance.pk == post.pk:
            Post.objects.filter(pk=post.pk).update(reader_count=F("reader_count") + 1)

    form = {
        "title": "新标题",
        "body": post.body,
        "status": "published",
        "published_at_0": "2024-05-13",
        "published_at_1": "10:00:00",
        "comments_open": "on",
        "authorship_set-TOTAL_FORMS": "1",
        "authorship_set-INITIAL_FORMS": "1",
        "authorship_set-MIN_NUM_FORMS": "1",
        "authorship_set-MAX_NUM_FORMS": "1000",
        "authorship_set-0-id": str(authorship.pk),
        "authorship_set-0-post": str(post.pk),
        "authorship_set-0-author": str(authorship.author_id),
        "authorship_set-0-order": "0",
        "notes-TOTAL_FORMS": "0",
        "notes-INITIAL_FORMS": "0",
    }
    pre_save.connect(a_read_lands)
    try:
        response = staff_client.post(reverse("admin:blog_post_change", args=[post.pk]), form)
    finally:
        pre_save.disconnect(a_read_lands)
    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.title, post.reader_count) == ("新标题", 11)
