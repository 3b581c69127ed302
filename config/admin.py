"""The admin site: named after the blog, the author's sections first, and a desk on its index
with what the author does every day (write, finish drafts, moderate, see what is read)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# Apps in the order the author needs them; any other app follows in Django's order.
APP_ORDER = ["blog", "accounts", "auth", "axes"]
DESK_MOST_READ = 5


class BlogAdminSite(admin.AdminSite):
    site_header = format_lazy(_("{site} admin"), site=settings.SITE_TITLE_ZH)
    site_title = settings.SITE_TITLE_ZH
    index_title = _("Writing desk")
    enable_nav_sidebar = False  # the post list needs the width at 1280 px

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        rank = {label: index for index, label in enumerate(APP_ORDER)}
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(APP_ORDER)))

    def index(self, request, extra_context=None):
        return super().index(request, {"desk": self.desk(request), **(extra_context or {})})

    def desk(self, request) -> dict | None:
        """Counts and links for the desk (three queries), or None for staff who cannot see posts."""
        from blog.models import Comment, Post

        if not request.user.has_perm("blog.view_post"):
            return None
        since = timezone.localdate() - timedelta(days=6)
        most_read = (
            Post.objects.with_recent_reads(since)
            .filter(recent_reads__gt=0)
            .only("id", "title")
            .order_by("-recent_reads", "-id")[:DESK_MOST_READ]
        )
        return {
            "drafts": Post.objects.filter(status=Post.Status.DRAFT).count(),
            "held_comments": Comment.objects.filter(status=Comment.Status.PENDING).count(),
            "most_read": list(most_read),
        }
