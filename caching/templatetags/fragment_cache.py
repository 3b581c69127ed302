"""``{% cachedfragment "name" var ... %}…{% endcachedfragment %}``: Django's ``{% cache %}`` for
parts of pages that also render outside the page cache (staff, readers with messages), through
the one store (caching.store: local, then Redis, fail-safe).

The key varies on the given variables and on ``caching.pages.fragment_version()`` (content
generation and templates), so a fragment goes stale exactly when the pages around it do; it lives
for BLOG_PAGE_CACHE_SECONDS at most.
"""

from django import template
from django.conf import settings
from django.core.cache.utils import make_template_fragment_key

from .. import store
from ..pages import fragment_version

register = template.Library()


class CachedFragmentNode(template.Node):
    def __init__(self, nodelist, name, vary_on):
        self.nodelist, self.name, self.vary_on = nodelist, name, vary_on

    def render(self, context):
        request = context.get("request")
        version = getattr(request, "fragment_version", None)
        if version is None:  # once per request
            version = fragment_version()
            if request is not None:
                request.fragment_version = version
        vary_on = [version, *(variable.resolve(context) for variable in self.vary_on)]
        key = make_template_fragment_key(self.name, vary_on)
        return store.get_or_compute(
            key, lambda: self.nodelist.render(context), settings.BLOG_PAGE_CACHE_SECONDS
        )


@register.tag
def cachedfragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"'{bits[0]}' needs a fragment name.")
    nodelist = parser.parse(("endcachedfragment",))
    parser.delete_first_token()
    name = bits[1].strip("\"'")
    return CachedFragmentNode(nodelist, name, [parser.compile_filter(bit) for bit in bits[2:]])
