"""Posting, previewing, linking to and unsubscribing from comments."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST, require_safe

from ..comments import html as comment_html
from ..comments import notify, spam, workflow
from ..comments import tex as comment_tex
from ..comments.forms import CommentForm
from ..models import Comment
from .posts import post_page, visible_posts


def csrf_for_sessions(view):
    """CSRF protection for logged-in users only.

    A forged request matters when it carries a session (a staff reply is published at once and
    marked as the author's), and those pages are never cached, so they carry the token. An
    anonymous comment carries no ambient authority to forge (anyone may post it directly), and
    keeping the token out of anonymous post pages lets the page cache keep them: a page that used
    the CSRF token is never cached.
    """
    protected = csrf_protect(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return protected(request, *args, **kwargs)
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapper)


@csrf_for_sessions
@require_POST
def comment_create(request, pk):
    post = get_object_or_404(visible_posts(request).for_post_page(), pk=pk)
    if not post.comments_open:
        messages.error(request, _("Comments on this post are closed."))
        return post_page(request, post, status=403)
    form = CommentForm(request.POST, post=post, user=request.user)
    status = 400
    # Only a well-formed comment uses the address's quota: junk posts cannot block anyone.
    if form.is_valid() and not spam.allow(request, "comment", settings.BLOG_COMMENT_RATE):
        form.add_error(None, _("Too many comments from your address; please wait a while."))
        status = 429
    if not form.is_valid():
        form.refresh_token()
        # A reply comes back on the page of the comment it answers, anything else on page 1.
        page = form.parent_comment.page_number() if form.parent_comment else 1
        return post_page(request, post, form, status=status, comment_page=page)
    comment = workflow.post_comment(form, request)
    # Published only for staff and for a browser holding a trust cookie, so the answer tells an
    # anonymous poster nothing about the email they typed.
    if comment.status == Comment.Status.APPROVED:
        messages.success(
            request,
            _("Your comment #%(number)s is published.") % {"number": comment.number},
            extra_tags="comment",
        )
        response = HttpResponseRedirect(comment.get_page_url(), status=303)
    else:
        messages.info(
            request,
            _("Thank you! Your comment is awaiting moderation and will appear once approved."),
            extra_tags="comment",
        )
        response = HttpResponseRedirect(f"{post.get_absolute_url()}#comments", status=303)
    workflow.remember_commenter(response, comment)
    return response


@require_safe
def comment_permalink(request, pk, number):
    """A comment's permalink (``Comment.get_absolute_url()``): a redirect to the comment page
    showing it, at its anchor. Held, spam and unknown comments are a 404."""
    posts = visible_posts(request).filter(pk=pk)  # pk, not post_id: a huge one is no error
    comments = Comment.objects.approved().filter(post__in=posts).only("pk", "post_id", "number")
    comment = get_object_or_404(comments, number=number)
    return HttpResponseRedirect(comment.get_page_url())


@never_cache
@require_GET
def comment_token(request, pk):
    """A fresh signed timestamp for the form: comments.js asks for one when the reader starts
    writing, so a page served from a cache still measures the time from then."""
    get_object_or_404(visible_posts(request).filter(comments_open=True).only("id"), pk=pk)
    return JsonResponse({"token": spam.form_token(pk)})


@csrf_for_sessions
@require_POST
def comment_preview(request, pk):
    """The comment as it will be published (same sanitising path), as JSON for comments.js."""
    post = get_object_or_404(visible_posts(request).only("id", "comments_open"), pk=pk)
    if not post.comments_open:
        return JsonResponse({"error": _("Comments on this post are closed.")}, status=403)
    body = request.POST.get("body", "")
    if len(body) > settings.BLOG_COMMENT_MAX_CHARS:
        message = _("The comment is too long (at most %(limit)s characters).") % {
            "limit": settings.BLOG_COMMENT_MAX_CHARS
        }
        return JsonResponse({"error": message}, status=400)
    if not body.strip():
        return JsonResponse({"html": ""})
    if not spam.allow(request, "preview", settings.BLOG_COMMENT_PREVIEW_RATE):
        return JsonResponse({"error": _("Too many previews; please wait a while.")}, status=429)
    rendered = comment_html.render(body).html
    if problem := comment_tex.comment_problem(rendered):
        return JsonResponse({"error": problem}, status=400)
    return JsonResponse({"html": rendered})


def comment_unsubscribe(request, token):
    """Turn off reply emails for the address the link was sent to (a POST, so that link
    scanners in mail systems do not unsubscribe anyone)."""
    email = notify.email_from_token(token)
    if email is None:
        raise Http404(_("This link is not valid."))
    done = False
    if request.method == "POST":
        Comment.objects.filter(email=email, notify_on_reply=True).update(notify_on_reply=False)
        done = True
    return render(request, "blog/comment_unsubscribe.html", {"done": done})
