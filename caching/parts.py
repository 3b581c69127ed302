"""Parts of pages shared by every reader: rendered once per content generation, kept in the
one store (caching.store: this process's memory, then Redis, fail-safe).

A part is rendered from its own template with only the context it is given (a plain
``Context``: no request, no context processors, no user), so it cannot show anything of the
reader whose request happened to render it. Its key is the content generation, the templates'
version, the active language, the template's name and the values the caller says the part
varies on.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from . import store
from .pages import parts_version


def version(request) -> str:
    """``parts_version()``, worked out once per request (the page cache middleware sets it
    on a miss)."""
    current = getattr(request, "parts_version", None)
    if current is None:
        current = request.parts_version = parts_version()
    return current


def render(request, template_name: str, context: dict, *vary) -> SafeString:
    """``template_name`` rendered with ``context`` alone, cached under ``vary``."""
    key = ":".join(["part", version(request), get_language(), template_name, *map(str, vary)])
    html = store.get_or_compute(
        key, lambda: render_to_string(template_name, context), settings.BLOG_PAGE_CACHE_SECONDS
    )
    return mark_safe(html)
