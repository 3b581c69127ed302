"""The post page and its pages of comments."""

import copy

from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from caching.pages import public_page
from caching.store import cached

from ..models import Post
from ..pages import PostPage


def visible_posts(request):
    # Staff may open drafts and scheduled posts at their permalink to check them before publishing.
    return Post.objects.all() if request.user.is_staff else Post.objects.published()


@public_page(query=("replyto",))
def post_detail(request, pk):
    return post_page(request, _page_post(request, pk))


def _page_post(request, pk) -> Post:
    """The post page's post (``for_post_page()``), or 404.

    The row is read once per content generation (and per process, with Redis): every change
    that shows on the page (the post, its comments, series, tags, a scheduled publication)
    starts a new generation. Each request gets its own copy, since lazily loaded parts (authors,
    tags) are kept on the instance.
    """
    staff = request.user.is_staff
    post = cached(
        f"post-page:{pk}:{int(staff)}",
        lambda: visible_posts(request).for_post_page().filter(pk=pk).first(),
    )
    if post is None:
        raise Http404(_("No such post."))
    return copy.copy(post)


@public_page(query=("replyto",))
def post_comment_page(request, pk, page):
    """Page ``page`` of a post's comments (``comment-page-N/``); page 1 is the post's own URL."""
    if page == 1:
        return HttpResponsePermanentRedirect(reverse("blog:post_detail", args=[pk]))
    return post_page(request, _page_post(request, pk), comment_page=page)


def post_page(request, post, comment_form=None, status=200, comment_page=1):
    """The post page with page ``comment_page`` of its comments, from its shared parts
    (blog.pages.PostPage); ``comment_form`` is a bound form to show again with its errors."""
    context = {
        "post": post,
        "page": PostPage(request, post, comment_page, comment_form),
        "comment_page": comment_page,
        # MathJax only if the post or a shown comment has math not typeset on the server; the
        # comment preview loads it on demand (static/js/comments.js).
        "needs_math": post.needs_mathjax or post.comments_need_mathjax,
        "typeset_math": post.math_typeset or post.comments_have_math,
    }
    return render(request, "blog/post_detail.html", context, status=status)
