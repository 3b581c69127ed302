"""The parts of pages every reader shares, declared here rather than in templates.

Each part is a template of its own, rendered with only the context given here and kept until the
content changes (caching.parts): its key names what it varies on besides the content, so a part
cannot vary on anything else. Templates insert the parts (``{{ page.article }}``,
``{{ layout.sidebar }}``); what is a reader's own (the title, messages, a logged-in reader's
comment form) is rendered per request around them. A part's data is computed lazily, only when
the part is not cached.
"""

import math
from functools import cached_property, partial

from django.conf import settings
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from caching import parts
from caching.store import cached

from . import citations, sidebar
from .comments.forms import CommentForm
from .models import Post, comment_page_url


def identity() -> dict:
    """The site's name and address: in every template's context, and in every part's."""
    return {
        "SITE_URL": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_TITLE_ZH": settings.SITE_TITLE_ZH,
        "SITE_TITLE_EN": settings.SITE_TITLE_EN,
        "SITE_TAGLINE": settings.SITE_TAGLINE,
    }


class PostPage:
    """A post page: ``head`` (canonical link and citation tags), ``article`` (byline, series,
    body, citation panel, neighbours, related posts), ``comments`` (the opening of the comment
    section and page ``comment_page`` of its threads) and ``comment_form``.

    A comment page past the end is a 404 (raised here). ``comment_form`` is a bound form to show
    again with its errors."""

    def __init__(self, request, post: Post, comment_page: int = 1, comment_form=None):
        self.request, self.post, self.comment_page = request, post, comment_page
        self.bound_form = comment_form
        raw = request.GET.get("replyto", "")  # ?replyto=N: a reply link followed without JS
        self.reply_to = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
        thread = _thread_page(post, comment_page)
        adjacent = _lazy(post.adjacent)
        self.context = identity() | {
            "post": post,
            "older": _lazy(lambda: adjacent[0]),
            "newer": _lazy(lambda: adjacent[1]),
            "citation": _lazy(citations.for_post, post),
            "related_posts": _lazy(
                lambda: list(Post.objects.published().related_to(post, settings.BLOG_RELATED_POSTS))
            ),
            "comment_page": comment_page,
            "comment_page_url": comment_page_url(post.pk, comment_page),
            "thread_page": thread,
            "comments": _lazy(lambda: thread.threads),
        }
        if post.series_id:
            series = _lazy(post.series_neighbours)
            self.context |= {
                "series_parts": _lazy(lambda: series[0]),
                "previous_part": _lazy(lambda: series[1]),
                "next_part": _lazy(lambda: series[2]),
            }

    def _part(self, template_name: str, *vary, context=None):
        return parts.render(
            self.request, template_name, context or self.context, self.post.pk, *vary
        )

    @cached_property
    def head(self):
        return self._part("blog/parts/post_head.html")

    @cached_property
    def article(self):
        # Drafts and scheduled posts (shown to staff) carry a notice and no reader beacon.
        return self._part("blog/parts/post_article.html", self.post.is_public)

    @cached_property
    def comments(self):
        return self._part(
            "blog/parts/post_comments.html", self.post.comments_open, self.comment_page
        )

    @cached_property
    def comment_form(self):
        """None when comments are closed. An anonymous reader's empty form is the same for
        everyone (no CSRF token: the page stays cacheable), so it is a part; a form with errors,
        a reply form (``?replyto=N``) or a logged-in reader's is rendered for this request."""
        if not self.post.comments_open:
            return None
        user = self.request.user
        if self.bound_form is None and not self.reply_to and not user.is_authenticated:
            form = _lazy(CommentForm, post=self.post, user=user)
            context = self.context | {"form": form}
            return self._part("includes/comments_form.html", self.comment_page, context=context)
        form = self.bound_form
        if form is None:
            initial = {"reply_to": self.reply_to} if self.reply_to else {}
            form = CommentForm(post=self.post, user=user, initial=initial)
        context = self.context | {"form": form}
        return render_to_string("includes/comments_form.html", context, request=self.request)


class Layout:
    """The parts of the layout that are the same on every page: ``header``, ``footer``,
    ``feeds`` (the site's feed links) and ``sidebar`` (its widgets but the search form)."""

    def __init__(self, request):
        self.request = request

    def _part(self, template_name: str, *vary, **context):
        return parts.render(self.request, template_name, identity() | context, *vary)

    @cached_property
    def header(self):
        return self._part("includes/site_header.html")

    @cached_property
    def footer(self):
        year = timezone.localdate().year
        return self._part("includes/site_footer.html", year, year=year)

    @cached_property
    def feeds(self):
        return self._part("includes/feed_links.html")

    @cached_property
    def sidebar(self):
        return self._part("includes/sidebar_widgets.html", sidebar=_lazy(sidebar.widgets))


def _thread_page(post, number):
    """Page ``number`` of the post's comment thread, built only when the comments part is
    rendered; a page past the end is a 404. The number of top-level threads is counted once per
    content change."""
    per_page = settings.BLOG_COMMENTS_PER_PAGE

    def roots() -> int:
        return cached(f"comment-roots:{post.pk}", lambda: post.comments.approved().roots().count())

    if not 1 <= number <= max(1, math.ceil(roots() / per_page)):
        raise Http404(_("No such page."))

    def page():
        pages = post.comments.approved().thread_pages(per_page, settings.BLOG_COMMENT_MAX_DEPTH)
        pages.count = roots()
        return pages.page(number)

    return _lazy(page)


def _lazy(function, *args, **kwargs):
    """``function(*args, **kwargs)``, computed when a template first uses it (if ever)."""
    return SimpleLazyObject(partial(function, *args, **kwargs))
