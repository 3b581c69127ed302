"""RSS feeds. Every URL in them is absolute from settings.SITE_URL, never the request's Host."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Comment


class CommentsFeed(Feed):
    """The latest approved comments on public posts; commenters' emails never appear."""

    title = _("Scientific Spaces: recent comments")
    description = _("The latest comments on 科学空间|Scientific Spaces.")
    limit = 30

    def link(self):
        return settings.SITE_URL + reverse("blog:post_list")

    def feed_url(self):
        return settings.SITE_URL + reverse("blog:comments_feed")

    def items(self):
        return (
            Comment.objects.public()
            .select_related("post")
            .order_by("-created_at", "-id")[: self.limit]
        )

    def item_title(self, comment):
        return _("%(name)s on “%(title)s” (#%(number)s)") % {
            "name": comment.author_name,
            "title": comment.post.title,
            "number": comment.number,
        }

    def item_description(self, comment):
        return comment.body_html

    def item_link(self, comment):
        return settings.SITE_URL + comment.get_absolute_url()

    def item_author_name(self, comment):
        return comment.author_name

    def item_pubdate(self, comment):
        return comment.created_at
