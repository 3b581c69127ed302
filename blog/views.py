import calendar

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import readers
from .models import Category, Post, Series, Tag


def _paginate(queryset, number):
    """One page of a list; a page past the end or below 1 is a 404, not an error."""
    paginator = Paginator(queryset, settings.BLOG_POSTS_PER_PAGE, allow_empty_first_page=True)
    try:
        return paginator.page(number)
    except EmptyPage as exc:
        raise Http404(_("No such page.")) from exc


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    if not raw.isdigit():
        raise Http404(_("No such page."))
    return int(raw)


def _post_list(request, queryset, number, template, context):
    page = _paginate(queryset.for_cards().newest_first(), number)
    context |= {
        "page_obj": page,
        "posts": page.object_list,
        "needs_math": any(post.has_math for post in page.object_list),
    }
    return render(request, template, context)


def post_list(request, page=1):
    return _post_list(request, Post.objects.published(), page, "blog/post_list.html", {})


def post_detail(request, pk):
    # Staff may open drafts and scheduled posts at their permalink to check them before publishing.
    posts = Post.objects.all() if request.user.is_staff else Post.objects.published()
    post = get_object_or_404(posts.for_cards().prefetch_related("tags"), pk=pk)
    older, newer = post.adjacent()
    context = {"post": post, "older": older, "newer": newer, "needs_math": post.has_math}
    if post.series_id:
        parts, previous_part, next_part = post.series_neighbours()
        context |= {"series_parts": parts, "previous_part": previous_part, "next_part": next_part}
    return render(request, "blog/post_detail.html", context)


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
    # The byline's own msgid, so the beacon writes exactly what the page shows ("N位读者").
    label = ngettext("%(counter)s reader", "%(counter)s readers", read.readers) % {
        "counter": read.readers
    }
    response = JsonResponse({"readers": read.readers, "counted": read.counted, "label": label})
    readers.set_visitor_cookie(response, pk, read.visitor, secure=request.is_secure())
    return response


def series_index(request):
    series = (
        Series.objects.filter(posts__in=Post.objects.published())
        .annotate(post_count=Count("posts"))
        .order_by("title")
    )
    return render(request, "blog/series_index.html", {"series_list": series})


def series_detail(request, slug):
    series = get_object_or_404(Series, slug=slug)
    parts = list(Post.objects.published().filter(series=series).for_cards().order_by("series_part"))
    context = {
        "series": series,
        "parts": parts,
        "needs_math": any(part.has_math for part in parts),
    }
    return render(request, "blog/series_detail.html", context)


def category_detail(request, slug):
    category = get_object_or_404(Category, slug=slug)
    posts = Post.objects.published().filter(category=category)
    return _post_list(
        request, posts, _page_number(request), "blog/category_detail.html", {"category": category}
    )


def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    posts = Post.objects.published().filter(tags=tag)
    return _post_list(request, posts, _page_number(request), "blog/tag_detail.html", {"tag": tag})


def archive_index(request):
    """Every public post, grouped by year then month (two queries whatever the size)."""
    posts = Post.objects.published().newest_first().only("id", "title", "published_at")
    years: dict[int, dict[int, list[Post]]] = {}
    for post in posts:
        local = timezone.localtime(post.published_at)
        years.setdefault(local.year, {}).setdefault(local.month, []).append(post)
    return render(request, "blog/archive_index.html", {"years": years, "total": len(posts)})


def archive_month(request, year, month):
    if not 1 <= month <= 12:
        raise Http404(_("No such month."))
    posts = Post.objects.published().filter(published_at__year=year, published_at__month=month)
    context = {"year": year, "month": month, "month_name": calendar.month_abbr[month]}
    return _post_list(request, posts, _page_number(request), "blog/archive_month.html", context)


def search(request):
    """A simple title/body search; Chinese-aware ranked search comes with the search issue."""
    query = request.GET.get("q", "").strip()[:100]
    posts = Post.objects.none()
    if query:
        public = Post.objects.published()
        posts = public.filter(title__icontains=query) | public.filter(body__icontains=query)
    return _post_list(request, posts, _page_number(request), "blog/search.html", {"query": query})
