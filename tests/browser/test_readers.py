"""The reader beacon in a real browser: the byline updates, a reload is not a second read, a
browser without JavaScript and a headless (bot) browser are not counted."""

import pytest

from blog.models import Post
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def stored(post) -> int:
    return Post.objects.values_list("reader_count", flat=True).get(pk=post.pk)


def open_and_wait_for_beacon(page, url):
    with page.expect_response(lambda response: response.url.endswith("/read")) as beacon:
        page.goto(url)
    return beacon.value


@pytest.fixture
def reader(browser):
    context = browser.new_context(locale="zh-CN", user_agent=DESKTOP_CHROME)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def test_the_byline_shows_the_new_count_and_a_reload_is_not_a_second_read(live_server, reader):
    post = PostFactory(reader_count=84757, body="纯文字。\n")
    url = live_server.url + post.get_absolute_url()
    response = open_and_wait_for_beacon(reader, url)
    assert response.json() == {"readers": 84758, "counted": True, "label": "84758位读者"}
    byline = reader.locator(".reader-count")
    byline.filter(has_text="84758位读者").wait_for()
    assert byline.get_attribute("data-reader-count") == "84758"
    # The visitor cookie belongs to the beacon URL only, never to the pages.
    (cookie,) = reader.context.cookies()
    assert (cookie["name"], cookie["path"]) == ("reader", f"/archives/{post.pk}/read")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    again = open_and_wait_for_beacon(reader, url)
    assert again.json()["counted"] is False
    assert again.request.all_headers().get("sec-fetch-site") == "same-origin"
    assert stored(post) == 84758
    assert reader.locator(".reader-count").text_content() == "84758位读者"


def test_without_javascript_there_is_no_count(live_server, browser, reader):
    post = PostFactory(reader_count=10, body="纯文字。\n")
    url = live_server.url + post.get_absolute_url()
    no_js = browser.new_context(
        locale="zh-CN", user_agent=DESKTOP_CHROME, java_script_enabled=False
    )
    try:
        page = no_js.new_page()
        page.goto(url, wait_until="load")
        assert page.locator(".reader-count").text_content() == "10位读者"
    finally:
        no_js.close()
    # The next reader with JavaScript is the first one counted.
    assert open_and_wait_for_beacon(reader, url).json()["readers"] == 11


def test_a_headless_browser_is_a_bot_and_is_not_counted(live_server, page):
    post = PostFactory(reader_count=10, body="纯文字。\n")
    response = open_and_wait_for_beacon(page, live_server.url + post.get_absolute_url())
    assert "HeadlessChrome" in response.request.headers["user-agent"]
    assert response.json() == {"readers": 10, "counted": False, "label": "10位读者"}
    assert stored(post) == 10
    assert not page.js_errors
