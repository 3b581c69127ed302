"""Emails about comments, sent through Django 6.1's ``MAILERS["default"]``.

- the post's authors get one email per new comment (held ones too, with the admin link), except
  for their own replies;
- a commenter who ticked "email me when someone replies" gets one email per reply, once that
  reply is published (approved), with a link that turns these emails off.

A failing mail server is logged and never fails the reader's request.
"""

import logging

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, mailers
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

_UNSUBSCRIBE_SALT = "blog.comments.unsubscribe"


def new_comment(comment) -> None:
    post = comment.post
    recipients = [
        author.email
        for author in post.authors.all()
        if author.email and author.pk != comment.user_id
    ]
    if not recipients:
        return
    admin_url = reverse("admin:blog_comment_change", args=[comment.pk])
    context = {
        "comment": comment,
        "post": post,
        "comment_url": settings.SITE_URL + comment.get_absolute_url(),
        "admin_url": settings.SITE_URL + admin_url,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("New comment #%(number)s on “%(title)s”") % {
            "number": comment.number,
            "title": post.title,
        }
        body = render_to_string("email/comments_new.txt", context)
    _send(subject, body, recipients, reply_to=[comment.email])


def reply(comment) -> None:
    """Tell the parent's author about a published reply, if they asked for it."""
    parent = comment.parent
    if (
        parent is None
        or not parent.notify_on_reply
        or parent.status != parent.Status.APPROVED
        or parent.email == comment.email
    ):
        return
    unsubscribe_url = settings.SITE_URL + reverse(
        "blog:comment_unsubscribe", args=[unsubscribe_token(parent.email)]
    )
    context = {
        "comment": comment,
        "parent": parent,
        "post": comment.post,
        "comment_url": settings.SITE_URL + comment.get_absolute_url(),
        "unsubscribe_url": unsubscribe_url,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(name)s replied to your comment on “%(title)s”") % {
            "name": comment.author_name,
            "title": comment.post.title,
        }
        body = render_to_string("email/comments_reply.txt", context)
    _send(subject, body, [parent.email], headers={"List-Unsubscribe": f"<{unsubscribe_url}>"})


def unsubscribe_token(email: str) -> str:
    return signing.dumps(email, salt=_UNSUBSCRIBE_SALT)


def email_from_token(token: str) -> str | None:
    try:
        return signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None


def _send(subject: str, body: str, to: list[str], **kwargs) -> None:
    # Names and titles end up in a header: no line breaks there.
    message = EmailMessage(subject=" ".join(subject.split()), body=body, to=to, **kwargs)
    try:
        mailers.default.send_messages([message])
    except OSError:  # smtplib errors are OSErrors
        logger.exception("Could not send comment email %r to %s", subject, to)
