"""Production settings: deploy checks, security headers, Host header handling, admin path."""

import functools
import importlib
import json
import os
import subprocess
import sys
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import clear_url_caches, reverse

from tests.factories import PostFactory

PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "DJANGO_SECRET_KEY": "prod-like-test-key-" + "x" * 60,
    "DJANGO_ALLOWED_HOSTS": "kexue.test",
    "SITE_URL": "https://kexue.test",
}


def manage(*args, env=None):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    environment.pop("DATABASE_URL", None)
    environment |= env or {}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_settings_without_a_single_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_when_a_setting_is_weakened():
    """The control: the check above can fail (HSTS off is a warning)."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=PROD_ENV | {"DJANGO_HSTS_SECONDS": "0"},
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_real_secret_key():
    result = manage("check", env=PROD_ENV | {"DJANGO_SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@functools.cache
def prod_settings() -> dict:
    """The security-related values config.settings.prod computes, for override_settings."""
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
        "for k in dir(s) if k.startswith(('SECURE_', 'SESSION_', 'CSRF_', 'LANGUAGE_COOKIE_')) "
        "or k in ('X_FRAME_OPTIONS', 'DEBUG', 'ALLOWED_HOSTS')}, default=str))"
    )
    result = manage("shell", "--no-imports", "-c", script, env=PROD_ENV)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    values["SECURE_CSP"] = settings.SECURE_CSP  # the same dict in every environment
    return values


@contextmanager
def production():
    with override_settings(**prod_settings()):
        yield


@pytest.mark.django_db
def test_production_responses_carry_hsts_csp_referrer_and_frame_policies(client):
    with production():
        response = client.get("/", HTTP_HOST="kexue.test", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


@pytest.mark.django_db
def test_production_redirects_plain_http_except_the_health_check(client):
    with production():
        assert client.get("/", HTTP_HOST="kexue.test").status_code == 301
        assert client.get("/healthz", HTTP_HOST="kexue.test").status_code == 200


@pytest.mark.django_db
def test_production_cookies_are_secure_and_httponly(client):
    with production():
        response = client.get(reverse("admin:login"), HTTP_HOST="kexue.test", secure=True)
    cookie = response.cookies["csrftoken"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_a_forged_host_header_is_refused_in_production(client):
    with production():
        response = client.get("/", HTTP_HOST="evil.example", secure=True)
    assert response.status_code == 400
    assert b"evil.example" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["kexue.test", "evil.example", "127.0.0.1:8000"])
def test_canonical_urls_come_from_site_url_whatever_the_host(client, host):
    """Even where any Host is let through (tests allow '*'), absolute URLs never use it."""
    post = PostFactory()
    for url in ("/", post.get_absolute_url(), "/series/"):
        html = client.get(url, HTTP_HOST=host).content.decode()
        assert f'<link rel="canonical" href="https://kexue.test{url}">' in html
        if host != "kexue.test":
            assert host not in html


@pytest.mark.django_db
def test_csp_header_on_public_pages_has_no_nonce_but_the_admin_gets_one(client, staff_client):
    public = client.get("/")["Content-Security-Policy"]
    admin_page = staff_client.get(reverse("admin:blog_post_add"))
    assert "nonce-" not in public
    nonce = admin_page["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in admin_page.content.decode()


def test_admin_path_comes_from_the_environment():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.ADMIN_PATH)",
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "DJANGO_ADMIN_PATH": "/desk/"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "desk/"


@contextmanager
def admin_at(path):
    import config.urls

    with override_settings(ADMIN_PATH=path):
        importlib.reload(config.urls)
        clear_url_caches()
        try:
            yield
        finally:
            pass
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_admin_is_served_at_the_configured_path_only(client):
    with admin_at("back-office-7f3a/"):
        assert reverse("admin:index") == "/back-office-7f3a/"
        login = client.get("/back-office-7f3a/login/")
        assert login.status_code == 200
        assert client.get("/admin/").status_code == 404
        assert client.get("/admin/login/").status_code == 404
    assert reverse("admin:index") == "/admin/"


@pytest.mark.parametrize(
    "env",
    [{"BLOG_LICENSE_NAME": "CC BY 4.0"}, {"BLOG_LICENSE_NAME": "", "BLOG_LICENSE_URL": ""}],
)
def test_a_half_or_empty_site_licence_refuses_to_start(env):
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Set BLOG_LICENSE_NAME and BLOG_LICENSE_URL together, both non-empty." in result.stderr


def test_the_site_licence_comes_from_the_environment():
    env = {
        "BLOG_LICENSE_NAME": "CC BY 4.0",
        "BLOG_LICENSE_URL": "https://creativecommons.org/licenses/by/4.0/",
    }
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.BLOG_LICENSE)",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        {"name": env["BLOG_LICENSE_NAME"], "url": env["BLOG_LICENSE_URL"]}
    )
