from . import mathjax
from .pages import Layout, identity


def site(request):
    """The site's identity and the layout's shared parts (each rendered only if a template uses
    it)."""
    return identity() | {"layout": Layout(request), "MATH_FONTS_COMMON": mathjax.COMMON_FONTS}
