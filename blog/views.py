import copy
import hashlib
import logging
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST, require_safe

from caching.pages import public_page
from caching.store import cached

from . import citations, readers
from . import search as site_search
from .archives import MonthRange, month_neighbours
from .comments import html as comment_html
from .comments import notify, spam, workflow
from .comments import tex as comment_tex
from .comments.forms import CommentForm
from .models import Category, Comment, Post, Series, Tag
from .pages import PostPage
from .sharing import absolute_url, qr_svg

logger = logging.getLogger(__name__)


def _paginate(queryset, number, count_key=None):
    """One page of a list; a page past the end or below 1 is a 404, not an error.

    With ``count_key`` the total (a COUNT over every matching post, the one cost of a list page
    that grows with the blog) is cached until the content changes."""
    paginator = Paginator(queryset, settings.BLOG_POSTS_PER_PAGE, allow_empty_first_page=True)
    if count_key:
        paginator.count = cached(count_key, queryset.count)
    try:
        return paginator.page(number)
    except EmptyPage as exc:
        raise Http404(_("No such page.")) from exc


def _list_count_key(request) -> str:
    """What a list's total depends on: the view, its arguments and its query but the page."""
    match = request.resolver_match
    arguments = sorted((k, v) for k, v in match.kwargs.items() if k != "page")
    query = sorted((k, v) for k, v in request.GET.lists() if k != "page")
    what = repr((match.view_name, arguments, query)).encode()
    return f"count:{hashlib.blake2b(what, digest_size=12).hexdigest()}"


def _page_number(request) -> int:
    # ASCII digits only: "²" and "١" pass str.isdigit(); nine digits is past any real page.
    raw = request.GET.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise Http404(_("No such page."))
    return int(raw)


def _post_list(request, queryset, number, template, context):
    page = _paginate(queryset.for_list().newest_first(), number, _list_count_key(request))
    context |= {
        "page_obj": page,
        "posts": page.object_list,
        "needs_math": any(post.needs_mathjax for post in page.object_list),
        "typeset_math": any(post.math_typeset for post in page.object_list),
    }
    return render(request, template, context)


@public_page
def post_list(request, page=1):
    return _post_list(request, Post.objects.published(), page, "blog/post_list.html", {})


def _visible_posts(request):
    # Staff may open drafts and scheduled posts at their permalink to check them before publishing.
    return Post.objects.all() if request.user.is_staff else Post.objects.published()


@public_page(query=("replyto",))
def post_detail(request, pk):
    return _post_page(request, _page_post(request, pk))


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
        lambda: _visible_posts(request).for_post_page().filter(pk=pk).first(),
    )
    if post is None:
        raise Http404(_("No such post."))
    return copy.copy(post)


@public_page(query=("replyto",))
def post_comment_page(request, pk, page):
    """Page ``page`` of a post's comments (``comment-page-N/``); page 1 is the post's own URL."""
    if page == 1:
        return HttpResponsePermanentRedirect(reverse("blog:post_detail", args=[pk]))
    return _post_page(request, _page_post(request, pk), comment_page=page)


def _post_page(request, post, comment_form=None, status=200, comment_page=1):
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


# No CSRF token: the post page is cached by proxies and must not carry a per-visitor token or
# cookie. readers.is_same_origin refuses cross-site posts instead (Sec-Fetch-Site / Origin), and
# the only effect of a post is +1 on a counter, never an action of the logged-in user.
@csrf_exempt
@require_POST
@never_cache
def post_read(request, pk):
    """The reader beacon: count a read of a public post, answer with the count for the byline."""
    if not readers.is_same_origin(request):
        return JsonResponse({"error": "cross-site request refused"}, status=403)
    try:
        read = readers.record_read(request, pk)
    except Post.DoesNotExist:
        return JsonResponse({"error": "no such post"}, status=404)
    except readers.Unavailable as exc:
        logger.warning("reader beacon: cannot count reads: %s", exc)
        response = JsonResponse({"error": "reads cannot be counted right now"}, status=503)
        response["Retry-After"] = "60"
        return response
    # The byline's own msgid, so the beacon writes exactly what the page shows ("N位读者").
    # No count (a buffered read whose count cannot be read back): the byline stays as it is.
    label = None
    if read.readers is not None:
        label = ngettext("%(counter)s reader", "%(counter)s readers", read.readers) % {
            "counter": read.readers
        }
    response = JsonResponse({"readers": read.readers, "counted": read.counted, "label": label})
    readers.set_visitor_cookie(response, pk, read.visitor, secure=request.is_secure())
    return response


@public_page
def series_index(request):
    series = (
        Series.objects.filter(posts__in=Post.objects.published())
        .annotate(post_count=Count("posts"))
        .order_by("title")
    )
    return render(request, "blog/series_index.html", {"series_list": series})


@public_page
def series_detail(request, slug):
    series = get_object_or_404(Series, slug=slug)
    parts = list(Post.objects.published().filter(series=series).for_list().order_by("series_part"))
    context = {
        "series": series,
        "parts": parts,
        "needs_math": any(part.needs_mathjax for part in parts),
        "typeset_math": any(part.math_typeset for part in parts),
        "citation": citations.for_series(series, parts),
    }
    return render(request, "blog/series_detail.html", context)


