"""/sitemap.xml: posts, series, categories and tags with their last-modified dates.

URLs use the domain and protocol of ``settings.SITE_URL``, not the Sites framework or the
request (``get_urls`` is handed a site object built from SITE_URL).
"""

from types import SimpleNamespace

from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q

from .models import Category, Post, Series, Tag
from .sharing import site_domain, site_protocol


class SiteURLSitemap(Sitemap):
    def get_urls(self, page=1, site=None, protocol=None):
        site = SimpleNamespace(domain=site_domain(), name=site_domain())
        return super().get_urls(page=page, site=site, protocol=site_protocol())

    def lastmod(self, item):
        return item.last_modified


class PostSitemap(SiteURLSitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return Post.objects.published().only("id", "updated_at", "published_at").newest_first()

    def lastmod(self, item):
        return max(item.updated_at, item.published_at)


class _ListingSitemap(SiteURLSitemap):
    """Series, categories, tags: listed when they have public posts, dated by the newest change."""

    model = None
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        public = Q(posts__in=Post.objects.published())
        return (
            self.model.objects.annotate(last_modified=Max("posts__updated_at", filter=public))
            .filter(last_modified__isnull=False)
            .order_by("pk")
        )


class SeriesSitemap(_ListingSitemap):
    model = Series
    priority = 0.6


class CategorySitemap(_ListingSitemap):
    model = Category


class TagSitemap(_ListingSitemap):
    model = Tag
    priority = 0.3


SITEMAPS = {
    "posts": PostSitemap,
    "series": SeriesSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
}
