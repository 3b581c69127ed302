"""Input no view should ever see."""

from django.http import HttpResponseBadRequest


class RejectNulBytesMiddleware:
    """Answer 400 to a NUL byte anywhere in the path or the query string.

    No text the site stores or looks up can contain NUL (PostgreSQL refuses it outright, which
    would surface as a 500 from any lookup), so such a request is malformed, whatever the URL.
    Form fields already refuse NUL through Django's ProhibitNullCharactersValidator.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest(
                "Bad request: NUL bytes are not allowed in addresses.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
