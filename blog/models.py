from dataclasses import dataclass
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from markdownx.models import MarkdownxField

from . import markup, mathjax
from .comments import threads

# Reads and tallies are models of their own module; imported here so that Django finds them.
from .tallies import ReadBatch, ReadDay  # noqa: F401

CHINESE_NUMERALS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 23 -> 二十三 (enough for any series: up to 99)."""
    if n < 10:
        return CHINESE_NUMERALS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_NUMERALS[tens]
    return f"{head}十{CHINESE_NUMERALS[ones] if ones else ''}"


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    # Kept from imported blogs (Typecho, WordPress) whose categories nest; pages list them flat.
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("blog:category_detail", args=[self.slug])


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("blog:tag_detail", args=[self.slug])


class Series(models.Model):
    class Numbering(models.TextChoices):
        ARABIC = "arabic", _('Arabic ("3、")')
        CHINESE = "chinese", _('Chinese ("(三)")')

    title = models.CharField(_("title"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    numbering = models.CharField(
        _("numbering"),
        max_length=10,
        choices=Numbering,
        default=Numbering.ARABIC,
        help_text=_("How part numbers are written in this series."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("blog:series_detail", args=[self.slug])

    def part_label(self, number: int) -> str:
        """The part number as this series writes it: "3、" or "(三)"."""
        if self.numbering == self.Numbering.CHINESE:
            return f"({chinese_numeral(number)})"
        return f"{number}、"


class PostQuerySet(models.QuerySet):
    def published(self):
        """The one definition of what the public sees: published and not scheduled for later."""
        return self.filter(status=Post.Status.PUBLISHED, published_at__lte=timezone.now())

    def next_publication(self):
        """When the next scheduled post goes public (a datetime), or None."""
        return (
            self.filter(status=Post.Status.PUBLISHED, published_at__gt=timezone.now())
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
        )

    def for_cards(self):
        """What a list card shows, in a constant number of queries however many posts."""
        return (
            self.select_related("category", "series")
            .prefetch_related(_authors_in_order())
            .with_comment_counts()
            .with_last_note()
        )

    def for_post_page(self):
        """The post page's post in one query: category, series, comment count and
        ``comments_have_math`` / ``comments_need_mathjax`` (whether an approved comment has math /
        has math left to the browser's MathJax). Its authors and tags
        are loaded when first used (``ordered_authors()``, ``tag_list``): most requests take the
        parts of the page that show them from the cache."""
        math = Comment.objects.approved().filter(post=OuterRef("pk"), has_math=True)
        return (
            self.select_related("category", "series")
            .with_comment_counts()
            .with_last_note()
            .annotate(
                comments_have_math=Exists(math),
                comments_need_mathjax=Exists(math.filter(math_typeset=False)),
            )
            .defer("body", "search_text")
        )

    def articles(self):
        """Posts, not pages: what lists, feeds and the sidebar show (a page has only its URL)."""
        return self.filter(is_page=False)

    def for_list(self):
        """Cards on list pages (pages left out): no need for the Markdown source or the body."""
        return self.articles().for_cards().defer("body", "body_html", "search_text")

    def with_comment_counts(self):
        """Annotate ``comment_count``: approved comments, counted in the same query."""
        approved = (
            Comment.objects.approved()
            .filter(post=models.OuterRef("pk"))
            .order_by()
            .values("post")
            .annotate(count=models.Count("pk"))
            .values("count")
        )
        return self.annotate(comment_count=Coalesce(models.Subquery(approved), 0))

    def with_last_note(self):
        """Annotate ``last_noted_at``: the date of the post's latest revision note, or None
        (``Post.revised_at`` reads it), in the same query."""
        latest = PostNote.objects.filter(post=OuterRef("pk")).order_by("-noted_at")
        return self.annotate(last_noted_at=Subquery(latest.values("noted_at")[:1]))

    def newest_first(self):
        return self.order_by("-published_at", "-id")

    def related_to(self, post, limit=10):
        """The ``limit`` posts to suggest under ``post``: parts of the same series (in order),
        then posts sharing more of its tags, then its category, then the newest. One query.

        Only candidates are ranked, not every post: the series, the posts sharing a tag (read
        from the tag index) and the ``limit`` newest posts of its category and of the blog. No
        other post can rank in the first ``limit`` (everything newer in its category, or newer at
        all, ranks above it), so the cost follows the tag's posts, not the blog's size.
        """
        tag_ids = [tag.pk for tag in post.tag_list]
        tagged = Post.tags.through.objects.filter(tag_id__in=tag_ids)
        same_series = Q(series_id=post.series_id) if post.series_id else Q(pk__in=[])
        same_category = Q(category_id=post.category_id) if post.category_id else Q(pk__in=[])
        newest = self.newest_first().values("pk")
        candidates = (
            same_series
            | Q(pk__in=tagged.values("post_id"))
            | Q(pk__in=newest[: limit + 1])
            | Q(pk__in=newest.filter(same_category)[: limit + 1])
        )
        shared_tags = (
            tagged.filter(post_id=OuterRef("pk"))
            .order_by()
            .values("post_id")
            .annotate(count=models.Count("*"))
            .values("count")
        )
        return (
            self.filter(candidates)
            .exclude(pk=post.pk)
            .annotate(
                in_series=models.Case(
                    models.When(same_series, then=1), default=0, output_field=models.IntegerField()
                ),
                series_position=models.Case(
                    models.When(same_series, then="series_part"), default=0
                ),
                shared_tags=Coalesce(models.Subquery(shared_tags), 0),
                in_category=models.Case(
                    models.When(same_category, then=1),
                    default=0,
                    output_field=models.IntegerField(),
                ),
            )
            .order_by(
                "-in_series",
                "series_position",
                "-shared_tags",
                "-in_category",
                "-published_at",
                "-id",
            )
            .only("id", "title", "published_at")[:limit]
        )

    def with_recent_reads(self, since):
        """Annotate ``recent_reads``: the reads counted from the day ``since`` on (daily tallies)."""
        tallies = (
            ReadDay.objects.filter(post=OuterRef("pk"), day__gte=since)
            .order_by()
            .values("post")
            .annotate(total=Sum("count"))
            .values("total")
        )
        return self.annotate(recent_reads=Coalesce(Subquery(tallies), 0))


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=300)
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Authorship",
        related_name="posts",
        verbose_name=_("authors"),
    )
    body = MarkdownxField(
        _("body"),
        help_text=_(
            "Markdown with LaTeX: $…$ inline, $$…$$ or \\begin{equation}…\\end{equation} "
            "displayed (\\label / \\eqref work). Put <!--more--> where the list teaser ends."
        ),
    )
    body_html = models.TextField(editable=False, default="")
    teaser_html = models.TextField(editable=False, default="")
    excerpt = models.TextField(editable=False, default="")
    # The body as plain text with TeX kept: what search indexes and cuts snippets from.
    search_text = models.TextField(editable=False, default="")
    has_math = models.BooleanField(editable=False, default=False)
    # body_html and teaser_html carry typeset math (blog/mathjax.py): the page loads no MathJax.
    math_typeset = models.BooleanField(editable=False, default=False)
    has_more = models.BooleanField(editable=False, default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(
        _("publication date"),
        default=timezone.now,
        help_text=_("A date in the future schedules the post: it appears at that time."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("category"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts", verbose_name=_("tags"))
    # PROTECT: a series with posts is not deleted (that would drop their part numbers; the
    # series_and_part_together constraint refuses a part without a series). Move the posts out.
    series = models.ForeignKey(
        Series,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("series"),
    )
    series_part = models.PositiveSmallIntegerField(
        _("part"), null=True, blank=True, help_text=_("Its number within the series (1, 2, …).")
    )
    reader_count = models.PositiveBigIntegerField(_("readers"), default=0)
    comments_open = models.BooleanField(_("comments open"), default=True)
    show_toc = models.BooleanField(
        _("table of contents"),
        default=False,
        help_text=_(
            "Show a table of contents made of the headings (## to ####): beside the article on "
            "wide screens, folded above it on phones."
        ),
    )
    # The headings as nested links, built with body_html (shown when show_toc is on).
    toc_html = models.TextField(editable=False, default="")
    license_name = models.CharField(
        _("licence"),
        max_length=100,
        blank=True,
        help_text=_("Leave both licence fields empty for the site's licence."),
    )
    license_url = models.URLField(_("licence URL"), blank=True)
    is_page = models.BooleanField(
        _("page"),
        default=False,
        help_text=_("A standalone page (e.g. About): kept out of post lists and feeds."),
    )
    source_key = models.CharField(
        _("source key"),
        max_length=255,
        blank=True,
        default="",
        editable=False,
        help_text=_("Where an imported post came from; re-running an import updates this post."),
    )

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        # Public posts newest first, in exactly the list order (the id breaks ties): a list page
        # reads its ten rows from the index instead of sorting every public post.
        indexes = [models.Index(fields=["status", "-published_at", "-id"], name="post_public_list")]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "series_part"], name="unique_part_per_series"
            ),
            models.CheckConstraint(
                condition=Q(series__isnull=True, series_part__isnull=True)
                | Q(series__isnull=False, series_part__isnull=False),
                name="series_and_part_together",
                violation_error_message=_("A series post needs a part number, and vice versa."),
            ),
            models.UniqueConstraint(
                fields=["source_key"], condition=~Q(source_key=""), name="unique_source_key"
            ),
            models.CheckConstraint(
                condition=Q(license_name="", license_url="")
                | (~Q(license_name="") & ~Q(license_url="")),
                name="license_name_and_url_together",
                violation_error_message=_("A post's own licence needs both a name and a URL."),
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.render()
        updating = not self._state.adding and self.pk is not None and not kwargs.get("force_insert")
        if updating and kwargs.get("update_fields") is None:
            # reader_count only ever changes by database-side increments (blog/readers/): saving
            # a post loaded a moment ago must not write its stale count back over new reads.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "reader_count"
            ]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {
                *update_fields,
                "body_html",
                "teaser_html",
                "excerpt",
                "search_text",
                "has_math",
                "math_typeset",
                "has_more",
                "toc_html",
            }
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("blog:post_detail", args=[self.pk])

    def render(self):
        """Store the HTML of the body and teaser: pages never render Markdown per request."""
        render_posts([self])

    @property
    def math_fonts(self) -> list[str]:
        """MathJax's fonts this post's typeset math uses (preloaded by its page)."""
        return mathjax.fonts_used(self.body_html)

    @property
    def needs_mathjax(self) -> bool:
        """Whether the page must load MathJax to typeset this post (no Node when it was saved)."""
        return self.has_math and not self.math_typeset

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    @property
    def revised_at(self):
        """When the post last changed in a way its author announced: the date of its latest
        revision note (never before publication), else its publication date. Plain edits do not
        count. Read from ``with_last_note()``, else loaded once (one query)."""
        if not hasattr(self, "last_noted_at"):
            self.last_noted_at = max((note.noted_at for note in self.notes.all()), default=None)
        if self.last_noted_at is None:
            return self.published_at
        return max(self.last_noted_at, self.published_at)

    @property
    def license(self) -> "License":
        """The post's own licence, else the site's (``settings.BLOG_LICENSE``)."""
        if self.license_url:
            return License(self.license_name, self.license_url)
        return License.of_site()

    @property
    def series_label(self) -> str:
        return self.series.part_label(self.series_part) if self.series_id else ""

    def ordered_authors(self) -> list:
        """Authors in byline order: from the prefetch made by ``for_cards()`` when there is one,
        else loaded once (one query) and kept on the instance."""
        models.prefetch_related_objects([self], _authors_in_order())
        return [authorship.author for authorship in self.authorship_set.all()]

    @property
    def note_list(self) -> list:
        """The revision notes in date order; no query for a post annotated without any."""
        if getattr(self, "last_noted_at", True) is None:
            return []
        models.prefetch_related_objects([self], "notes")
        return list(self.notes.all())

    @property
    def tag_list(self) -> list:
        """The post's tags by name: prefetched ones, else loaded once and kept on the instance."""
        models.prefetch_related_objects([self], "tags")
        return list(self.tags.all())

    def series_neighbours(self):
        """(parts in order, previous part, next part) among the series' public posts. A post that
        is not public yet (a draft or scheduled post, seen by staff) is shown in its place among
        them, as it will be once published."""
        parts = list(
            Post.objects.published()
            .filter(series_id=self.series_id)
            .order_by("series_part")
            .only("id", "title", "series_part", "series_id")
        )
        if all(part.pk != self.pk for part in parts):
            parts = sorted([*parts, self], key=lambda part: part.series_part)
        index = next(i for i, part in enumerate(parts) if part.pk == self.pk)
        previous = parts[index - 1] if index > 0 else None
        following = parts[index + 1] if index + 1 < len(parts) else None
        return parts, previous, following

    def adjacent(self):
        """The previous (older) and next (newer) public posts by publication date."""
        public = Post.objects.published().only("id", "title", "published_at")
        older = (
            public.filter(
                Q(published_at__lt=self.published_at)
                | Q(published_at=self.published_at, id__lt=self.pk)
            )
            .order_by("-published_at", "-id")
            .first()
        )
        newer = (
            public.filter(
                Q(published_at__gt=self.published_at)
                | Q(published_at=self.published_at, id__gt=self.pk)
            )
            .order_by("published_at", "id")
            .first()
        )
        return older, newer


@dataclass(frozen=True)
class License:
    """A licence as pages, feeds and JSON-LD name it: "CC BY-NC-SA 4.0" and its URL."""

    name: str
    url: str

    @classmethod
    def of_site(cls) -> "License":
        return cls(**settings.BLOG_LICENSE)


class PostNote(models.Model):
    """A public revision note ("更新：…"), shown dated at the end of its post. The latest one
    dates the post's revision in feeds (Atom ``updated``), citations and JSON-LD; an edit
    without a note changes none of them."""

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="notes", verbose_name=_("post")
    )
    noted_at = models.DateTimeField(_("date"), default=timezone.now)
    text = models.TextField(
        _("note"), help_text=_("Plain text, shown as written; web addresses become links.")
    )

    class Meta:
        ordering = ["noted_at", "id"]
        verbose_name = _("revision note")
        verbose_name_plural = _("revision notes")
        indexes = [models.Index(fields=["post", "-noted_at"], name="postnote_latest")]

    def __str__(self):
        return f"{self.post_id} · {timezone.localdate(self.noted_at)}"

    def clean(self):
        if self.noted_at and self.noted_at > timezone.now():
            raise ValidationError({"noted_at": _("A revision note cannot be dated in the future.")})


