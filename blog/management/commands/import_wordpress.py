"""import_wordpress: move a WordPress blog in from its export file (WXR)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from blog.importers.command import add_import_arguments, run_import
from blog.importers.source import SourceError
from blog.importers.wordpress import open_wordpress

HELP = """\
Import a WordPress blog from its export file (Tools → Export → All content, WXR 1.2): posts and
pages (ids kept), categories with parents, tags, authors, comments with their threads, reader
counts of WP-PostViews-like plugins, math shortcodes as TeX; the old addresses (/?p=N,
/yyyy/mm/slug/, …) redirect to the posts.

The import is one transaction; --dry-run runs it and rolls back, printing exactly what it would
do. Re-running updates what the last run wrote. See docs/import.md.
"""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        add_import_arguments(parser)
        parser.add_argument("file", metavar="FILE.xml", type=Path)

    def handle(self, *args, file, **options):
        try:
            run_import(self, open_wordpress(file), options)
        except SourceError as error:
            raise CommandError(f"{error}; nothing imported.") from error
