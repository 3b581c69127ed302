"""Local development: DEBUG on, a throwaway key, console mail."""

import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Plain log lines in a terminal; production keeps JSON lines.
LOGGING["handlers"]["console"]["formatter"] = os.environ.get("DJANGO_LOG_FORMAT", "plain")  # noqa: F405

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
