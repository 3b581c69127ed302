from pathlib import Path

from django.core.management.base import BaseCommand

from blog.export import export_markdown, exported_posts


class Command(BaseCommand):
    help = (
        "Write every post (drafts included) as <id>.md with YAML front matter (id, title, date, "
        "tags, category, series, part, authors, status) into a directory, or into a .zip when "
        "the destination ends in .zip. A portable backup that import_posts reads back."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path, help="A directory, or a file ending .zip.")
        parser.add_argument(
            "--dry-run", action="store_true", help="List the files that would be written."
        )

    def handle(self, *args, destination, dry_run, verbosity, **options):
        if dry_run:
            names = [name for name, _text in exported_posts()]
            if verbosity >= 2:
                for name in names:
                    self.stdout.write(f"  {name}")
            self.stdout.write(f"Would write {len(names)} posts to {destination}.")
            return
        count = export_markdown(destination)
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"Wrote {count} posts to {destination}."))
