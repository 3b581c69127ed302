"""/healthz: database and cache checked; 503 naming the failed part; nothing secret; no caching."""

import pytest
from django.db import OperationalError, connection
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_with_200_and_no_store(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert reverse("healthz") == "/healthz"


def test_healthz_reports_a_database_outage_with_503(client):
    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection to server at 10.0.0.5 failed: password=hunter2")

    with connection.execute_wrapper(refuse):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "cache": "ok"}
    assert b"hunter2" not in response.content and b"10.0.0.5" not in response.content


def test_healthz_reports_an_unreachable_cache_with_503(client):
    # A real Redis client pointed at a closed port: the connection is refused.
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
        "local": {"BACKEND": "caching.backends.LocalObjectCache", "LOCATION": "test-local"},
    }
    with override_settings(CACHES=caches):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error"}
    assert b"127.0.0.1" not in response.content


def test_healthz_answers_head_and_get_only(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
