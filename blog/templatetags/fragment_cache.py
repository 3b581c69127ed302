"""``{% cachedfragment "name" var ... %}…{% endcachedfragment %}``: Django's ``{% cache %}``
for parts of pages that also render outside the page cache (staff, readers with messages).

The key varies on the given variables and on ``blog.pagecache.fragment_version()`` (content
generation and templates), so a fragment goes stale exactly when the pages around it do; it lives
for BLOG_PAGE_CACHE_SECONDS at most. Unlike ``{% cache %}``, a cache that fails (Redis down)
renders the fragment instead of failing the page. With Redis, each process also keeps the
fragments it used in its local cache (as page bodies, blog/pagecache.py): the generation in the
key makes a local copy stale exactly when the shared one is.
"""

from django import template
from django.conf import settings
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key

from ..cache import _safely
from ..pagecache import fragment_version, local_cache

register = template.Library()


class CachedFragmentNode(template.Node):
    def __init__(self, nodelist, name, vary_on):
        self.nodelist, self.name, self.vary_on = nodelist, name, vary_on

    def render(self, context):
        request = context.get("request")
        version = getattr(request, "fragment_version", None)
        if version is None:  # once per request: it costs a cache round trip
            version = fragment_version()
            if request is not None:
                request.fragment_version = version
        vary_on = [version, *(variable.resolve(context) for variable in self.vary_on)]
        key = make_template_fragment_key(self.name, vary_on)
        local = local_cache()
        value = local.get(key) if local else None
        if value is None:
            value = _safely(cache.get, key)
            if value is None:
                value = self.nodelist.render(context)
                _safely(cache.set, key, value, settings.BLOG_PAGE_CACHE_SECONDS)
            if local:
                local.set(key, value, settings.BLOG_PAGE_CACHE_SECONDS)
        return value


@register.tag
def cachedfragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"'{bits[0]}' needs a fragment name.")
    nodelist = parser.parse(("endcachedfragment",))
    parser.delete_first_token()
    name = bits[1].strip("\"'")
    return CachedFragmentNode(nodelist, name, [parser.compile_filter(bit) for bit in bits[2:]])
