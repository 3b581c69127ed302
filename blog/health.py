"""``/healthz`` for a load balancer: can this instance reach its database and its cache?

The answer names only the parts and "ok"/"error": no versions, hosts, settings or exception
text (those go to the log). It is never cached, so a proxy cannot keep a stale "ok".
"""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def cache_ok() -> bool:
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    try:
        return cache.get(key) == value
    finally:
        cache.delete(key)


CHECKS = {"database": database_ok, "cache": cache_ok}


def run_checks() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = "ok" if check() else "error"
        except Exception:
            logger.exception("health check %s failed", name)
            results[name] = "error"
    return results


@require_safe
@never_cache
def healthz(request):
    results = run_checks()
    healthy = all(state == "ok" for state in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **results}, status=200 if healthy else 503
    )