def _citation_download(request, citation, ext):
    """A citation file: ``?style=`` picks a variant (``cite.bib?style=bibtex``; others are 404),
    ``?names=latin`` cites the authors by their Latin names."""
    style = request.GET.get("style", "")
    if request.GET.get("names") == "latin":
        citation = citation.in_latin()
    exported = citations.export(citation, ext, style)
    if exported is None:
        raise Http404(_("No such citation style."))
    text, content_type = exported
    response = HttpResponse(text, content_type=content_type)
    filename = citations.download_name(citation, ext, style)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public_page(query=("style", "names"))
def post_cite(request, pk, ext):
    post = get_object_or_404(Post.objects.published().for_cards(), pk=pk)
    return _citation_download(request, citations.for_post(post), ext)


@public_page(query=("style", "names"))
def series_cite(request, slug, ext):
    series = get_object_or_404(Series, slug=slug)
    parts = list(Post.objects.published().filter(series=series).for_cards())
    citation = citations.for_series(series, parts)
    if citation is None:
        raise Http404(_("This series has no published parts yet."))
    return _citation_download(request, citation, ext)


@public_page(query=("page", "from", "to"))
def category_detail(request, slug):
    category = get_object_or_404(Category, slug=slug)
    months = MonthRange.from_query(request.GET)
    posts = months.apply(Post.objects.published().filter(category=category))
    context = {"category": category, "months": months}
    return _post_list(request, posts, _page_number(request), "blog/category_detail.html", context)


@public_page(query=("page", "from", "to"))
def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    months = MonthRange.from_query(request.GET)
    posts = months.apply(Post.objects.published().filter(tags=tag))
    context = {"tag": tag, "months": months}
    return _post_list(request, posts, _page_number(request), "blog/tag_detail.html", context)


@public_page(query=("from", "to"))
def archive_index(request):
    """Every public post (or those of a month range), grouped by year then month, in one query."""
    months = MonthRange.from_query(request.GET)
    posts = (
        months.apply(Post.objects.published())
        .newest_first()
        .only("id", "title", "published_at")
        .with_comment_counts()
    )
    years: dict[int, dict[int, list[Post]]] = {}
    for post in posts:
        local = timezone.localtime(post.published_at)
        years.setdefault(local.year, {}).setdefault(local.month, []).append(post)
    context = {"years": years, "total": len(posts), "months": months}
    return render(request, "blog/archive_index.html", context)


@public_page(query=("page",))
def archive_month(request, year, month):
    # Four-digit years only (year 1 in local time falls before datetime's range in UTC; 9999
    # has no following month for the neighbour links).
    if not 1 <= month <= 12 or not 1000 <= year <= 9998:
        raise Http404(_("No such month."))
    posts = Post.objects.published().filter(published_at__year=year, published_at__month=month)
    earlier, later = month_neighbours(year, month)
    context = {
        "year": year,
        "month": month,
        "earlier_month": earlier,
        "later_month": later,
    }
    return _post_list(request, posts, _page_number(request), "blog/archive_month.html", context)


@public_page(query=("q", "page", "from", "to"))
def search(request):
    """Ranked search over titles, tags and bodies, with approved comments as a second group."""
    query = site_search.parse_query(request.GET.get("q", ""))
    months = MonthRange.from_query(request.GET)
    post_ids = site_search.ranked_post_ids(query, months.apply(Post.objects.published()))
    page = _paginate(post_ids, _page_number(request))
    context = {
        "query": query,
        "months": months,
        "page_obj": page,
        "hits": site_search.hits(list(page.object_list), query),
        "comment_hits": site_search.comment_hits(query) if page.number == 1 else [],
        "max_query_chars": site_search.MAX_QUERY_CHARS,
        "max_terms": site_search.MAX_TERMS,
    }
    return render(request, "blog/search.html", context)


@cache_control(public=True, max_age=86400)
def robots_txt(request):
    lines = [
        "User-agent: *",
        f"Disallow: {reverse('blog:search')}",
        f"Sitemap: {absolute_url(reverse('blog:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def post_qr(request, pk):
    """An SVG QR code of the post's canonical URL; public posts are cacheable for a day."""
    posts = Post.objects.all() if request.user.is_staff else Post.objects.published()
    post = get_object_or_404(posts.only("id", "status", "published_at"), pk=pk)
    response = HttpResponse(qr_svg(absolute_url(post.get_absolute_url())), "image/svg+xml")
    if post.is_public:
        patch_cache_control(response, public=True, max_age=86400)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response


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
    post = get_object_or_404(_visible_posts(request).for_post_page(), pk=pk)
    if not post.comments_open:
        messages.error(request, _("Comments on this post are closed."))
        return _post_page(request, post, status=403)
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
        return _post_page(request, post, form, status=status, comment_page=page)
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
    posts = _visible_posts(request).filter(pk=pk)  # pk, not post_id: a huge one is no error
    comments = Comment.objects.approved().filter(post__in=posts).only("pk", "post_id", "number")
    comment = get_object_or_404(comments, number=number)
    return HttpResponseRedirect(comment.get_page_url())


@never_cache
@require_GET
def comment_token(request, pk):
    """A fresh signed timestamp for the form: comments.js asks for one when the reader starts
    writing, so a page served from a cache still measures the time from then."""
    get_object_or_404(_visible_posts(request).filter(comments_open=True).only("id"), pk=pk)
    return JsonResponse({"token": spam.form_token(pk)})


@csrf_for_sessions
@require_POST
def comment_preview(request, pk):
    """The comment as it will be published (same sanitising path), as JSON for comments.js."""
    post = get_object_or_404(_visible_posts(request).only("id", "comments_open"), pk=pk)
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
