"""Settings shared by every environment; everything comes from the environment with safe local defaults."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import mathjax
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
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
# The licence of the site's posts (a post may name its own): the reprint notice, <link
# rel="license">, JSON-LD and feeds. kexue.fm asks for 署名-非商业用途-保持一致 (BY-NC-SA).
BLOG_LICENSE = {
    "name": os.environ.get("BLOG_LICENSE_NAME", "CC BY-NC-SA 4.0"),
    "url": os.environ.get("BLOG_LICENSE_URL", "https://creativecommons.org/licenses/by-nc-sa/4.0/"),
}
if ("BLOG_LICENSE_NAME" in os.environ) != ("BLOG_LICENSE_URL" in os.environ) or not all(
    BLOG_LICENSE.values()
):
    raise ImproperlyConfigured(
        "Set BLOG_LICENSE_NAME and BLOG_LICENSE_URL together, both non-empty."
    )

INSTALLED_APPS = [
    "config.apps.BlogAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "markdownx",
    "config.apps.SecurityConfig",  # django-axes
    "accounts",
    "caching",
    "blog",
]

MIDDLEWARE = [
    "config.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "blog.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the page cache: the home page's old query forms (/?p=12) redirect to the post.
    "blog.middleware.OldPathRedirectMiddleware",
    # Serves cached public pages to anonymous readers before the rest of the stack (caching.pages).
    "caching.pages.PageCacheMiddleware",
    # Answers anonymous readers' beacons before sessions, CSRF and authentication.
    "blog.middleware.ReaderBeaconMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.csp",
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

# Caches (caching/): "local" is this process's memory of the pages, shared parts and values it
# computed, kept unpickled (MAX_ENTRIES per process; most pages are 20-60 KB, a post with hundreds
# of comments a few hundred KB). "default" is Redis when REDIS_URL is set, shared by every
# instance (a second tier behind "local", and the store of reader dedupe marks), local memory
# otherwise. caching.backends.RedisCache is Django's backend on the site's one Redis client
# (caching/redis.py: REDIS_TIMEOUT and a breaker, so a hung Redis costs a request one REDIS_TIMEOUT
# at most, docs/faults.md), which the reader buffer shares. The content generation is not in Redis:
# each process learns of changes from the database (caching/generation.py).
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "1"))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "local": {
        "BACKEND": "caching.backends.LocalObjectCache",
        "LOCATION": "local",
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("BLOG_PAGE_LOCAL_ENTRIES", "500"))},
    },
    # Rate-limit counters (blog.clients.hit) apart from what pages and reader dedupe put in the
    # default cache, which would otherwise push them out (330 beacons reset a comment limit);
    # a few hundred bytes each, so room for every client of a busy hour. With Redis: Redis.
    "limits": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "limits",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}
if REDIS_URL:
    CACHES["default"] = CACHES["limits"] = {
        "BACKEND": "caching.backends.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "blog"),
    }

# Reader counts (N位读者): see blog/readers/ and docs/readers.md.
# One read = one browser reading one post within BLOG_READ_WINDOW seconds.
BLOG_READ_WINDOW = 24 * 3600
# Buffer increments in Redis and flush them to the database (flush_reader_counts, also a task,
# started by the beacon at most once per BLOG_READER_FLUSH_INTERVAL seconds). Needs REDIS_URL.
BLOG_READER_BUFFER = env_bool("BLOG_READER_BUFFER")
BLOG_READER_FLUSH_INTERVAL = int(os.environ.get("BLOG_READER_FLUSH_INTERVAL", "60"))
BLOG_READER_REDIS_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "blog") + ":readers:"
# Without the buffer, each process writes the reads it counted in one transaction this often
# (seconds; blog/readers/local.py); 0 writes each read in its request.
BLOG_READER_WRITE_INTERVAL = float(os.environ.get("BLOG_READER_WRITE_INTERVAL", "1"))
if BLOG_READER_BUFFER and not REDIS_URL:
    raise ImproperlyConfigured("BLOG_READER_BUFFER needs REDIS_URL (the buffer lives in Redis).")
# New visitors one client address may add (docs/readers.md): (reads, seconds) to one post, and
# to all posts together. A household or an office behind one NAT stays far below both.
BLOG_READER_NEW_PER_POST = (20, 3600)
BLOG_READER_NEW_PER_ADDRESS = (200, 3600)

# The client address (blog.clients.client_address, used by reader counts, comments and login
# lockouts): the number of reverse proxies in front of the site that each append the address
# they received from to X-Forwarded-For (docker-compose's nginx: 1). 0 means REMOTE_ADDR, and
# a forged X-Forwarded-For is ignored. Only ever stored as a keyed hash.
BLOG_PROXY_COUNT = int(os.environ.get("BLOG_PROXY_COUNT", "0"))

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses to authenticate a locked-out username/address before the password
# is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The UI is Chinese for every reader (msgids are English; an English catalogue can be added).
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
    "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"},
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
# The editor and its preview take the window's height (static/css/admin-editor.css) and scroll;
# markdownx's own growing textarea would push the preview out of step.
MARKDOWNX_EDITOR_RESIZABLE = False

BLOG_POSTS_PER_PAGE = 10
# Whole public pages are cached server-side until content changes (at most this long, which also
# bounds how late a scheduled post appears), and proxies/browsers may reuse them for MAX_AGE.
BLOG_PAGE_CACHE_SECONDS = int(os.environ.get("BLOG_PAGE_CACHE_SECONDS", "300"))
BLOG_PAGE_MAX_AGE = int(os.environ.get("BLOG_PAGE_MAX_AGE", "60"))
BLOG_RELATED_POSTS = 10
BLOG_TEASER_CHARS = 240
# Node runs MathJax when a post is saved (blog/mathjax.py); empty or missing: the browser typesets.
BLOG_MATHJAX_NODE = os.environ.get("BLOG_MATHJAX_NODE", "node")
BLOG_MATHJAX_TIMEOUT = 60  # seconds for one batch of documents

# Logs: one JSON object per line on stderr (DJANGO_LOG_FORMAT=plain for a terminal). Every request
# is logged by config.logs.RequestLogMiddleware ("blog.requests"); errors by django.request with
# their traceback. Nothing from settings or the request body is logged.
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "json")
REQUEST_LOG = env_bool("DJANGO_REQUEST_LOG", default=True)

# Comments (blog.comments; docs/comments.md).
BLOG_COMMENT_MAX_DEPTH = 3  # reply levels shown nested; deeper replies attach at the last level
BLOG_COMMENTS_PER_PAGE = 30  # top-level comments per comment page, each with all its replies
BLOG_COMMENT_MAX_CHARS = 10_000
BLOG_COMMENT_MIN_SECONDS = 3  # a form sent sooner after it was rendered is a bot's
BLOG_COMMENT_FORM_MAX_AGE = 2 * 24 * 3600
BLOG_COMMENT_RATE = (6, 600)  # submissions per address per window of seconds
BLOG_COMMENT_PREVIEW_RATE = (30, 300)
BLOG_RECENT_COMMENTS = 8

# Mail (Django 6.1 MAILERS): SMTP from the environment; dev.py prints mail, tests keep it in memory.
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("SMTP_HOST", "localhost"),
            "port": int(os.environ.get("SMTP_PORT", "25")),
            "username": os.environ.get("SMTP_USER", ""),
            "password": os.environ.get("SMTP_PASSWORD", ""),
            "use_tls": env_bool("SMTP_USE_TLS"),
            "timeout": 10,
        },
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if LOG_FORMAT == "plain" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # 4xx are logged as request lines already; django.request keeps the 5xx with tracebacks.
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# Content Security Policy (Django's own middleware), the same in every environment so that a
# violation shows up in development and in the browser tests, not first in production.
# Public pages keep every script and stylesheet in static files (MathJax's configuration too), so
# `script-src 'self'` needs no nonce and cached page bodies never carry a stale one. CSP.NONCE is
# filled in only when a template reads the nonce (the admin's `{% csp_nonce_attr %}`); pages that
# never read it get a header without one.
# style-src needs 'unsafe-inline', measured in Chromium (tests/browser/test_csp.py): MathJax 3's
# CHTML output injects a <style> element whose text grows with the glyphs in use (no fixed hash,
# no nonce hook), and TeX's \bbox[...] and \style{...} are applied through a style attribute;
# without it math is unstyled and boxes lose their borders. Inline CSS cannot run script; posts
# are trusted and comments are sanitised without style attributes. No nonce in style-src on
# purpose: a nonce makes browsers ignore 'unsafe-inline' and MathJax would break in the admin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins from one address (for
# any usernames: spraying many usernames counts too), that address may not log in for
# AXES_COOLOFF_TIME. Per address, not per username, so nobody elsewhere can lock the author out.
# Attempts are stored in the database (shared by every worker, visible in the admin). The address
# is the site's own (BLOG_PROXY_COUNT behind a proxy); a system check insists on it.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "accounts.lockout.client_username"
AXES_CLIENT_IP_CALLABLE = "blog.clients.client_address"
