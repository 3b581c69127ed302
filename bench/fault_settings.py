"""Settings of the server under test in bench/faults.py: the production settings, served over plain
HTTP on loopback, with the plain static storage (no collectstatic needed: the fault test renders
pages, it does not serve static files)."""

from config.settings.prod import *  # noqa: F403
from config.settings.prod import STORAGES

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
