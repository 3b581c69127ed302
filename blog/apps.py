from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _repair_search_index(sender, using, plan=None, **kwargs):
    """Recreate search triggers that a SQLite table rebuild in a later migration dropped."""
    from django.db import connections

    from . import search_index

    connection = connections[using]
    with connection.cursor() as cursor:
        if "blog_post" not in connection.introspection.table_names(cursor):
            return
        columns = connection.introspection.get_table_description(cursor, "blog_post")
    if any(column.name == "search_text" for column in columns):  # migrated far enough
        search_index.ensure(connection)


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = _("Blog")

    def ready(self):
        from django.contrib.auth import get_user_model

        from caching.generation import register_due
        from caching.invalidation import invalidate_on

        from .models import Authorship, Category, Comment, Post, PostNote, Series, Tag

        for model in (Post, Post.tags.through, Authorship, PostNote, Series, Category, Tag):
            invalidate_on(model)
        # A held comment changes no public page (moderation moves the generation itself).
        invalidate_on(
            Comment,
            unless=lambda comment, created, fields: (
                created and comment.status != Comment.Status.APPROVED
            ),
        )
        # Authors' names and homepages show in bylines, citations, feeds and JSON-LD; a login
        # only stamps last_login.
        invalidate_on(
            get_user_model(), unless=lambda user, created, fields: fields == {"last_login"}
        )
        register_due(Post.objects.next_publication)
        from .clients import check_client_address
        from .mathjax import check_node

        checks.register(check_client_address, checks.Tags.security)
        checks.register(check_node)

        post_migrate.connect(_repair_search_index, sender=self)
