"""The test suite: fast hashing, in-memory mail and cache, plain static storage."""

import os

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-insecure-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SITE_URL = "https://kexue.test"
ALLOWED_HOSTS = ["*"]

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Saving a post with math would start Node each time; the tests that typeset on the server turn
# it on (tests/blog/test_mathjax.py), the rest exercise the browser-side fallback.
BLOG_MATHJAX_NODE = ""
# Reads stored directly are written in their request, so a test sees them at once; the server
# tests set BLOG_READER_WRITE_INTERVAL to run the batched writer as in production.
BLOG_READER_WRITE_INTERVAL = float(os.environ.get("BLOG_READER_WRITE_INTERVAL", "0"))
