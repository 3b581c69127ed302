"""Error pages never leak internals; errors and requests are logged as JSON lines."""

import json
import logging

import pytest
from django.conf import settings
from django.test import Client

from config.logs import JsonFormatter
from tests.blog.error_urls import LEAKY_MESSAGE

pytestmark = pytest.mark.django_db

LEAK_MARKERS = ("Traceback", "SECRET_KEY", "DATABASES", "RuntimeError", "secret-in-exception")


@pytest.mark.urls("tests.blog.error_urls")
def test_the_500_page_shows_no_traceback_settings_or_exception_text():
    assert settings.DEBUG is False
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "出错" in html or "Something went wrong" in html
    for marker in (*LEAK_MARKERS, settings.SECRET_KEY, str(settings.BASE_DIR)):
        assert marker not in html


def test_the_404_page_lists_no_url_patterns_or_settings(client):
    response = client.get("/no/such/place/")
    assert response.status_code == 404
    html = response.content.decode()
    for marker in (*LEAK_MARKERS, "URLconf", "urlpatterns", "config.urls", settings.SECRET_KEY):
        assert marker not in html


@pytest.mark.urls("tests.blog.error_urls")
def test_a_server_error_is_logged_with_its_traceback_as_one_json_line(caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.INFO):
        client.get("/boom/?token=abc")
    error = next(r for r in caplog.records if r.name == "django.request")
    line = JsonFormatter().format(error)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["status_code"] == 500
    assert entry["method"] == "GET" and entry["path"] == "/boom/"
    assert LEAKY_MESSAGE in entry["exception"] and "Traceback" in entry["exception"]

    access = next(r for r in caplog.records if r.name == "blog.requests")
    entry = json.loads(JsonFormatter().format(access))
    assert entry["status"] == 500 and entry["path"] == "/boom/" and entry["level"] == "ERROR"
    assert "token" not in json.dumps(entry)  # query strings are not logged


def test_every_request_is_logged_with_status_and_duration(client, caplog):
    with caplog.at_level(logging.INFO, logger="blog.requests"):
        client.get("/archives/")
    record = next(r for r in caplog.records if r.name == "blog.requests")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["method"] == "GET" and entry["path"] == "/archives/" and entry["status"] == 200
    assert entry["duration_ms"] >= 0
    assert entry["time"].endswith("+00:00")


def test_the_json_formatter_is_the_default_for_the_console():
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "json"
    assert settings.LOGGING["formatters"]["json"]["()"] == "config.logs.JsonFormatter"


@pytest.mark.django_db
def test_not_found_page_is_styled_with_sidebar(client):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and 'class="sidebar"' in html
