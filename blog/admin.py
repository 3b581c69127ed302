from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from markdownx.admin import MarkdownxModelAdmin

from . import mathjax, readers
from .comments import workflow
from .comments.tex import comment_problem
from .markup import tex_problems
from .models import Authorship, Category, Comment, OldPath, Post, PostNote, Series, Tag
from .sparkline import sparkline_svg

TREND_DAYS = 90
TOLD_NO_NODE = "blog:told-no-node"


def say_if_math_left_to_browsers(request, untypeset: bool) -> None:
    """When math just saved could not be typeset on the server, say so and why: where Node is
    missing once per session (it stays so until Node is installed), where it failed every time.
    Nothing when server typesetting is off on purpose (``BLOG_MATHJAX_NODE`` empty)."""
    if not untypeset or not settings.BLOG_MATHJAX_NODE:
        return
    if not mathjax.missing():
        messages.warning(
            request,
            _(
                "MathJax failed to typeset this math on the server (see the log): readers' "
                "browsers typeset it until it is saved again or `manage.py typeset_math` runs."
            ),
        )
    elif not request.session.get(TOLD_NO_NODE):
        request.session[TOLD_NO_NODE] = True
        messages.warning(
            request,
            _(
                "Node or MathJax's npm packages are missing on the server: readers' browsers "
                "typeset the math. Run `make install`, then `manage.py typeset_math`."
            ),
        )


def _math_left_to_browsers(comments) -> bool:
    """Whether any of these comments is approved with math the server did not typeset (one
    whose TeX breaks the comment limits is left to the browser's limits on purpose)."""
    untypeset = comments.filter(status=Comment.Status.APPROVED, has_math=True, math_typeset=False)
    return any(not comment_problem(html) for html in untypeset.values_list("body_html", flat=True))


class AuthorshipFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """A post keeps at least one author: its byline and citations name one."""
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data.get("author") and not self._should_delete_form(form)
        ]
        if not kept:
            raise forms.ValidationError(_("A post needs at least one author."))


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    formset = AuthorshipFormSet
    extra = 0
    min_num = 1
    autocomplete_fields = ["author"]
    verbose_name = _("author")
    verbose_name_plural = _("authors (in byline order)")


class PostNoteInline(admin.TabularInline):
    model = PostNote
    extra = 0
    verbose_name_plural = _("revision notes (shown dated at the end of the post)")


class PlainHelpTextMixin:
    """Show help texts as the text they are: the admin treats help text as HTML, and the body's
    help names the ``<!--more-->`` marker, which the browser took for an HTML comment."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and field.help_text:
            field.help_text = escape(field.help_text)
        return field


@admin.register(Post)
class PostAdmin(PlainHelpTextMixin, MarkdownxModelAdmin):
    list_display = ("title", "status_label", "published_at", "series_and_part", "reader_count")
    list_filter = ("status", "category", "series", "tags")
    list_select_related = ("series",)
    search_fields = ("title", "body")
    date_hierarchy = "published_at"
    autocomplete_fields = ["category", "series", "tags"]
    inlines = [AuthorshipInline, PostNoteInline]
    readonly_fields = ("reader_count", "reader_trend", "created_at", "updated_at")
    change_list_template = "admin/blog/post/change_list.html"
    fieldsets = (
        (None, {"fields": ("title", "body", "show_toc")}),
        (
            _("Publishing"),
            {
                "fields": (
                    "status",
                    "published_at",
                    "comments_open",
                    "is_page",
                    "created_at",
                    "updated_at",
                )
            },
        ),
        (_("Filing"), {"fields": ("category", "tags", ("series", "series_part"))}),
        (_("Licence"), {"fields": (("license_name", "license_url"),)}),
        (_("Readers"), {"fields": ("reader_count", "reader_trend")}),
    )

    class Media:
        # The preview is the public article: same stylesheet, same MathJax configuration, which
        # admin-preview.js confines to the preview (it must come before MathJax).
        css = {"all": ("css/article.css", "css/admin-editor.css")}
        js = ("js/mathjax-config.js", "js/admin-preview.js", "mathjax/tex-chtml-full.js")

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, post):
        """Published, draft, or 定时 with the time a scheduled post goes public."""
        if post.status == Post.Status.PUBLISHED and not post.is_public:
            return format_html(
                '<span class="post-status-scheduled">{} {}</span>',
                _("Scheduled"),
                date_format(timezone.localtime(post.published_at), "SHORT_DATETIME_FORMAT"),
            )
        return post.get_status_display()

    @admin.display(description=_("series"), ordering="series__title")
    def series_and_part(self, post):
        if not post.series_id:
            return "—"
        return _("%(series)s, part %(part)s") % {
            "series": post.series.title,
            "part": post.series_part,
        }

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for problem in tex_problems(obj.body):
            messages.warning(request, _("TeX check: %(problem)s") % {"problem": problem})
        say_if_math_left_to_browsers(request, obj.needs_mathjax)

    @admin.display(description=_("Last 90 days"))
    def reader_trend(self, obj):
        """The post's daily reads as a sparkline (one query), with the figures in words."""
        if obj.pk is None:
            return "—"
        days = readers.daily_reads(obj.pk, TREND_DAYS)
        total = sum(count for _, count in days)
        summary = ngettext(
            "%(total)s read in the last %(days)s days",
            "%(total)s reads in the last %(days)s days",
            total,
        ) % {"total": total, "days": TREND_DAYS}
        if total:
            peak_day, peak = max(reversed(days), key=lambda item: item[1])
            summary += " · " + _("most on %(day)s: %(count)s") % {
                "day": date_format(peak_day, "SHORT_DATE_FORMAT"),
                "count": peak,
            }
        return format_html(
            '{}<div class="help">{}</div>',
            sparkline_svg([count for _, count in days], label=summary),
            summary,
        )

    def get_urls(self):
        most_read = self.admin_site.admin_view(self.most_read_view)
        return [path("most-read/", most_read, name="blog_post_most_read"), *super().get_urls()]

    def most_read_view(self, request):
        """The posts most read in the last seven days (today included), from the daily tallies."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        since = timezone.localdate() - timedelta(days=6)
        posts = (
            Post.objects.with_recent_reads(since)
            .filter(recent_reads__gt=0)
            .only("id", "title", "status", "published_at", "reader_count")
            .order_by("-recent_reads", "-reader_count", "-id")[:50]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Most read this week"),
            "opts": self.opts,
            "posts": posts,
            "since": since,
        }
        return TemplateResponse(request, "admin/blog/post/most_read.html", context)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, AuthorshipInline) and obj.pk is None and request.method == "GET":
            kwargs["initial"] = [{"author": request.user.pk}]  # a new post starts as the writer's
        return kwargs


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "numbering")
    search_fields = ("title",)
    prepopulated_fields = {"slug": ("title",)}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class OldPathForm(forms.ModelForm):
    class Meta:
        model = OldPath
        fields = ["path", "post"]

    def clean_path(self):
        """Stored as the redirect middleware looks it up, so a typed trailing slash or an
        escaped character still matches (and a duplicate is a form error, not a crash)."""
        return OldPath.normalize(self.cleaned_data["path"])


@admin.register(OldPath)
class OldPathAdmin(admin.ModelAdmin):
    """The redirects from an imported blog's addresses (import_typecho, import_wordpress)."""

    form = OldPathForm
    list_display = ("path", "post")
    search_fields = ("path", "post__title")
    autocomplete_fields = ["post"]


