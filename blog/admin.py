from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from markdownx.admin import MarkdownxModelAdmin

from .markup import tex_problems
from .models import Authorship, Category, Post, Series, Tag


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    extra = 0
    min_num = 1
    autocomplete_fields = ["author"]
    verbose_name = _("author")
    verbose_name_plural = _("authors (in byline order)")


@admin.register(Post)
class PostAdmin(MarkdownxModelAdmin):
    list_display = ("title", "status", "published_at", "series", "series_part", "reader_count")
    list_filter = ("status", "category", "series", "tags")
    list_select_related = ("series",)
    search_fields = ("title", "body")
    date_hierarchy = "published_at"
    autocomplete_fields = ["category", "series", "tags"]
    inlines = [AuthorshipInline]
    readonly_fields = ("reader_count", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("title", "body")}),
        (
            _("Publishing"),
            {"fields": ("status", "published_at", "comments_open", "created_at", "updated_at")},
        ),
        (_("Filing"), {"fields": ("category", "tags", ("series", "series_part"))}),
        (_("Readers"), {"fields": ("reader_count",)}),
    )

    class Media:
        # The preview is the public article: same stylesheet, same MathJax configuration.
        css = {"all": ("css/article.css", "css/admin-editor.css")}
        js = ("js/mathjax-config.js", "mathjax/tex-chtml-full.js", "js/admin-preview.js")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for problem in tex_problems(obj.body):
            messages.warning(request, _("TeX check: %(problem)s") % {"problem": problem})

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
