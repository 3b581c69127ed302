"""Structured logs: one JSON object per line, and one line per request.

A log shipper (journald, Docker, Loki, ...) can index these lines without parsing free text. A
record's ``extra`` fields become keys; objects that are not JSON values (the ``request`` Django
attaches to its records) are reduced to method and path. Settings, cookies, headers, query strings
and request bodies are never written.
"""

import json
import logging
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

request_logger = logging.getLogger("blog.requests")


class Throttled:
    """The warning for a failure that repeats while a service is down, when every request meets
    it: logged with its traceback at most once per ``every`` seconds, counting those left out."""

    def __init__(self, logger: logging.Logger, message: str, every: float = 10.0):
        self._logger, self._message, self._every = logger, message, every
        self._last, self._unlogged = float("-inf"), 0

    def warn(self, *args) -> None:
        """Call from the ``except`` block that caught the failure (its traceback is logged)."""
        now = time.monotonic()
        if now - self._last < self._every:
            self._unlogged += 1
            return
        self._logger.warning(
            f"{self._message} (%s more failures since the last warning)",
            *args,
            self._unlogged,
            exc_info=True,
        )
        self._last, self._unlogged = now, 0


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if key == "request":
                entry.setdefault("method", getattr(value, "method", None))
                entry.setdefault("path", getattr(value, "path", None))
            elif isinstance(value, str | int | float | bool | type(None)):
                entry[key] = value
            else:
                entry[key] = repr(value)[:200]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    """Logs every request as ``{"method", "path", "status", "duration_ms"}`` at INFO.

    About 35 µs a request here; turn it off with ``DJANGO_REQUEST_LOG=0`` when the proxy or
    gunicorn already writes an access log.
    """

    def __init__(self, get_response):
        if not settings.REQUEST_LOG:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        status = response.status_code
        request_logger.log(
            logging.ERROR if status >= 500 else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
