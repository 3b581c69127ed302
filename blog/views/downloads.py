"""Files to download: citations, QR codes, robots.txt."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from caching.pages import public_page

from .. import citations
from ..models import Post, Series
from ..sharing import absolute_url, qr_svg
from .posts import visible_posts


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


def post_qr(request, pk):
    """An SVG QR code of the post's canonical URL; public posts are cacheable for a day."""
    post = get_object_or_404(visible_posts(request).only("id", "status", "published_at"), pk=pk)
    response = HttpResponse(qr_svg(absolute_url(post.get_absolute_url())), "image/svg+xml")
    if post.is_public:
        patch_cache_control(response, public=True, max_age=86400)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response


@cache_control(public=True, max_age=86400)
def robots_txt(request):
    lines = [
        "User-agent: *",
        f"Disallow: {reverse('blog:search')}",
        f"Sitemap: {absolute_url(reverse('blog:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
