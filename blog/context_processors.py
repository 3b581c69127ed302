from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import mathjax, sidebar


def site(request):
    """Site identity for every template, and the sidebar, computed only if a template uses it."""
    return {
        "SITE_URL": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_TITLE_ZH": settings.SITE_TITLE_ZH,
        "SITE_TITLE_EN": settings.SITE_TITLE_EN,
        "SITE_TAGLINE": settings.SITE_TAGLINE,
        "sidebar": SimpleLazyObject(sidebar.widgets),
        "MATH_FONTS_COMMON": mathjax.COMMON_FONTS,
    }
