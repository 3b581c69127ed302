"""Lists of posts: the home page, archives, categories, tags, series and search."""

import hashlib

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from caching.pages import public_page
from caching.store import cached

from .. import citations
from .. import search as site_search
from ..archives import MonthRange, month_neighbours
from ..models import Category, Post, Series, Tag


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


@public_page(query=("page", "from", "to"))
def category_detail(request, slug):
    return _posts_of(request, Category, slug, "category", "category")


@public_page(query=("page", "from", "to"))
def tag_detail(request, slug):
    return _posts_of(request, Tag, slug, "tags", "tag")


def _posts_of(request, model, slug, lookup, name):
    """The posts of the ``model`` (category or tag) at ``slug``, in the month range asked for:
    ``lookup`` is the Post field, ``name`` the context's name and the template's."""
    owner = get_object_or_404(model, slug=slug)
    months = MonthRange.from_query(request.GET)
    posts = months.apply(Post.objects.published().filter(**{lookup: owner}))
    context = {name: owner, "months": months}
    return _post_list(request, posts, _page_number(request), f"blog/{name}_detail.html", context)


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