def render_posts(posts: list[Post]) -> None:
    """``Post.render`` for many posts, their math typeset in one request to MathJax."""
    rendered = [markup.render_post(post.body) for post in posts]
    with_math = [(post, r) for post, r in zip(posts, rendered, strict=True) if r.has_math]
    typeset = mathjax.typeset_posts([(r.html, r.teaser_html, r.toc_html) for _, r in with_math])
    typeset_of = {id(post): result for (post, _), result in zip(with_math, typeset, strict=True)}
    for post, r in zip(posts, rendered, strict=True):
        done = typeset_of.get(id(post))
        post.body_html = done.html if done else r.html
        post.teaser_html = done.teaser_html if done else r.teaser_html
        post.toc_html = done.toc_html if done else r.toc_html
        post.math_typeset = done is not None
        post.excerpt = r.excerpt
        post.search_text = r.search_text
        post.has_math = r.has_math
        post.has_more = r.has_more


def _authors_in_order():
    return models.Prefetch(
        "authorship_set",
        queryset=Authorship.objects.select_related("author").order_by("order", "id"),
    )


class Authorship(models.Model):
    """Orders a post's authors as its byline and citations list them."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("author")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("authorship")
        verbose_name_plural = _("authorships")
        constraints = [
            models.UniqueConstraint(fields=["post", "author"], name="unique_author_per_post")
        ]

    def __str__(self):
        return f"{self.author} · {self.post}"


class OldPath(models.Model):
    """An address of the blog a post was imported from (``/?p=12``, ``/2024/05/hello/``) that
    answers with a permanent redirect to the post (``blog.middleware.OldPathRedirectMiddleware``).

    ``path`` is stored as ``normalize`` makes it: percent-escapes decoded, no ``/index.php``
    prefix, no trailing slash; a query string (``?p=12``) only for the names in ``QUERY_NAMES``.
    """

    # The query parameters that name a post on an old blog's home page (WordPress's ?p=, ?page_id=).
    QUERY_NAMES = ("p", "page_id")

    path = models.CharField(_("old address"), max_length=500, unique=True)
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="old_paths", verbose_name=_("post")
    )

    class Meta:
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")

    def __str__(self):
        return self.path

    @staticmethod
    def normalize(address: str) -> str:
        """``address`` (a path, maybe with a query string) as stored and looked up."""
        path, _sep, query = address.partition("?")
        # Old blogs answer the same address behind their front script (/index.php/archives/12/).
        path = unquote(path).removeprefix("/index.php").rstrip("/") or "/"
        return f"{path}?{query}" if query else path


class CommentQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Comment.Status.APPROVED)

    def public(self):
        """Approved comments on public posts: what the sidebar widget and the feed show."""
        return self.approved().filter(post__in=Post.objects.published())

    def recent(self, limit: int):
        """The latest public comments with their post's title, in one query."""
        return (
            self.public()
            .select_related("post")
            .only("id", "number", "author_name", "excerpt", "created_at", "post__id", "post__title")
            .order_by("-created_at", "-id")[:limit]
        )

    def roots(self):
        """The comments of this queryset (one post's shown comments) shown at the top level of
        its thread: those whose parent is not among them (none, held, spam or deleted)."""
        return self.exclude(Exists(self.filter(pk=OuterRef("parent_id"))))

    def thread(self, max_depth: int) -> list["Comment"]:
        """The whole thread: top-level comments in number order, each with ``.children`` filled
        (one query; see ``blog.comments.threads.tree`` for how replies nest)."""
        return threads.tree(self, max_depth)

    def thread_pages(self, per_page: int, max_depth: int) -> threads.ThreadPaginator:
        """The thread in pages of ``per_page`` top-level comments, each with all its replies:
        ``.page(n).threads`` is page n's part of ``thread()``, fetched in two queries
        (``.page(n)`` raises ``InvalidPage`` past the end)."""
        return threads.ThreadPaginator(self, per_page, max_depth)

    def page_of(self, comment: "Comment", per_page: int) -> int:
        """The number of the thread page that shows ``comment`` (one of these comments)."""
        return threads.page_of(self, comment, per_page)


