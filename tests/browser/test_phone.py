"""A reader on a phone (390 px wide) and on a desktop (1280 px): the series box stays short, the
byline wraps without a stray "|", page headers are one box, series dates carry their year."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import CommentFactory, PostFactory, SeriesFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def series_posts(transactional_db):
    series = SeriesFactory(title="Transformer升级之路", description="从位置编码到长度外推。")
    return [
        PostFactory(
            title=f"Transformer升级之路:{n}、一个相当长的标题用来测试换行",
            series=series,
            series_part=n,
            body="正文第一段。\n\n正文第二段。",
            published_at=datetime(2021 + n // 6, 1 + n % 12, 1, 10, tzinfo=SHANGHAI),
        )
        for n in range(1, 19)
    ]


@pytest.mark.parametrize("width", [390, 1280])
def test_series_box_is_short_with_previous_next_and_a_folded_list(
    live_server, page, series_posts, width
):
    page.set_viewport_size({"width": width, "height": 844})
    post = series_posts[9]
    page.goto(live_server.url + post.get_absolute_url())
    box = page.locator(".series-box")
    assert "第 10 篇，共 18 篇" in box.inner_text()
    assert (
        box.locator(".series-box-prev").get_attribute("href") == series_posts[8].get_absolute_url()
    )
    assert (
        box.locator(".series-box-next").get_attribute("href") == series_posts[10].get_absolute_url()
    )
    assert not box.locator(".series-parts").is_visible()
    assert box.bounding_box()["height"] < 200
    first_paragraph = page.locator(".post > .article-body p").first.bounding_box()
    assert first_paragraph["y"] < 844  # the article starts on the first screen
    box.locator("summary").click()
    assert box.locator(".series-parts li").count() == 18


@pytest.mark.parametrize("width", [390, 1280])
def test_byline_wraps_without_a_separator_at_the_start_of_a_line(live_server, page, width):
    post = PostFactory(reader_count=123456)
    for _ in range(3):
        CommentFactory(post=post)
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + post.get_absolute_url())
    lines = page.evaluate(
        """() => {
            const byline = document.querySelector('.byline').getBoundingClientRect();
            return [...document.querySelectorAll('.byline-items > *')].map((item) => {
                const box = item.getBoundingClientRect();
                const before = parseFloat(getComputedStyle(item, '::before').width);
                return {top: Math.round(box.top), sepRight: box.left + before, left: byline.left};
            });
        }"""
    )
    assert len(lines) == 5
    for index, item in enumerate(lines):
        starts_line = index == 0 or item["top"] > lines[index - 1]["top"]
        if starts_line:  # its "|" lies left of the byline, clipped
            assert item["sepRight"] <= item["left"] + 0.5
        else:
            assert item["sepRight"] > item["left"]
    assert "|" not in page.locator(".byline").inner_text()  # the separators are drawn by CSS
    if width == 390:
        assert len({item["top"] for item in lines}) > 1  # it does wrap on a phone


@pytest.mark.parametrize("width", [390, 1280])
def test_series_page_header_is_one_box_and_dates_show_the_year(
    live_server, page, series_posts, width
):
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + series_posts[0].series.get_absolute_url())
    header = page.locator(".page-header").bounding_box()
    for part in (".page-title", ".page-description"):
        inner = page.locator(f".page-header {part}").bounding_box()
        assert (
            header["y"] <= inner["y"]
            and inner["y"] + inner["height"] <= header["y"] + header["height"]
        )
    badges = page.locator(".date-badge .year").all_inner_texts()
    assert badges[:2] == ["2021", "2021"] and "2024" in badges
