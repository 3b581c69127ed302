"""Static files storage for production."""

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's compressed manifest storage, each URL worked out once per process.

    ``{% static %}`` looks a name up in the manifest and joins it to STATIC_URL on every call, and
    a page has a dozen of them. The manifest is read when the process starts and does not change
    while it runs, so the answer for a name never changes either. This is the one cache of static
    URLs: the layout's stylesheets and scripts are rendered per request (not a cached part), and
    this saves about a sixth of a warm post page's render outside the page cache.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force or settings.DEBUG:  # DEBUG serves unhashed names, and may be switched in tests
            return super().url(name, force)
        try:
            return self._urls[name]
        except KeyError:
            url = self._urls[name] = super().url(name)
            return url
