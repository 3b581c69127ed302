"""Canonical absolute URLs and the ways a reader passes a post on: share links and a QR code.

Every absolute URL starts from ``settings.SITE_URL``, never from the request's Host header, so a
forged Host cannot put another domain into a feed, a sitemap, a share link or a QR code.
"""

import io
from functools import lru_cache
from urllib.parse import urlencode, urlsplit

import segno
from django.conf import settings
from django.utils.encoding import iri_to_uri


def absolute_url(path: str) -> str:
    """``/archives/1/`` -> ``https://kexue.fm/archives/1/`` (as a URI: non-ASCII percent-encoded)."""
    return iri_to_uri(f"{settings.SITE_URL}{path}")


def site_domain() -> str:
    """Host (and any path prefix) of SITE_URL, for APIs that want a domain and a protocol apart."""
    parts = urlsplit(settings.SITE_URL)
    return f"{parts.netloc}{parts.path.rstrip('/')}"


def site_protocol() -> str:
    return urlsplit(settings.SITE_URL).scheme or "https"


def share_links(title: str, url: str) -> dict[str, str]:
    """Plain share links (no third-party script runs on our pages)."""
    return {
        "x": "https://x.com/intent/post?" + urlencode({"text": title, "url": url}),
        "weibo": "https://service.weibo.com/share/share.php?"
        + urlencode({"url": url, "title": title}),
    }


@lru_cache(maxsize=512)
def qr_svg(url: str) -> bytes:
    """A standalone SVG QR code of ``url`` for WeChat's scanner: dark on white, quiet zone kept."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out, kind="svg", scale=4, border=4, dark="#000", light="#fff", xmldecl=True, title=url
    )
    return out.getvalue()
