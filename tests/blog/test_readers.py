"""The reader beacon (N位读者): who is counted, dedupe, refusals, exact counting, daily tallies."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog import readers
from blog.models import Post, ReadDay
from blog.readers.local import tally
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_USER_AGENT": BROWSER}


def beacon(client, post, cookie=None, data=None, **headers):
    """POST the beacon as a browser page of this site would (override any header)."""
    if cookie is not None:
        client.cookies[readers.COOKIE_NAME] = cookie
    return client.post(
        reverse("blog:post_read", args=[post.pk]), data or {}, **(SAME_ORIGIN | headers)
    )


def token(n: int) -> str:
    return f"{n:032x}"


def stored(post) -> int:
    return Post.objects.values_list("reader_count", flat=True).get(pk=post.pk)


def test_a_read_is_counted_and_the_answer_carries_the_new_count_and_byline_text(client):
    post = PostFactory(reader_count=84757)
    response = beacon(client, post, cookie=token(1))
    assert response.status_code == 200
    assert response.json() == {"readers": 84758, "counted": True, "label": "84758位读者"}
    assert stored(post) == 84758
    assert response["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in response  # JSON for a script: nothing to protect


def test_the_label_is_the_bylines_text_whatever_the_browser_language(client):
    post = PostFactory(reader_count=1)
    response = beacon(client, post, cookie=token(1), HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["label"] == "2位读者"  # the UI is Chinese for every reader


def test_the_same_visitor_counts_once_per_24_hours(client):
    post = PostFactory(reader_count=10)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert beacon(client, post, cookie=token(7)).json()["counted"] is True
        clock.shift(timedelta(hours=23, minutes=59))
        repeat = beacon(client, post, cookie=token(7)).json()
        assert repeat == {"readers": 11, "counted": False, "label": "11位读者"}
        clock.shift(timedelta(minutes=2))
        assert beacon(client, post, cookie=token(7)).json()["counted"] is True
    assert stored(post) == 12


def test_one_visitor_reading_two_posts_counts_once_for_each(client):
    first, second = PostFactory(), PostFactory()
    for post in (first, second, first, second):
        beacon(client, post, cookie=token(3))
    assert (stored(first), stored(second)) == (1, 1)


def test_a_browser_that_keeps_cookies_gets_a_visitor_cookie_scoped_to_the_beacon(client):
    post = PostFactory()
    response = beacon(client, post, data={"cookies": "1"})
    cookie = response.cookies[readers.COOKIE_NAME]
    assert len(cookie.value) == 32
    assert cookie["path"] == f"/archives/{post.pk}/read"  # never sent with page requests
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["max-age"] == 24 * 3600
    # The test client sends it back (path matches the beacon): the second beacon is a repeat.
    again = beacon(client, post, data={"cookies": "1"})
    assert again.json()["counted"] is False
    assert readers.COOKIE_NAME not in again.cookies
    assert stored(post) == 1


def test_different_cookies_behind_one_address_are_different_readers(client):
    post = PostFactory()
    for n in range(5):
        assert beacon(client, post, cookie=token(n)).json()["counted"] is True
    assert stored(post) == 5


def test_without_a_cookie_the_visitor_is_a_keyed_hash_of_address_and_agent(client):
    post = PostFactory()
    assert beacon(client, post, REMOTE_ADDR="203.0.113.9").json()["counted"] is True
    assert beacon(client, post, REMOTE_ADDR="203.0.113.9").json()["counted"] is False
    assert beacon(client, post, REMOTE_ADDR="203.0.113.10").json()["counted"] is True
    other_browser = BROWSER.replace("131", "130")
    other = beacon(client, post, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=other_browser)
    assert other.json()["counted"] is True
    assert stored(post) == 3
    # No raw address is stored anywhere in the cache.
    stored_keys = " ".join(str(key) for key in cache._cache)
    assert "203.0.113" not in stored_keys
    assert any(f"readers:seen:{post.pk}:h" in key for key in cache._cache)


# -- a script inventing visitors --------------------------------------------------------------


def new_visitor(client, post, **headers):
    """A beacon that says it keeps cookies but brings none: each one mints a new visitor."""
    client.cookies.clear()
    return beacon(client, post, data={"cookies": "1"}, **headers)


def test_one_address_adds_at_most_20_new_visitors_to_a_post_per_hour(client, settings):
    assert settings.BLOG_READER_NEW_PER_POST == (20, 3600)
    post = PostFactory(reader_count=100)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        answers = [new_visitor(client, post, REMOTE_ADDR="203.0.113.9") for _ in range(30)]
        assert [a.json()["counted"] for a in answers] == [True] * 20 + [False] * 10
        assert answers[-1].json()["readers"] == 120
        assert "Set-Cookie" not in str(answers[-1].cookies)  # a refused visitor gets no cookie
        # Rotating user agents without cookies (hashed visitors) is bounded the same way.
        for n in range(10):
            agent = BROWSER.replace("131", str(100 + n))
            answer = beacon(client, post, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=agent)
            assert answer.json()["counted"] is False
        assert stored(post) == 120
        # Another address (a neighbour) is not affected; the next hour the address counts again.
        assert new_visitor(client, post, REMOTE_ADDR="198.51.100.1").json()["counted"] is True
        traveller.shift(3600)
        assert new_visitor(client, post, REMOTE_ADDR="203.0.113.9").json()["counted"] is True
    assert stored(post) == 122


def test_one_address_adds_a_bounded_number_of_new_visitors_to_all_posts(client, settings):
    settings.BLOG_READER_NEW_PER_ADDRESS = (50, 3600)
    posts = PostFactory.create_batch(3)
    with time_machine.travel(timezone.now(), tick=False):
        for post in posts:
            for _ in range(20):
                new_visitor(client, post, REMOTE_ADDR="203.0.113.9")
    assert sum(stored(post) for post in posts) == 50


def test_an_ipv6_client_is_bounded_by_its_64_network(client, settings):
    settings.BLOG_READER_NEW_PER_POST = (5, 3600)
    post = PostFactory()
    with time_machine.travel(timezone.now(), tick=False):
        for n in range(10):
            new_visitor(client, post, REMOTE_ADDR=f"2001:db8:0:7::{n:x}")
        new_visitor(client, post, REMOTE_ADDR="2001:db8:0:8::1")  # another network
    assert stored(post) == 6


def test_repeat_reads_do_not_use_the_bound(client, settings):
    settings.BLOG_READER_NEW_PER_POST = (2, 3600)
    post = PostFactory()
    for _ in range(5):
        beacon(client, post, cookie=token(1), REMOTE_ADDR="203.0.113.9")
    assert new_visitor(client, post, REMOTE_ADDR="203.0.113.9").json()["counted"] is True
    assert stored(post) == 2


def test_a_malformed_cookie_is_ignored(client):
    post = PostFactory()
    beacon(client, post, cookie="<script>", REMOTE_ADDR="203.0.113.1")
    assert beacon(client, post, cookie="x" * 32, REMOTE_ADDR="203.0.113.1").json() == {
        "readers": 1,
        "counted": False,
        "label": "1位读者",
    }


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "",
    ],
)
def test_bots_and_crawlers_are_not_counted(client, agent):
    post = PostFactory(reader_count=5)
    response = beacon(client, post, cookie=token(1), HTTP_USER_AGENT=agent)
    assert response.status_code == 200
    assert response.json() == {"readers": 5, "counted": False, "label": "5位读者"}
    assert stored(post) == 5


@pytest.mark.parametrize(
    "agent",
    [
        BROWSER,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.50",
    ],
)
def test_browsers_are_counted(client, agent):
    post = PostFactory()
    assert beacon(client, post, cookie=token(1), HTTP_USER_AGENT=agent).json()["counted"]


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_X_PURPOSE": "preview"},
        {"HTTP_X_MOZ": "prefetch"},
    ],
)
def test_prefetches_and_prerenders_are_not_counted(client, header):
    post = PostFactory()
    assert beacon(client, post, cookie=token(1), **header).json()["counted"] is False
    assert stored(post) == 0


def test_staff_are_not_counted(staff_client):
    post = PostFactory(reader_count=3)
    assert beacon(staff_client, post, cookie=token(1)).json() == {
        "readers": 3,
        "counted": False,
        "label": "3位读者",
    }
    assert stored(post) == 3


def test_an_anonymous_beacon_is_answered_before_sessions_and_authentication(client):
    post = PostFactory()
    response = beacon(client, post, cookie=token(1))
    assert response.json()["counted"] is True
    request = response.wsgi_request
    assert not hasattr(request, "session")  # SessionMiddleware never saw it
    assert request.user.is_anonymous
    assert "X-Frame-Options" not in response  # nor did the middleware below it
    assert int(response["Content-Length"]) == len(response.content)
    assert stored(post) == 1


def test_a_beacon_with_a_session_or_messages_cookie_takes_the_whole_stack(client, staff_client):
    post = PostFactory()
    client.cookies["messages"] = "pending"
    response = beacon(client, post, cookie=token(1))
    assert hasattr(response.wsgi_request, "session")
    assert response.json()["counted"] is True
    response = beacon(staff_client, post, cookie=token(2))
    assert response.wsgi_request.user.is_staff
    assert response.json()["counted"] is False
    assert stored(post) == 1


@pytest.mark.parametrize("method", ["get", "head", "put", "delete"])
def test_only_post_is_accepted(client, method):
    post = PostFactory()
    response = getattr(client, method)(reverse("blog:post_read", args=[post.pk]), **SAME_ORIGIN)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert stored(post) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_SEC_FETCH_SITE": "none"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://kexue.test"},
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {},  # neither header: not a browser page
    ],
)
def test_cross_site_posts_are_refused(client, headers):
    post = PostFactory()
    response = client.post(
        reverse("blog:post_read", args=[post.pk]), HTTP_USER_AGENT=BROWSER, **headers
    )
    assert response.status_code == 403
    assert response.json() == {"error": "cross-site request refused"}
    assert stored(post) == 0


@pytest.mark.parametrize("origin", ["https://kexue.test", "http://testserver"])
def test_older_browsers_are_recognised_by_their_origin_header(client, origin):
    post = PostFactory()
    response = client.post(
        reverse("blog:post_read", args=[post.pk]), HTTP_USER_AGENT=BROWSER, HTTP_ORIGIN=origin
    )
    assert response.json()["counted"] is True


def test_csrf_checks_do_not_get_in_the_way(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    post = PostFactory()
    assert beacon(strict, post, cookie=token(1)).status_code == 200


@pytest.mark.parametrize(
    "make",
    [
        lambda: PostFactory(status=Post.Status.DRAFT),
        lambda: PostFactory(published_at=timezone.now() + timedelta(days=1)),
    ],
    ids=["draft", "scheduled"],
)
def test_unknown_and_unpublished_posts_are_404(client, make):
    hidden = make()
    for pk in (hidden.pk, 999999):
        response = client.post(reverse("blog:post_read", args=[pk]), **SAME_ORIGIN)
        assert response.status_code == 404
        assert response.json() == {"error": "no such post"}
    assert stored(hidden) == 0
    # A failed attempt leaves no dedupe mark behind.
    assert not any("readers:seen" in key for key in cache._cache)


def test_reads_are_tallied_per_day_in_the_site_time_zone(client):
    post = PostFactory(published_at=timezone.datetime(2024, 1, 1, tzinfo=timezone.UTC))
    # 2024-05-13 23:30 in Shanghai is 15:30 UTC: the read belongs to the 13th.
    with time_machine.travel(timezone.datetime(2024, 5, 13, 15, 30, tzinfo=timezone.UTC)):
        beacon(client, post, cookie=token(1))
        beacon(client, post, cookie=token(2))
    with time_machine.travel(timezone.datetime(2024, 5, 13, 16, 30, tzinfo=timezone.UTC)):
        beacon(client, post, cookie=token(3))
    days = dict(ReadDay.objects.filter(post=post).values_list("day", "count"))
    assert {str(day): count for day, count in days.items()} == {"2024-05-13": 2, "2024-05-14": 1}


def test_daily_tally_upsert_adds_to_an_existing_row():
    post = PostFactory()
    today = timezone.localdate()
    ReadDay.objects.add(post.pk, today)
    ReadDay.objects.add(post.pk, today, 41)
    assert ReadDay.objects.get(post=post, day=today).count == 42


def test_a_beacon_reads_and_writes_no_database_row_once_the_post_is_known(client, settings):
    settings.BLOG_READER_WRITE_INTERVAL = 60  # the writer thread waits: this test writes
    post = PostFactory(reader_count=7)
    beacon(client, post, cookie=token(1))  # learns the public posts and the stored count
    with CaptureQueriesContext(connection) as counted:
        assert beacon(client, post, cookie=token(2)).json()["readers"] == 9
    with CaptureQueriesContext(connection) as repeat:
        assert beacon(client, post, cookie=token(2)).json() == {
            "readers": 9,
            "counted": False,
            "label": "9位读者",
        }
    assert len(counted) == len(repeat) == 0
    assert Post.objects.get(pk=post.pk).reader_count == 7  # not written yet
    with CaptureQueriesContext(connection) as written:
        assert tally.write() == 2
    statements = [q["sql"].split()[0] for q in written.captured_queries]
    assert [s for s in statements if s in {"UPDATE", "SELECT", "INSERT"}] == [
        "UPDATE",  # reader_count = reader_count + 2, in one statement
        "SELECT",  # which of the posts still exist
        "UPDATE",  # today's tally (no row yet) ...
        "INSERT",  # ... so it is inserted
        "SELECT",  # the stored counts, for the next beacons
    ]
    assert Post.objects.get(pk=post.pk).reader_count == 9
    assert ReadDay.objects.get(post=post).count == 2


def test_saving_a_post_does_not_write_back_a_stale_count(client):
    post = PostFactory(reader_count=100)
    loaded = Post.objects.get(pk=post.pk)  # e.g. the admin form, opened before the read
    beacon(client, post, cookie=token(1))
    loaded.title = "改过的标题"
    loaded.save()
    post.refresh_from_db()
    assert (post.title, post.reader_count) == ("改过的标题", 101)


def test_the_post_page_stays_cacheable_and_loads_the_beacon_script(client):
    post = PostFactory(reader_count=84758)
    response = client.get(post.get_absolute_url())
    html = response.content.decode()
    assert not response.cookies  # nothing per visitor: a proxy may cache this page
    assert 'data-reader-count="84758"' in html and "84758位读者" in html
    assert (
        f'<script defer src="/static/js/readers.js" data-read-url="/archives/{post.pk}/read">'
        in html
    )
    assert stored(post) == 84758  # the page view itself counts nothing


def test_unpublished_pages_shown_to_staff_have_no_beacon(staff_client):
    draft = PostFactory(status=Post.Status.DRAFT)
    assert "readers.js" not in staff_client.get(draft.get_absolute_url()).content.decode()


def test_daily_reads_fill_missing_days_with_zero():
    post = PostFactory()
    today = timezone.localdate()
    ReadDay.objects.add(post.pk, today, 5)
    ReadDay.objects.add(post.pk, today - timedelta(days=2), 3)
    ReadDay.objects.add(post.pk, today - timedelta(days=3), 99)  # outside the window
    assert readers.daily_reads(post.pk, days=3) == [
        (today - timedelta(days=2), 3),
        (today - timedelta(days=1), 0),
        (today, 5),
    ]


def test_an_id_beyond_any_integer_column_is_a_404_not_an_error(client):
    url = "/archives/99999999999999999999999/read"
    response = client.post(url, {"cookies": "1"}, **SAME_ORIGIN)
    assert response.status_code == 404
    response = client.post(url, **(SAME_ORIGIN | {"HTTP_USER_AGENT": "curl/8"}))
    assert response.status_code == 404


def test_a_deleted_post_can_still_be_saved_again_as_a_new_one():
    post = PostFactory(reader_count=5)
    post.delete()
    post.save()
    assert Post.objects.filter(pk=post.pk, reader_count=5).exists()
