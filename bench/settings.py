"""Benchmark settings: production settings plus a trivial view (the framework floor)."""

from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
SECURE_SSL_REDIRECT = False  # plain HTTP on loopback
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Every beacon comes from loopback as a new visitor: lift the per-address bounds on new visitors
# (docs/readers.md), which would otherwise stop the benchmark after 20 reads.
BLOG_READER_NEW_PER_POST = BLOG_READER_NEW_PER_ADDRESS = (10**9, 3600)
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
