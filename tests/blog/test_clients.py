"""blog.clients: one client address for the whole site, and the check that its setting works."""

import pytest
from django.core import checks
from django.test import RequestFactory

from blog import clients
from tests.blog.test_readers import beacon, stored
from tests.config.test_settings import PROD_ENV, manage
from tests.factories import PostFactory

PROXY = "172.18.0.5"  # the address gunicorn sees behind docker-compose's nginx


def address(**meta) -> str:
    return clients.client_address(RequestFactory().get("/", **meta))


def test_without_a_proxy_the_address_is_the_peer_and_a_forged_header_is_ignored(settings):
    settings.BLOG_PROXY_COUNT = 0
    assert address(REMOTE_ADDR="198.51.100.7") == "198.51.100.7"
    assert address(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.1") == (
        "198.51.100.7"
    )


def test_behind_one_proxy_the_address_is_the_one_it_appended(settings):
    settings.BLOG_PROXY_COUNT = 1
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7") == "198.51.100.7"
    # Whatever the client wrote itself stays to the left of what nginx appended.
    forged = "203.0.113.1, 10.0.0.1, 198.51.100.7"
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forged) == "198.51.100.7"
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="junk, 198.51.100.7") == "198.51.100.7"
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="2001:db8::7") == "2001:db8::7"
    # Other client-writable headers are never read.
    other_headers = {"HTTP_X_REAL_IP": "203.0.113.1", "HTTP_CLIENT_IP": "203.0.113.2"}
    assert address(REMOTE_ADDR=PROXY, **other_headers) == PROXY


def test_behind_two_proxies_the_address_is_the_one_the_outer_proxy_appended(settings):
    settings.BLOG_PROXY_COUNT = 2
    chain = "203.0.113.1, 198.51.100.7, 10.0.0.2"  # forged, client (from the CDN), CDN (from LB)
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=chain) == "198.51.100.7"
    assert address(REMOTE_ADDR=PROXY) == PROXY  # a request that bypassed the outer proxy


@pytest.mark.django_db
def test_reader_dedupe_ignores_a_forged_forwarded_for_without_a_proxy(client, settings):
    settings.BLOG_PROXY_COUNT = 0
    post = PostFactory()
    for forged in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        beacon(client, post, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=forged)
    assert stored(post) == 1


@pytest.mark.django_db
def test_reader_dedupe_tells_clients_behind_the_proxy_apart(client, settings):
    settings.BLOG_PROXY_COUNT = 1
    post = PostFactory()
    for real in ("198.51.100.1", "198.51.100.2", "198.51.100.2"):
        beacon(client, post, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"203.0.113.1, {real}")
    assert stored(post) == 2


def run_check() -> list[str]:
    return [error.id for error in clients.check_client_address(None)]


def test_the_check_passes_on_the_configured_site(settings):
    settings.BLOG_PROXY_COUNT = 1
    assert run_check() == []
    assert clients.check_client_address in checks.registry.registry.registered_checks


def test_the_check_fails_when_the_proxy_count_cannot_take_effect(settings, monkeypatch):
    settings.BLOG_PROXY_COUNT = 1
    monkeypatch.setattr(clients, "get_client_ip", None)  # as when django-ipware is missing
    assert run_check() == ["blog.E102"]
    settings.BLOG_PROXY_COUNT = -1
    assert run_check() == ["blog.E101"]


def test_the_check_fails_when_axes_would_see_another_address(settings):
    settings.AXES_CLIENT_IP_CALLABLE = None
    assert run_check() == ["blog.E103"]


def test_the_check_fails_when_a_retired_variable_is_still_set(monkeypatch):
    monkeypatch.setenv("AXES_PROXY_COUNT", "1")
    assert run_check() == ["blog.E104"]


@pytest.mark.parametrize("command", [("check",), ("check", "--deploy")])
def test_production_start_up_and_deploy_check_fail_on_a_proxy_setting_that_does_nothing(command):
    result = manage(*command, env=PROD_ENV | {"AXES_PROXY_COUNT": "1"})
    assert result.returncode != 0
    assert "blog.E104" in result.stderr + result.stdout
    result = manage(*command, env=PROD_ENV | {"BLOG_PROXY_COUNT": "1"})
    assert result.returncode == 0, result.stderr + result.stdout
