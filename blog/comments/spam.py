"""Cheap defences that stop most comment spam before a moderator sees it.

- a signed timestamp in the form: a form sent back sooner than ``BLOG_COMMENT_MIN_SECONDS``
  after it was rendered, or older than ``BLOG_COMMENT_FORM_MAX_AGE``, is refused;
- a honeypot field humans never see (checked by the form);
- a fixed-window rate limit per client address (blog.clients: the address behind the configured
  proxies), counted in the ``limits`` cache (shared through Redis when several instances run),
  keyed by a keyed hash of the address: raw addresses are never stored.
"""

import logging
import time

from django.conf import settings
from django.core import signing
from redis.exceptions import RedisError

from .. import clients

_TOKEN_SALT = "blog.comments.form"
logger = logging.getLogger(__name__)


def client_hash(request) -> str:
    """A keyed hash of the client's address: the same client matches, the address is not kept."""
    return clients.client_hash(request, "blog.comments.client")


def form_token(post_id: int) -> str:
    return signing.dumps({"post": post_id, "at": int(time.time())}, salt=_TOKEN_SALT, compress=True)


class TokenProblem(Exception):
    """Why a form token is refused: "invalid", "too_fast" or "expired"."""


def check_form_token(token: str, post_id: int) -> None:
    try:
        data = signing.loads(token, salt=_TOKEN_SALT)
        issued, for_post = int(data["at"]), int(data["post"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise TokenProblem("invalid") from exc
    if for_post != post_id:
        raise TokenProblem("invalid")
    age = time.time() - issued
    if age < settings.BLOG_COMMENT_MIN_SECONDS:
        raise TokenProblem("too_fast")
    if age > settings.BLOG_COMMENT_FORM_MAX_AGE:
        raise TokenProblem("expired")


def allow(request, action: str, rate: tuple[int, int]) -> bool:
    """Count one ``action`` by this client; False once it exceeds ``rate`` = (count, seconds).

    Callers count only well-formed requests, so junk cannot use up a client's quota. When the
    cache cannot be reached (Redis down) the action is allowed: a reader's comment is worth more
    than a few minutes of unthrottled spam, which the signed form timestamp, the honeypot and
    moderation still stop (docs/faults.md).
    """
    try:
        return clients.hit(f"blog:rate:{action}:{client_hash(request)}", rate)
    except RedisError as exc:
        logger.warning("rate limit %s not applied, the cache is unreachable: %s", action, exc)
        return True
