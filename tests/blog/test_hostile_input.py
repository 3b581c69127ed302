"""Hostile input on every public URL: a clear 4xx or a sanitised page, never a 500."""

import pytest
from django.test import Client

from tests.factories import CategoryFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db

# Raw (still percent-encoded) path segments, decoded by the same WSGI rules as a real server.
ODD_SEGMENTS = [
    "-1",
    "0",
    "00000000001",
    "99999999999999999999999",
    "9" * 5000,
    "1e3",
    "0x10",
    "1.0",
    "%D9%A1%D9%A2%D9%A3",  # Arabic-Indic digits ١٢٣
    "%EF%BC%91%EF%BC%92",  # full-width digits １２
    "%C2%B2",  # superscript two: str.isdigit() is True, int() refuses it
    "%00",
    "1%00",
    "%ED%A0%80",  # a UTF-8 encoded lone surrogate (invalid UTF-8)
    "%C0%AF",  # overlong "/"
    "%FF%FE",
    "%E2%80%AE" + "gpj.exe",  # right-to-left override
    "%E2%80%8B",  # zero-width space
    "..",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "'%20OR%201=1--",
    "x" * 3000,
    "%F0%9F%98%80",  # emoji
]

URL_TEMPLATES = [
    "/page/{}/",
    "/archives/{}/",
    "/archives/{}/01/",
    "/archives/2024/{}/",
    "/series/{}/",
    "/category/{}/",
    "/tag/{}/",
    "/{}/",
    "/archives/{}/cite.bib",
    "/archives/{}/comment-page-2/",
    "/archives/{pk}/comment-page-{}/",
    "/archives/{}/comment/1/",
    "/archives/{pk}/comment/{}/",
    "/healthz/{}",
]

ODD_QUERY_VALUES = [
    "%00",
    "a%00b",
    "%ED%A0%80",
    "%E2%80%AE%E2%80%AD",
    "%C2%B2",
    "%D9%A1",
    "-1",
    "9" * 5000,
    "%F0%9F%98%80" * 100,
    "%25%32%35",
    "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    "x" * (1024 * 1024),  # 1 MB
]


@pytest.fixture
def site():
    series, category, tag = SeriesFactory(slug="s"), CategoryFactory(slug="c"), TagFactory(slug="t")
    return PostFactory(series=series, series_part=1, category=category, tags=[tag])


def assert_not_a_server_error(response, url):
    assert response.status_code < 500, f"{response.status_code} for {url[:120]}"
    assert response.status_code in {200, 301, 302, 400, 404, 405}, url[:120]


@pytest.mark.parametrize("template", URL_TEMPLATES)
def test_odd_path_segments_never_cause_a_server_error(client, site, template):
    for segment in ODD_SEGMENTS:
        url = template.format(segment, pk=site.pk)
        assert_not_a_server_error(client.get(url), url)


@pytest.mark.parametrize("segment", ["-1", "99999999999999999999999", "1e3", "%D9%A1", "%C2%B2"])
def test_odd_post_ids_are_404(client, site, segment):
    assert client.get(f"/archives/{segment}/").status_code == 404


def test_nul_bytes_anywhere_in_the_address_are_a_400(client, site):
    for url in ("/archives/1%00/", "/tag/t%00/", "/search/?q=%00", "/?page=1%00", "/?x%00=1"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "NUL" in response.content.decode()


@pytest.mark.parametrize("path", ["/search/", "/", "/tag/t/", "/category/c/", "/archives/2024/01/"])
def test_odd_query_strings_never_cause_a_server_error(client, site, path):
    for value in ODD_QUERY_VALUES:
        for name in ("q", "page"):
            url = f"{path}?{name}={value}"
            assert_not_a_server_error(client.get(url), url)


def test_search_input_is_shown_escaped_and_trimmed(client, site):
    response = client.get("/search/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%E2%80%AE")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_a_one_megabyte_search_is_answered(client, site):
    response = client.get("/search/", {"q": "测" * (1024 * 1024 // 3)})
    assert response.status_code == 200


def test_odd_input_to_the_admin_login_is_refused_cleanly(site):
    client = Client(enforce_csrf_checks=False)
    for username in (
        "a\x00b",
        "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
        "x" * 100_000,
    ):
        response = client.post("/admin/login/", {"username": username, "password": "p"})
        assert response.status_code in {200, 400, 429}, repr(username[:20])
