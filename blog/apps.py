from django.apps import AppConfig
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
        from . import mathjax, signals  # noqa: F401  (a system check; cache invalidation)

        post_migrate.connect(_repair_search_index, sender=self)
