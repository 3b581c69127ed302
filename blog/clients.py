"""Who a client is (its address) and how much it may do (fixed-window limits).

``client_address`` is the one place that decides a request's client address: the reader dedupe
and its bounds, the comment rate limits and fingerprints, and django-axes (through
``AXES_CLIENT_IP_CALLABLE``) all call it, so they always agree.

Without a proxy (``BLOG_PROXY_COUNT = 0``) the address is the peer, ``REMOTE_ADDR``, and
``X-Forwarded-For`` is ignored: any client can write it. Behind ``BLOG_PROXY_COUNT`` reverse
proxies that each append the address they received from to ``X-Forwarded-For`` (nginx's
``$proxy_add_x_forwarded_for``), the client is the entry appended by the outermost proxy, counted
from the right; whatever a client wrote to the left of it is ignored. django-ipware picks it.

Limits count in the ``limits`` cache (settings: a Redis cache with Redis, else a local-memory
cache of its own), where page, part and dedupe entries cannot evict them.
"""

import functools
import ipaddress
import os
import time

from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.utils.crypto import salted_hmac

try:
    from ipware import get_client_ip
except ImportError:  # the system check below refuses a proxy count without it
    get_client_ip = None

FORWARDED_HEADER = "HTTP_X_FORWARDED_FOR"
# Environment variables earlier versions read for the same purpose; now they would do nothing.
RETIRED_VARIABLES = ("AXES_PROXY_COUNT", "DJANGO_CLIENT_IP_HEADER")


def client_address(request) -> str:
    """The client's address, as far as this site's proxies vouch for it ("" if unknown)."""
    proxies = settings.BLOG_PROXY_COUNT
    if proxies:
        # ipware counts the proxies listed *in* the header; the innermost one is REMOTE_ADDR.
        # Not strict: entries a client prepended (even garbage) do not void the chain.
        address, _routable = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=[FORWARDED_HEADER],
            strict=False,
        )
        if address:
            return address
    return request.META.get("REMOTE_ADDR", "")


def client_hash(request, purpose: str) -> str:
    """A keyed hash of the client for one purpose (limits, fingerprints): the address is not kept.

    An IPv6 client is its /64, the network one household or device is given and may take any
    address from: otherwise it could start afresh with every request.
    """
    return _client_hash(client_address(request), purpose, settings.SECRET_KEY)


@functools.lru_cache(maxsize=4096)  # the same few addresses send most requests
def _client_hash(client: str, purpose: str, secret: str) -> str:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        pass
    else:
        if address.version == 6 and not address.ipv4_mapped:
            client = str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return salted_hmac(purpose, client, secret, algorithm="sha256").hexdigest()[:32]


def hit(key: str, rate: tuple[int, int]) -> bool:
    """Count one event under ``key``; False once there were more than ``rate`` = (count, seconds)
    in the current window (fixed windows: across a boundary up to twice the count may pass).

    ``add`` + ``incr`` are atomic in Redis and in the local-memory cache, so concurrent requests
    cannot slip past the limit together. Raises the cache's errors (Redis down): callers decide.
    """
    limit, window = rate
    limits = caches["limits"]
    key = f"{key}:{int(time.time()) // window}"
    limits.add(key, 0, timeout=window + 1)
    try:
        count = limits.incr(key)
    except ValueError:  # expired between add and incr
        limits.set(key, 1, timeout=window + 1)
        count = 1
    return count <= limit


def check_client_address(app_configs, **kwargs):
    """The proxy setting must be able to take effect, and django-axes must use the same address.

    Registered by BlogConfig.ready as a normal (not deploy-only) check: it runs before
    ``runserver`` and ``migrate`` start, and in ``check --deploy``.
    """
    errors = []
    proxies = settings.BLOG_PROXY_COUNT
    if not isinstance(proxies, int) or proxies < 0:
        errors.append(
            checks.Error(
                f"BLOG_PROXY_COUNT must be a whole number of proxies (0 or more), not {proxies!r}.",
                id="blog.E101",
            )
        )
    elif proxies and get_client_ip is None:
        errors.append(
            checks.Error(
                "BLOG_PROXY_COUNT is set but django-ipware is not installed: every client would "
                "have the proxy's address.",
                hint="pip install 'django-ipware>=7,<9' (a dependency in pyproject.toml).",
                id="blog.E102",
            )
        )
    if getattr(settings, "AXES_CLIENT_IP_CALLABLE", None) != "blog.clients.client_address":
        errors.append(
            checks.Error(
                "django-axes must find client addresses with blog.clients.client_address, or "
                "login lockouts and the rest of the site disagree about who a client is.",
                hint='AXES_CLIENT_IP_CALLABLE = "blog.clients.client_address"',
                id="blog.E103",
            )
        )
    errors.extend(
        checks.Error(
            f"The environment variable {name} is no longer read; the client address behind a "
            "proxy is configured by BLOG_PROXY_COUNT alone.",
            hint="Set BLOG_PROXY_COUNT to the number of reverse proxies in front of the site.",
            id="blog.E104",
        )
        for name in RETIRED_VARIABLES
        if name in os.environ
    )
    return errors