class CommentAdminForm(forms.ModelForm):
    staff_reply = forms.CharField(
        label=_("Reply"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Published at once as your reply (marked as the author's); "
            "replying to a held comment approves it."
        ),
    )

    class Meta:
        model = Comment
        fields = ["status", "author_name", "email", "website", "body", "notify_on_reply"]


@admin.register(Comment)
class CommentAdmin(PlainHelpTextMixin, admin.ModelAdmin):
    form = CommentAdminForm
    list_display = ("__str__", "rendered", "post", "status", "created_at", "reply_link")
    list_display_links = ("__str__",)
    list_filter = ("status", "is_staff_reply", "created_at")
    ordering = ("-created_at", "-id")  # newest first: what a moderator looks at
    list_select_related = ("post",)
    search_fields = ("author_name", "email", "body", "client_hash")
    date_hierarchy = "created_at"
    actions = ["approve", "mark_spam"]
    readonly_fields = (
        "post",
        "parent",
        "number",
        "created_at",
        "approved_at",
        "client_hash",
        "user",
        "is_staff_reply",
        "rendered",
    )
    fieldsets = (
        (None, {"fields": ("status", ("post", "number", "parent"), "body", "rendered")}),
        (
            _("Commenter"),
            {"fields": ("author_name", "email", "website", "notify_on_reply", "client_hash")},
        ),
        (_("History"), {"fields": ("created_at", "approved_at", "user", "is_staff_reply")}),
        (_("Reply"), {"fields": ("staff_reply",)}),
    )

    class Media:
        css = {"all": ("css/article.css",)}
        js = (
            "js/comment-tex.js",
            "js/mathjax-config.js",
            "js/admin-preview.js",
            "mathjax/tex-chtml-full.js",
        )

    def has_add_permission(self, request):
        return False  # comments come from the site; staff answer with the reply box

    def view_on_site(self, comment):
        # Only a published comment is on the site (its permalink is a 404 otherwise).
        return comment.get_absolute_url() if comment.status == Comment.Status.APPROVED else None

    @admin.display(description=_("as published"))
    def rendered(self, comment):
        # body_html was sanitised with nh3 when the comment was saved; .comment-body contains it
        # (article.css) and limits its TeX (static/js/comment-tex.js), as on the public page.
        return format_html(
            '<div class="comment-body article-body">{}</div>', mark_safe(comment.body_html)
        )

    @admin.display(description=_("Reply"))
    def reply_link(self, comment):
        url = reverse("admin:blog_comment_change", args=[comment.pk])
        return format_html('<a href="{}#id_staff_reply">{}</a>', url, _("Reply"))

    @admin.action(description=_("Approve selected comments"), permissions=["change"])
    def approve(self, request, queryset):
        count = workflow.approve(queryset)
        self.message_user(
            request,
            ngettext("%d comment approved.", "%d comments approved.", count) % count,
            messages.SUCCESS,
        )
        say_if_math_left_to_browsers(request, _math_left_to_browsers(queryset))

    @admin.action(description=_("Mark selected comments as spam"), permissions=["change"])
    def mark_spam(self, request, queryset):
        count = workflow.mark_spam(queryset)
        self.message_user(
            request,
            ngettext("%d comment marked as spam.", "%d comments marked as spam.", count) % count,
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "status" in form.changed_data and obj.status == Comment.Status.APPROVED:
            workflow.approve(Comment.objects.filter(pk=obj.pk))  # reply emails, approved_at
        saved = [obj.pk]
        reply_text = form.cleaned_data.get("staff_reply", "").strip()
        if reply_text:
            reply = workflow.staff_reply(obj, request.user, reply_text)
            saved.append(reply.pk)
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">#{}</a>',
                    _("Reply published:"),
                    reply.get_absolute_url(),
                    reply.number,
                ),
                messages.SUCCESS,
            )
        say_if_math_left_to_browsers(
            request, _math_left_to_browsers(Comment.objects.filter(pk__in=saved))
        )
