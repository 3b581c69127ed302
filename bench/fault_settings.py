"""Settings of the server under test in bench/faults.py: the production settings, served over plain
HTTP on loopback, with the plain static storage (no collectstatic needed: the fault test renders
pages, it does not serve static files)."""

from config.settings.prod import *  # noqa: F403
from config.settings.prod import STORAGES

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Every beacon comes from loopback as a new visitor: lift the per-address bounds on new visitors
# (docs/readers.md), which would otherwise stop the benchmark after 20 reads.
BLOG_READER_NEW_PER_POST = BLOG_READER_NEW_PER_ADDRESS = (10**9, 3600)
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
