"""Reference-manager metadata for a post page's head: Highwire tags, COinS and JSON-LD."""

from urllib.parse import quote

from django.conf import settings
from django.utils import timezone

from .formats import ris_name
from .record import Citation


def highwire(c: Citation) -> list[tuple[str, str]]:
    """Highwire Press ``citation_*`` tags (Google Scholar, Zotero); no journal title on purpose."""
    tags = [("citation_title", c.title)]
    tags += [("citation_author", ris_name(p)) for p in c.authors]
    tags += [
        ("citation_publication_date", c.issued.strftime("%Y/%m/%d")),
        ("citation_online_date", c.issued.strftime("%Y/%m/%d")),
        ("citation_fulltext_html_url", c.url),
        ("citation_language", c.language),
    ]
    return tags


def coins(c: Citation) -> str:
    """An OpenURL ContextObject (COinS) that Zotero files as a blog post."""
    pairs = [
        ("url_ver", "Z39.88-2004"),
        ("ctx_ver", "Z39.88-2004"),
        ("rft_val_fmt", "info:ofi/fmt:kev:mtx:dc"),
        ("rft.type", "blogPost" if c.kind == "post" else "webpage"),
        ("rft.title", c.title),
        *[("rft.creator", ris_name(p)) for p in c.authors],
        ("rft.date", c.issued.isoformat()),
        ("rft.source", c.container),
        ("rft.identifier", c.url),
        ("rft.language", c.language),
    ]
    return "&".join(f"{key}={quote(value, safe='')}" for key, value in pairs)


def json_ld(c: Citation, *, keywords=(), section: str = "") -> dict:
    """schema.org ``BlogPosting`` for search engines."""
    data = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "@id": c.url,
        "mainEntityOfPage": c.url,
        "url": c.url,
        "headline": c.title,
        "name": c.title,
        "author": [
            {"@type": "Person", "name": p.name, **({"alternateName": p.latin} if p.latin else {})}
            for p in c.authors
        ],
        "datePublished": timezone.localtime(c.issued_at).isoformat(),
        "dateModified": timezone.localtime(c.updated_at).isoformat(),
        "inLanguage": c.language,
        "description": c.abstract,
        "isPartOf": {"@type": "Blog", "name": c.container, "url": settings.SITE_URL + "/"},
        "publisher": {"@type": "Organization", "name": c.container, "url": settings.SITE_URL + "/"},
    }
    if c.license:
        data["license"] = c.license.url
    if keywords:
        data["keywords"] = list(keywords)
    if section:
        data["articleSection"] = section
    return data
