"""The queries behind the list, series, thread and archive pages are served by indexes.

The database's own planner is asked (``QuerySet.explain()``): on PostgreSQL with sequential scans
and bitmap scans disabled (``enable_seqscan = off`` makes the planner take an index whenever one can serve the
query, so a missing index shows as a sequential scan even on a small table); on SQLite with
``EXPLAIN QUERY PLAN``, where a full scan shows as a bare ``SCAN <table>``.
"""

import re

import pytest
from django.db import connection

from blog.models import Post
from tests.factories import CommentFactory, PostFactory, SeriesFactory

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def plan():
    if POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # undone with the test's transaction
            # On a table of ten rows a bitmap scan and a sort of its two or three matches can
            # cost less than walking the index in order; the question here is whether an ordered
            # index serves the query at all.
            cursor.execute("SET LOCAL enable_bitmapscan = off")

    def explain(queryset) -> str:
        return queryset.explain()

    return explain


@pytest.fixture
def blog():
    series = SeriesFactory()
    posts = [PostFactory(series=series, series_part=n) for n in range(1, 6)]
    posts += PostFactory.create_batch(5)
    for post in posts[:3]:
        CommentFactory.create_batch(2, post=post)
    return {"series": series, "post": posts[0]}


def scans_table_without_index(text: str, table: str) -> bool:
    if POSTGRES:
        return f"Seq Scan on {table}" in text
    return re.search(rf"\bSCAN {table}\b(?! USING)", text) is not None


def test_list_pages_read_their_rows_from_the_public_list_index_in_order(plan, blog):
    text = plan(Post.objects.published().for_list().newest_first()[:10])
    assert "post_public_list" in text
    assert not scans_table_without_index(text, "blog_post")
    # The index has the list's exact order (published_at, then id): no sort of all public posts.
    if POSTGRES:
        assert not re.search(r"\bSort\b", text.split("SubPlan")[0]), text
    else:
        assert "TEMP B-TREE FOR" not in text, text


def test_the_archive_query_uses_the_public_list_index(plan, blog):
    archive = (
        Post.objects.published()
        .newest_first()
        .only("id", "title", "published_at")
        .with_comment_counts()
    )
    text = plan(archive)
    assert "post_public_list" in text
    assert not scans_table_without_index(text, "blog_post")
    assert not scans_table_without_index(text, "blog_comment")  # the comment counts


def test_the_series_page_query_uses_an_index_on_the_series(plan, blog):
    text = plan(
        Post.objects.published().filter(series=blog["series"]).for_list().order_by("series_part")
    )
    assert not scans_table_without_index(text, "blog_post"), text
    if POSTGRES:
        # On a small table the planner may as well walk the public-list index and filter on the
        # series; either index serves the page, a sequential scan would not.
        assert re.search(r"unique_part_per_series|blog_post_series_id|post_public_list", text), text
    else:  # the unique (series, part) constraint's index is SQLite's autoindex
        assert re.search(r"SEARCH blog_post USING (COVERING )?INDEX \S+ \(series_id=\?", text), text


def test_the_comment_thread_query_uses_an_index_on_the_post(plan, blog):
    text = plan(blog["post"].comments.approved().order_by("number"))
    assert not scans_table_without_index(text, "blog_comment"), text
    assert re.search(r"comment_thread|blog_comment_post_id", text), text
    if not POSTGRES:
        assert "TEMP B-TREE FOR ORDER BY" not in text  # comment_thread ends with the number
