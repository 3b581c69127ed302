"""Archives: year › month navigation, month pages with neighbours, and the month-range filter."""

import pytest
from django.utils import timezone

from blog.archives import MonthRange
from tests.factories import CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def at(year, month, day=15):
    return timezone.make_aware(timezone.datetime(year, month, day, 12))


def main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


@pytest.fixture
def dated_posts():
    category, tag = CategoryFactory(slug="math"), TagFactory(slug="rope")
    return {
        key: PostFactory(title=key, published_at=at(*ym), category=category, tags=[tag])
        for key, ym in {
            "p2023-11": (2023, 11),
            "p2024-01": (2024, 1),
            "p2024-05": (2024, 5),
            "p2024-12": (2024, 12),
        }.items()
    }


def test_archive_page_groups_by_year_and_month_with_a_month_picker(client, dated_posts):
    html = main(client.get("/archives/"))
    assert html.index("2024") < html.index("2023")
    assert 'href="#y2024"' in html and 'id="y2024"' in html
    assert 'href="/archives/2024/05/"' in html and 'href="/archives/2023/11/"' in html
    assert 'href="/archives/2024/02/"' not in html  # only months that have posts


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"from": "2024-01"}, {"p2024-01", "p2024-05", "p2024-12"}),
        ({"to": "2024-01"}, {"p2023-11", "p2024-01"}),
        ({"from": "2024-02", "to": "2024-05"}, {"p2024-05"}),
        ({"from": "2024-5", "to": "2024-05"}, {"p2024-05"}),
        ({}, {"p2023-11", "p2024-01", "p2024-05", "p2024-12"}),
    ],
)
@pytest.mark.parametrize("url", ["/archives/", "/category/math/", "/tag/rope/"])
def test_month_range_filters_lists(client, dated_posts, url, params, expected):
    html = main(client.get(url, params))
    assert {key for key in dated_posts if key in html} == expected


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2024-13"},
        {"from": "yesterday"},
        {"to": "0000-01"},
        {"from": "2024-06", "to": "2024-01"},
        {"from": "9" * 500},
    ],
)
def test_bad_month_ranges_show_a_message_and_the_unfiltered_list(client, dated_posts, params):
    response = client.get("/archives/", params)
    assert response.status_code == 200
    html = main(response)
    assert 'class="message message-error"' in html
    assert all(key in html for key in dated_posts)


def test_month_range_ends_at_the_end_of_the_last_month_in_site_time():
    months = MonthRange.from_query({"from": "2024-12", "to": "2024-12"})
    assert timezone.localtime(months.start).isoformat() == "2024-12-01T00:00:00+08:00"
    assert timezone.localtime(months.end).isoformat() == "2025-01-01T00:00:00+08:00"


def test_paginated_filtered_lists_keep_the_filter_in_page_links(client, settings, dated_posts):
    settings.BLOG_POSTS_PER_PAGE = 1
    html = main(client.get("/tag/rope/", {"from": "2024-01"}))
    assert "?from=2024-01&amp;page=2" in html


def test_month_page_links_to_the_nearest_months_with_posts(client, dated_posts):
    html = main(client.get("/archives/2024/05/"))
    assert 'href="/archives/2024/01/"' in html and 'href="/archives/2024/12/"' in html
    first = main(client.get("/archives/2023/11/"))
    assert "month-nav-earlier" not in first and 'href="/archives/2024/01/"' in first


@pytest.mark.parametrize("url", ["/archives/0/01/", "/archives/99999/01/", "/archives/2024/00/"])
def test_impossible_months_are_404(client, url):
    assert client.get(url).status_code == 404


def test_archive_comment_count_hook_shows_counts_when_annotated(client, dated_posts):
    """The Comment model lives on another branch; the template shows ``post.comment_count``."""
    from django.template.loader import render_to_string

    post = dated_posts["p2024-05"]
    post.comment_count = 3
    html = render_to_string(
        "blog/archive_index.html",
        {"years": {2024: {5: [post]}}, "total": 1, "months": MonthRange()},
    )
    assert "3" in html.split("p2024-05")[1].split("</li>")[0]
