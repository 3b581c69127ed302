from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from caching.pages import public_page

from . import feeds
from .sitemaps import SITEMAPS
from .views import comments, downloads, lists, posts, readers

app_name = "blog"

urlpatterns = [
    path("", lists.post_list, name="post_list"),
    path("page/<int:page>/", lists.post_list, name="post_list_page"),
    path("archives/", lists.archive_index, name="archive_index"),
    path("archives/<int:pk>/", posts.post_detail, name="post_detail"),
    path(
        "archives/<int:pk>/comment-page-<int:page>/",
        posts.post_comment_page,
        name="post_comment_page",
    ),
    path(
        "archives/<int:pk>/comment/<int:number>/",
        comments.comment_permalink,
        name="comment_permalink",
    ),
    path("archives/<int:pk>/cite.bib", downloads.post_cite, {"ext": "bib"}, name="post_cite_bib"),
    path("archives/<int:pk>/cite.ris", downloads.post_cite, {"ext": "ris"}, name="post_cite_ris"),
    path(
        "archives/<int:pk>/cite.json", downloads.post_cite, {"ext": "json"}, name="post_cite_json"
    ),
    path("archives/<int:pk>/qr.svg", downloads.post_qr, name="post_qr"),
    path("archives/<int:pk>/comments/", comments.comment_create, name="comment_create"),
    path("archives/<int:pk>/comments/preview", comments.comment_preview, name="comment_preview"),
    path("archives/<int:pk>/comments/token", comments.comment_token, name="comment_token"),
    path(
        "comments/unsubscribe/<str:token>/",
        comments.comment_unsubscribe,
        name="comment_unsubscribe",
    ),
    path("archives/<int:pk>/read", readers.post_read, name="post_read"),
    path("archives/<int:year>/<int:month>/", lists.archive_month, name="archive_month"),
    path("series/", lists.series_index, name="series_index"),
    path("series/<str:slug>/", lists.series_detail, name="series_detail"),
    path(
        "series/<str:slug>/cite.bib", downloads.series_cite, {"ext": "bib"}, name="series_cite_bib"
    ),
    path(
        "series/<str:slug>/cite.ris", downloads.series_cite, {"ext": "ris"}, name="series_cite_ris"
    ),
    path(
        "series/<str:slug>/cite.json",
        downloads.series_cite,
        {"ext": "json"},
        name="series_cite_json",
    ),
    path("category/<str:slug>/", lists.category_detail, name="category_detail"),
    path("tag/<str:slug>/", lists.tag_detail, name="tag_detail"),
    path("search/", lists.search, name="search"),
    # Feeds: RSS 2.0 at feed/, Atom at feed/atom/, for the site and each category, tag, series;
    # like every public page they are served from the page cache (caching.pages).
    path("feed/", public_page(feeds.LatestPostsFeed()), name="feed"),
    path("feed/atom/", public_page(feeds.LatestPostsAtomFeed()), name="feed_atom"),
    path("feed/comments/", public_page(feeds.CommentsFeed()), name="comments_feed"),
    path("category/<str:slug>/feed/", public_page(feeds.CategoryFeed()), name="category_feed"),
    path(
        "category/<str:slug>/feed/atom/",
        public_page(feeds.CategoryAtomFeed()),
        name="category_feed_atom",
    ),
    path("tag/<str:slug>/feed/", public_page(feeds.TagFeed()), name="tag_feed"),
    path("tag/<str:slug>/feed/atom/", public_page(feeds.TagAtomFeed()), name="tag_feed_atom"),
    path("series/<str:slug>/feed/", public_page(feeds.SeriesFeed()), name="series_feed"),
    path(
        "series/<str:slug>/feed/atom/", public_page(feeds.SeriesAtomFeed()), name="series_feed_atom"
    ),
    path(
        "sitemap.xml",
        public_page(sitemap_views.sitemap, query=("p",)),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path("robots.txt", downloads.robots_txt, name="robots_txt"),
]
