import calendar

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from . import citations
from . import search as site_search
from .archives import MonthRange, month_neighbours
from .models import Category, Post, Series, Tag
from .pagecache import public_page
from .sharing import absolute_url, qr_svg


def _paginate(queryset, number):
    """One page of a list; a page past the end or below 1 is a 404, not an error."""
    paginator = Paginator(queryset, settings.BLOG_POSTS_PER_PAGE, allow_empty_first_page=True)
    try:
        return paginator.page(number)
    except EmptyPage as exc:
        raise Http404(_("No such page.")) from exc


def _page_number(request) -> int:
    # ASCII digits only: "²" and "١" pass str.isdigit(); nine digits is past any real page.
    raw = request.GET.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise Http404(_("No such page."))
    return int(raw)


def _post_list(request, queryset, number, template, context):
    page = _paginate(queryset.for_list().newest_first(), number)
    context |= {
        "page_obj": page,
        "posts": page.object_list,
        "needs_math": any(post.has_math for post in page.object_list),
    }
    return render(request, template, context)


@public_page
def post_list(request, page=1):
    return _post_list(request, Post.objects.published(), page, "blog/post_list.html", {})


@public_page
def post_detail(request, pk):
    # Staff may open drafts and scheduled posts at their permalink to check them before publishing.
    posts = Post.objects.all() if request.user.is_staff else Post.objects.published()
    post = get_object_or_404(posts.for_cards().prefetch_related("tags"), pk=pk)
    older, newer = post.adjacent()
    context = {
        "post": post,
        "older": older,
        "newer": newer,
        "needs_math": post.has_math,
        "citation": citations.for_post(post),
        "related_posts": Post.objects.published().related_to(post)[: settings.BLOG_RELATED_POSTS],
    }
    if post.series_id:
        parts, previous_part, next_part = post.series_neighbours()
        context |= {"series_parts": parts, "previous_part": previous_part, "next_part": next_part}
    return render(request, "blog/post_detail.html", context)


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
        "needs_math": any(part.has_math for part in parts),
        "citation": citations.for_series(series, parts),
    }
    return render(request, "blog/series_detail.html", context)


def _citation_download(request, citation, ext):
    """A citation file: ``?style=`` picks a variant (``cite.bib?style=bibtex``); others are 404."""
    exported = citations.export(citation, ext, request.GET.get("style"))
    if exported is None:
        raise Http404(_("No such citation style."))
    text, content_type = exported
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{citation.key}.{ext}"'
    return response


@public_page
def post_cite(request, pk, ext):
    post = get_object_or_404(Post.objects.published().for_cards(), pk=pk)
    return _citation_download(request, citations.for_post(post), ext)


@public_page
def series_cite(request, slug, ext):
    series = get_object_or_404(Series, slug=slug)
    parts = list(Post.objects.published().filter(series=series).for_cards())
    citation = citations.for_series(series, parts)
    if citation is None:
        raise Http404(_("This series has no published parts yet."))
    return _citation_download(request, citation, ext)


@public_page
def category_detail(request, slug):
    category = get_object_or_404(Category, slug=slug)
    months = MonthRange.from_query(request.GET)
    posts = months.apply(Post.objects.published().filter(category=category))
    context = {"category": category, "months": months}
    return _post_list(request, posts, _page_number(request), "blog/category_detail.html", context)


@public_page
def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    months = MonthRange.from_query(request.GET)
    posts = months.apply(Post.objects.published().filter(tags=tag))
    context = {"tag": tag, "months": months}
    return _post_list(request, posts, _page_number(request), "blog/tag_detail.html", context)


@public_page
def archive_index(request):
    """Every public post (or those of a month range), grouped by year then month, in one query."""
    months = MonthRange.from_query(request.GET)
    posts = (
        months.apply(Post.objects.published()).newest_first().only("id", "title", "published_at")
    )
    years: dict[int, dict[int, list[Post]]] = {}
    for post in posts:
        local = timezone.localtime(post.published_at)
        years.setdefault(local.year, {}).setdefault(local.month, []).append(post)
    context = {"years": years, "total": len(posts), "months": months}
    return render(request, "blog/archive_index.html", context)


@public_page
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
        "month_name": calendar.month_abbr[month],
        "earlier_month": earlier,
        "later_month": later,
    }
    return _post_list(request, posts, _page_number(request), "blog/archive_month.html", context)


@public_page
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