class Comment(models.Model):
    """A reader's comment (or a staff reply) on a post, numbered #1, #2, … within the post."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        SPAM = "spam", _("Spam")

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="comments", verbose_name=_("post")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("in reply to"),
    )
    number = models.PositiveIntegerField(
        _("number"), editable=False, help_text=_("Its number #n within the post.")
    )
    author_name = models.CharField(_("name"), max_length=60)
    email = models.EmailField(_("email"), help_text=_("Never shown publicly."))
    website = models.URLField(_("website"), max_length=200, blank=True)
    body = models.TextField(
        _("comment"),
        help_text=_("Markdown with $…$ and $$…$$ math; HTML is shown as typed, not interpreted."),
    )
    body_html = models.TextField(editable=False, default="")
    excerpt = models.CharField(_("excerpt"), editable=False, max_length=200, default="")
    has_math = models.BooleanField(editable=False, default=False)
    # body_html carries typeset math (done when the comment is approved, blog/mathjax.py).
    math_typeset = models.BooleanField(editable=False, default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(_("posted"), default=timezone.now)
    approved_at = models.DateTimeField(_("first approved"), null=True, blank=True, editable=False)
    client_hash = models.CharField(
        _("client fingerprint"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("A keyed hash of the address it came from; the address is not stored."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("staff author"),
    )
    is_staff_reply = models.BooleanField(
        _("staff reply"), default=False, help_text=_("Written by the site's staff; marked as such.")
    )
    notify_on_reply = models.BooleanField(
        _("email on reply"),
        default=False,
        help_text=_("The commenter asked for an email when someone replies."),
    )
    source_key = models.CharField(
        _("source key"),
        max_length=255,
        blank=True,
        default="",
        editable=False,
        help_text=_("Where an imported comment came from; re-running an import updates it."),
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["post", "number"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [
            models.Index(fields=["post", "status", "number"], name="comment_thread"),
            models.Index(fields=["status", "-created_at"], name="comment_recent"),
            models.Index(
                fields=["email"],
                condition=Q(status="approved"),
                name="comment_known_email",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="unique_comment_number"),
            models.CheckConstraint(
                condition=Q(is_staff_reply=False) | Q(user__isnull=False),
                name="staff_reply_has_user",
            ),
            models.UniqueConstraint(
                fields=["source_key"], condition=~Q(source_key=""), name="unique_comment_source_key"
            ),
        ]

    def __str__(self):
        return f"#{self.number} {self.author_name}"

    def save(self, *args, **kwargs):
        self.render()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {
                *update_fields,
                "body_html",
                "excerpt",
                "has_math",
                "math_typeset",
            }
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        """A permalink that redirects to the comment page showing it: building it costs no
        query, so lists (sidebar, feed) link comments for free."""
        return reverse("blog:comment_permalink", args=[self.post_id, self.number])

    def render(self):
        """Store the sanitised HTML and a plain-text excerpt of the body; an approved comment's
        math is typeset (a held one's is not: anyone can post, only staff make Node run)."""
        render_comments([self])

    @property
    def anchor(self) -> str:
        return f"comment-{self.number}"

    def page_number(self) -> int:
        """The number of the comment page showing this approved comment (two queries)."""
        shown = Comment.objects.approved().filter(post_id=self.post_id)
        return shown.page_of(self, settings.BLOG_COMMENTS_PER_PAGE)

    def get_page_url(self) -> str:
        """Where ``get_absolute_url()`` leads: the comment's page, at its anchor."""
        return f"{comment_page_url(self.post_id, self.page_number())}#{self.anchor}"


def render_comments(comments: list[Comment]) -> None:
    """``Comment.render`` for many comments, their math typeset in one request to MathJax.

    TeX past the comment limits (a row imported or stored before them) is never given to the
    server's MathJax; the browser's pre-filter shows it as an error instead.
    """
    from .comments.html import render
    from .comments.tex import comment_problem

    rendered = [render(comment.body) for comment in comments]
    to_typeset = [
        (comment, r)
        for comment, r in zip(comments, rendered, strict=True)
        if r.has_math and comment.status == Comment.Status.APPROVED and not comment_problem(r.html)
    ]
    typeset = mathjax.typeset_comments([(r.html, c.number) for c, r in to_typeset])
    typeset_of = {id(c): html for (c, _), html in zip(to_typeset, typeset, strict=True)}
    for comment, r in zip(comments, rendered, strict=True):
        done = typeset_of.get(id(comment))
        comment.body_html = done or r.html
        comment.excerpt = r.excerpt
        comment.has_math = r.has_math
        comment.math_typeset = done is not None


def comment_page_url(post_id: int, page: int) -> str:
    """Page ``page`` of a post's comments: page 1 is the post's own URL."""
    if page == 1:
        return reverse("blog:post_detail", args=[post_id])
    return reverse("blog:post_comment_page", args=[post_id, page])
