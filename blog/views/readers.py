"""The reader beacon."""

import logging

from django.http import JsonResponse
from django.utils.translation import ngettext
from django.views.decorators.csp import csp_override, csp_report_only_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import readers
from ..models import Post

logger = logging.getLogger(__name__)


# No CSRF token: the post page is cached by proxies and must not carry a per-visitor token or
# cookie. readers.is_same_origin refuses cross-site posts instead (Sec-Fetch-Site / Origin), and
# the only effect of a post is +1 on a counter, never an action of the logged-in user.
# The answer is JSON for a script, never a document, so it carries no CSP; ``no-store`` is set
# by ``_answer`` (never_cache's five headers cost more than the rest of the answer).
@csrf_exempt
@csp_override({})
@csp_report_only_override({})
@require_POST
def post_read(request, pk):
    """The reader beacon: count a read of a public post, answer with the count for the byline."""
    if not readers.is_same_origin(request):
        return _answer({"error": "cross-site request refused"}, status=403)
    try:
        read = readers.record_read(request, pk)
    except Post.DoesNotExist:
        return _answer({"error": "no such post"}, status=404)
    except readers.Unavailable as exc:
        logger.warning("reader beacon: cannot count reads: %s", exc)
        response = _answer({"error": "reads cannot be counted right now"}, status=503)
        response["Retry-After"] = "60"
        return response
    # The byline's own msgid, so the beacon writes exactly what the page shows ("N位读者").
    # No count (a buffered read whose count cannot be read back): the byline stays as it is.
    label = None
    if read.readers is not None:
        label = ngettext("%(counter)s reader", "%(counter)s readers", read.readers) % {
            "counter": read.readers
        }
    response = _answer({"readers": read.readers, "counted": read.counted, "label": label})
    readers.set_visitor_cookie(response, pk, read.visitor, secure=request.is_secure())
    return response


def _answer(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return response
