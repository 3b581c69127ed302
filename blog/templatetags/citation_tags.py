"""Citation output for templates; every tag works from the record the view built (no queries)."""

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from blog import citations

register = template.Library()

# As in django.utils.html.json_script: "</script>" or "<!--" in a title cannot end the block.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.simple_tag
def citation_formats(citation):
    return citations.rendered_formats(citation)


@register.simple_tag
def citation_highwire(citation):
    return citations.highwire(citation)


@register.simple_tag
def citation_coins(citation):
    return citations.coins(citation)


@register.simple_tag
def citation_json_ld(citation, post):
    """The post's schema.org BlogPosting as ``<script type="application/ld+json">`` (data, not
    script: a CSP with ``script-src 'self'`` does not block it)."""
    data = citations.json_ld(
        citation,
        keywords=[tag.name for tag in post.tag_list],
        section=post.category.name if post.category else "",
    )
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))
