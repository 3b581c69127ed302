"""Data for the sidebar shown on every public page: cached, recomputed when content changes."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from caching.store import cached

from .models import Category, Comment, Post, Series


def widgets() -> dict:
    # Short timeout: a scheduled post goes public without any save to invalidate the cache.
    return cached("sidebar", _compute, timeout=300)


def _compute() -> dict:
    public = Q(posts__in=Post.objects.published())
    return {
        "recent_posts": list(
            Post.objects.published()
            .articles()
            .newest_first()
            .only("id", "title", "published_at")[:8]
        ),
        "recent_comments": list(Comment.objects.recent(settings.BLOG_RECENT_COMMENTS)),
        "categories": list(
            Category.objects.annotate(post_count=Count("posts", filter=public)).filter(
                post_count__gt=0
            )
        ),
        "series": list(
            Series.objects.annotate(post_count=Count("posts", filter=public))
            .filter(post_count__gt=0)
            .order_by("-post_count", "title")
        ),
        "popular": popular_posts(),
    }


def popular_posts(limit: int = 8, days: int = 30) -> dict:
    """热门文章: the most-read public posts of all time and of the last ``days`` days (from the
    daily tallies), both in one query: each post is ranked twice with window functions and kept
    if it is in either top ``limit``. Posts nobody has read yet are left out."""
    since = timezone.localdate() - timedelta(days=days - 1)
    ranked = list(
        Post.objects.published()
        .articles()
        .with_recent_reads(since)
        .annotate(
            all_time_rank=Window(RowNumber(), order_by=[F("reader_count").desc(), F("id").desc()]),
            recent_rank=Window(RowNumber(), order_by=[F("recent_reads").desc(), F("id").desc()]),
        )
        .filter(
            Q(all_time_rank__lte=limit, reader_count__gt=0)
            | Q(recent_rank__lte=limit, recent_reads__gt=0)
        )
        .only("id", "title", "reader_count")
        .order_by()
    )
    return {
        "all_time": sorted(
            (post for post in ranked if post.all_time_rank <= limit and post.reader_count > 0),
            key=lambda post: post.all_time_rank,
        ),
        "recent": sorted(
            (post for post in ranked if post.recent_rank <= limit and post.recent_reads > 0),
            key=lambda post: post.recent_rank,
        ),
        "days": days,
    }
