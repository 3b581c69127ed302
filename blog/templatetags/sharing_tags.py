from django import template

from blog import sharing

register = template.Library()


@register.simple_tag
def share_links(post) -> dict:
    """The canonical URL of ``post`` and its X and Weibo share links."""
    url = sharing.absolute_url(post.get_absolute_url())
    return {"url": url, **sharing.share_links(post.title, url)}
