"""import_typecho: move a Typecho 1.x blog in, straight from its MySQL/MariaDB or SQLite database."""

from django.core.management.base import BaseCommand, CommandError

from blog.importers.command import add_import_arguments, run_import
from blog.importers.source import SourceError
from blog.importers.typecho import open_typecho

HELP = """\
Import a Typecho 1.x blog from its database: posts and pages (ids kept, so /archives/<cid>/
still works), categories with parents, tags, authors, comments with their threads and reader
counts. DATABASE_URL is mysql://user:password@host:port/name or sqlite:///path/to/typecho.db.

The import is one transaction; --dry-run runs it and rolls back, printing exactly what it would
do. Re-running updates what the last run wrote. See docs/import.md.
"""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        add_import_arguments(parser)
        parser.add_argument("database_url", metavar="DATABASE_URL")
        parser.add_argument(
            "--prefix", default="typecho_", help="Typecho's table prefix (default typecho_)."
        )

    def handle(self, *args, database_url, prefix, **options):
        try:
            with open_typecho(database_url, prefix) as source:
                run_import(self, source, options)
        except SourceError as error:
            raise CommandError(f"{error}; nothing imported.") from error
