"""Settings shared by every environment; everything comes from the environment with safe local defaults."""

import os
from pathlib import Path

import dj_database_url
import mathjax
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The dev and test settings supply a throwaway key; prod.py refuses to start without a real one.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

# Canonical origin for every absolute URL (feeds, citations, sitemaps, canonical links).
# Never derived from the request's Host header.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "科学空间|Scientific Spaces"
SITE_TITLE_ZH = "科学空间"
SITE_TITLE_EN = "Scientific Spaces"
SITE_TAGLINE = "渴望成为一个小飞侠"
ADMIN_PATH = os.environ.get("DJANGO_ADMIN_PATH", "admin/").strip("/") + "/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "markdownx",
    "accounts",
    "blog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blog.context_processors.site",
            ],
        },
    },
]

# Database: DATABASE_URL, SQLite file by default.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Measured: WAL + IMMEDIATE transactions remove "database is locked" errors under concurrent
    # writes and raise a counter page from ~530 to ~3,100 req/s. WAL persists in the file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by several instances), local memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "blog"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Reader counts (N位读者): see blog/readers/ and docs/readers.md.
# One read = one browser reading one post within BLOG_READ_WINDOW seconds.
BLOG_READ_WINDOW = 24 * 3600
# Buffer increments in Redis and flush them to the database (flush_reader_counts, also a task,
# started by the beacon at most once per BLOG_READER_FLUSH_INTERVAL seconds). Needs REDIS_URL.
BLOG_READER_BUFFER = env_bool("BLOG_READER_BUFFER")
BLOG_READER_FLUSH_INTERVAL = int(os.environ.get("BLOG_READER_FLUSH_INTERVAL", "60"))
BLOG_READER_REDIS_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "blog") + ":readers:"
if BLOG_READER_BUFFER and not REDIS_URL:
    raise ImproperlyConfigured("BLOG_READER_BUFFER needs REDIS_URL (the buffer lives in Redis).")
# The request header holding the client address when behind a trusted reverse proxy
# (e.g. "HTTP_X_REAL_IP"); empty means REMOTE_ADDR. Only ever stored as a keyed hash.
BLOG_CLIENT_IP_HEADER = os.environ.get("DJANGO_CLIENT_IP_HEADER", "")

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese UI by default; English available through the locale middleware.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Only MathJax's prebuilt es5/ bundle is served (24 MB); the package also carries its sources.
MATHJAX_ROOT = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
STATICFILES_DIRS = [BASE_DIR / "static", ("mathjax", MATHJAX_ROOT)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

# django-markdownx: the preview runs our own renderer; both endpoints are staff-only views of ours
# (blog.editor), mounted at these paths. markdownx reads these at import time.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "blog.markup.render_preview"
MARKDOWNX_URLS_PATH = "/editor/markdownify/"
MARKDOWNX_UPLOAD_URLS_PATH = "/editor/upload/"
MARKDOWNX_MEDIA_PATH = "uploads/"
MARKDOWNX_UPLOAD_MAX_SIZE = 5 * 1024 * 1024
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (1600, 0), "quality": 90}
MARKDOWNX_SERVER_CALL_LATENCY = 400

BLOG_POSTS_PER_PAGE = 10
BLOG_TEASER_CHARS = 240

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
