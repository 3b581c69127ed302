"""RSS 2.0 and Atom feeds for the whole site and for each category, tag and series.

Items carry the full post HTML with its math as MathML (``blog.mathjax.mathml_only``: feed readers
render it natively; an ``\\eqref`` is a "(n)" link to the equation on the post's page). A post saved
without Node still has its TeX, in ``\\(..\\)`` / ``\\[..\\]`` delimiters. Every URL is absolute
and built from ``settings.SITE_URL`` (``link``, ``feed_url`` and ``item_link`` return absolute
URLs, which the syndication framework then leaves alone instead of prefixing the request's Host);
relative links and images inside the HTML are made absolute too.

An entry's ``updated`` is its latest revision note's date (``Post.revised_at``): an edit without a
note does not bring the post back to readers. Licences: the site's in the channel's
``<copyright>`` (Atom ``<rights>``); each post's in Atom ``<rights>`` with an RFC 4946
``<link rel="license">``, and in RSS with the Creative Commons module's ``<creativeCommons:license>``.
"""

import re

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext_lazy as _

from .mathjax import mathml_only
from .models import Category, Comment, License, Post, Series, Tag
from .sharing import absolute_url

FEED_ITEMS = 20
CREATIVE_COMMONS_RSS = "http://backend.userland.com/creativeCommonsRssModule"

_ROOT_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')
_FRAGMENT = re.compile(r'(\shref=")#')


def absolute_html(html: str, page_url: str) -> str:
    """Make root-relative links and images and in-page anchors absolute for feed readers."""
    html = _ROOT_RELATIVE.sub(lambda m: f"{m[1]}{settings.SITE_URL}/", html)
    return _FRAGMENT.sub(lambda m: f"{m[1]}{page_url}#", html)


def license_text(license) -> str:
    return _("Licensed under %(name)s: %(url)s") % {"name": license.name, "url": license.url}


class RssWithLicenseFeed(Rss201rev2Feed):
    """RSS 2.0 whose items name their licence (``<creativeCommons:license>``)."""

    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:creativeCommons": CREATIVE_COMMONS_RSS}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("creativeCommons:license", item["license_url"])


class AtomWithContentFeed(Atom1Feed):
    """Atom with the full HTML in ``<content type="html">`` (Django writes only ``<summary>``)
    and each entry's licence as ``<link rel="license">`` (RFC 4946)."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})
        handler.addQuickElement("link", None, {"rel": "license", "href": item["license_url"]})


class LatestPostsFeed(Feed):
    """The newest public posts of the site; subclasses narrow ``posts()`` to one object."""

    feed_type = RssWithLicenseFeed
    feed_url_name = "blog:feed"
    language = "zh-cn"

    # The feed as a whole.
    def title(self, obj):
        return settings.SITE_NAME

    def description(self, obj):
        return settings.SITE_TAGLINE

    def subtitle(self, obj):
        return self.description(obj)

    def link(self, obj):
        return absolute_url(reverse("blog:post_list"))

    def feed_copyright(self, obj):
        return license_text(License.of_site())

    def feed_url(self, obj):
        return absolute_url(reverse(self.feed_url_name, args=self.url_args(obj)))

    def url_args(self, obj):
        return []

    def posts(self, obj):
        return Post.objects.published()

    def items(self, obj):
        return list(
            self.posts(obj)
            .filter(is_page=False)
            .for_cards()
            .prefetch_related("tags")
            .newest_first()[:FEED_ITEMS]
        )

    # Each post.
    def item_title(self, item):
        # Plain text, escaped once by the XML writer (Django's default escapes twice, which
        # Atom readers and feedparser show as a literal "&lt;").
        return item.title

    def item_link(self, item):
        return absolute_url(item.get_absolute_url())

    def item_description(self, item):
        return absolute_html(mathml_only(item.body_html), self.item_link(item))

    def item_author_name(self, item):
        return ", ".join(author.public_name for author in item.ordered_authors())

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.revised_at

    def item_copyright(self, item):
        return license_text(item.license)

    def item_extra_kwargs(self, item):
        return {"license_url": item.license.url}

    def item_categories(self, item):
        names = [item.category.name] if item.category else []
        return names + [tag.name for tag in item.tags.all()]


class LatestPostsAtomFeed(LatestPostsFeed):
    feed_type = AtomWithContentFeed
    feed_url_name = "blog:feed_atom"

    def item_description(self, item):
        return item.excerpt  # Atom's <summary>; the full HTML goes into <content>

    def item_extra_kwargs(self, item):
        content = absolute_html(mathml_only(item.body_html), self.item_link(item))
        return {**super().item_extra_kwargs(item), "content": content}


class _ObjectFeed:
    """A feed of one category, tag or series: found by slug, titled and linked after it."""

    model = None

    def get_object(self, request, slug):
        return get_object_or_404(self.model, slug=slug)

    def url_args(self, obj):
        return [obj.slug]

    def link(self, obj):
        return absolute_url(obj.get_absolute_url())

    def title(self, obj):
        return f"{obj} - {settings.SITE_NAME}"

    def description(self, obj):
        return obj.description or settings.SITE_TAGLINE


class CategoryFeed(_ObjectFeed, LatestPostsFeed):
    model = Category
    feed_url_name = "blog:category_feed"

    def posts(self, obj):
        return Post.objects.published().filter(category=obj)


class CategoryAtomFeed(CategoryFeed, LatestPostsAtomFeed):
    feed_url_name = "blog:category_feed_atom"


class TagFeed(_ObjectFeed, LatestPostsFeed):
    model = Tag
    feed_url_name = "blog:tag_feed"

    def posts(self, obj):
        return Post.objects.published().filter(tags=obj)

    def description(self, obj):
        return _("Posts tagged “%(tag)s”") % {"tag": obj.name}


class TagAtomFeed(TagFeed, LatestPostsAtomFeed):
    feed_url_name = "blog:tag_feed_atom"


class SeriesFeed(_ObjectFeed, LatestPostsFeed):
    model = Series
    feed_url_name = "blog:series_feed"

    def posts(self, obj):
        return Post.objects.published().filter(series=obj)


class SeriesAtomFeed(SeriesFeed, LatestPostsAtomFeed):
    feed_url_name = "blog:series_feed_atom"


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
        return absolute_html(mathml_only(comment.body_html), self.item_link(comment))

    def item_link(self, comment):
        return settings.SITE_URL + comment.get_absolute_url()

    def item_guid(self, comment):
        # What the link was before comments had pages: feed readers keep recognising old items.
        return f"{settings.SITE_URL}{comment.post.get_absolute_url()}#{comment.anchor}"

    item_guid_is_permalink = False

    def item_author_name(self, comment):
        return comment.author_name

    def item_pubdate(self, comment):
        return comment.created_at
