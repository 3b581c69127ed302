"""Data for the sidebar shown on every public page: cached, recomputed when content changes."""

from django.conf import settings
from django.db.models import Count, Q

from .cache import cached
from .models import Category, Comment, Post, Series


def widgets() -> dict:
    # Short timeout: a scheduled post goes public without any save to invalidate the cache.
    return cached("sidebar", _compute, timeout=300)


def _compute() -> dict:
    public = Q(posts__in=Post.objects.published())
    return {
        "recent_posts": list(
            Post.objects.published().newest_first().only("id", "title", "published_at")[:8]
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
    }
