"""The life of a comment: posted (held or published), approved, marked as spam, answered by staff.

Moderation rule: comments by logged-in staff are published at once, and so are comments from a
returning commenter who proves it with what they hold, never with what they type: posting a comment
gives the browser a signed cookie naming that comment (``remember_commenter``); a later comment is
published at once when the cookie names an approved comment with the same email. Typing the email of
an approved commenter alone is held like any first comment. Everything else waits for approval.
Numbers #1, #2, … are given in posting order within a post, under a lock, so concurrent posts never
share a number.
"""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from blog.models import Comment, Post
from caching.generation import content_changed

from . import notify, spam

NUMBERING_ATTEMPTS = 5
TRUST_COOKIE = "commenter"
TRUST_COOKIE_SALT = "blog.comments.trust"
TRUST_COOKIE_AGE = timedelta(days=365)


def post_comment(form, request) -> Comment:
    """Save a valid ``CommentForm`` as a new comment and send the notifications it triggers."""
    data = form.cleaned_data
    user = request.user
    if form.is_staff:
        author = {
            "author_name": user.public_name,
            "email": user.email,
            "website": user.homepage,
            "user": user,
            "is_staff_reply": True,
        }
    else:
        author = {
            "author_name": data["author_name"],
            "email": data["email"],
            "website": data["website"],
            "notify_on_reply": data["notify_on_reply"],
        }
    published = form.is_staff or is_trusted_commenter(request, author["email"])
    comment = Comment(
        post=form.post,
        parent=form.parent_comment,
        body=data["body"],
        status=Comment.Status.APPROVED if published else Comment.Status.PENDING,
        approved_at=timezone.now() if published else None,
        client_hash=spam.client_hash(request),
        **author,
    )
    save_numbered(comment)
    _after_posting(comment)
    return comment


def staff_reply(parent: Comment, user, body: str) -> Comment:
    """A published reply by ``user`` (from the admin); replying approves a held parent."""
    if parent.status != Comment.Status.APPROVED:
        approve(Comment.objects.filter(pk=parent.pk))
        parent.refresh_from_db()
    reply = Comment(
        post=parent.post,
        parent=parent,
        author_name=user.public_name,
        email=user.email,
        website=user.homepage,
        body=body,
        status=Comment.Status.APPROVED,
        approved_at=timezone.now(),
        user=user,
        is_staff_reply=True,
    )
    save_numbered(reply)
    _after_posting(reply)
    return reply


def is_trusted_commenter(request, email: str) -> bool:
    """Whether the request carries a trust cookie naming an approved comment by ``email``."""
    comment_id = request.get_signed_cookie(
        TRUST_COOKIE, default=None, salt=TRUST_COOKIE_SALT, max_age=TRUST_COOKIE_AGE
    )
    if not (email and comment_id and comment_id.isdigit()):
        return False
    return Comment.objects.approved().filter(pk=int(comment_id), email=email).exists()


def remember_commenter(response, comment: Comment) -> None:
    """Give the browser that posted ``comment`` the trust cookie naming it, so that once a
    moderator approves it, that browser's later comments with the same email are published at
    once. A published anonymous comment was posted with a cookie that already proves trust; that
    cookie is kept. ``SameSite=Lax``: a cross-site form post does not carry it.
    """
    if comment.user_id or comment.status == Comment.Status.APPROVED:
        return
    response.set_signed_cookie(
        TRUST_COOKIE,
        str(comment.pk),
        salt=TRUST_COOKIE_SALT,
        max_age=TRUST_COOKIE_AGE,
        path="/archives/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def save_numbered(comment: Comment) -> Comment:
    """Insert ``comment`` with the next free number of its post.

    PostgreSQL: the post's row is locked for the transaction, so numbering is serial per post.
    SQLite: transactions are IMMEDIATE (settings), which serialises writers the same way. The
    unique constraint backs both up; a collision is retried.
    """
    for attempt in range(NUMBERING_ATTEMPTS):
        try:
            with transaction.atomic():
                list(Post.objects.select_for_update().filter(pk=comment.post_id).values_list("pk"))
                last = Comment.objects.filter(post_id=comment.post_id).aggregate(Max("number"))
                comment.number = (last["number__max"] or 0) + 1
                comment.save(force_insert=True)
            return comment
        except IntegrityError:
            comment.pk = None
            if attempt == NUMBERING_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def approve(comments) -> int:
    """Publish ``comments`` (a queryset); reply emails go out for first-time approvals only."""
    comments = Comment.objects.filter(pk__in=comments.values("pk"))  # plain, lockable
    with transaction.atomic():
        first_time = list(
            comments.filter(approved_at__isnull=True)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        newly_approved = list(
            comments.exclude(status=Comment.Status.APPROVED).values_list("pk", flat=True)
        )
        changed = Comment.objects.filter(pk__in=newly_approved).update(
            status=Comment.Status.APPROVED
        )
        Comment.objects.filter(pk__in=first_time).update(approved_at=timezone.now())
        for comment in Comment.objects.filter(pk__in=first_time).select_related("post", "parent"):
            transaction.on_commit(partial(notify.reply, comment))
    # Their math is typeset now that they are public (outside the transaction: Node takes time).
    for comment in Comment.objects.filter(pk__in=newly_approved, has_math=True):
        comment.save(update_fields=["body_html", "math_typeset"])
    content_changed()
    return changed


def mark_spam(comments) -> int:
    comments = Comment.objects.filter(pk__in=comments.values("pk"))
    changed = comments.exclude(status=Comment.Status.SPAM).update(status=Comment.Status.SPAM)
    content_changed()
    return changed


def _after_posting(comment: Comment) -> None:
    transaction.on_commit(partial(notify.new_comment, comment))
    if comment.status == Comment.Status.APPROVED:
        transaction.on_commit(partial(notify.reply, comment))
