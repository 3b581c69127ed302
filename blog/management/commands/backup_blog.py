from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from blog.backup import BackupError, summarise, write_backup


class Command(BaseCommand):
    help = (
        "Write the whole blog to one .tar.gz archive: every row of the accounts and blog apps "
        "(and auth groups) as JSON, plus the uploaded media under MEDIA_ROOT. Restore it with "
        "restore_blog. The archive holds password hashes: keep it private."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "output",
            nargs="?",
            type=Path,
            help="Archive to write (default: backups/blog-<UTC time>.tar.gz).",
        )
        parser.add_argument("--no-media", action="store_true", help="Leave out MEDIA_ROOT.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be written; write nothing."
        )

    def handle(self, *args, output, no_media, dry_run, verbosity, **options):
        media_root = Path(settings.MEDIA_ROOT)
        if dry_run:
            summary = summarise(media_root)
            if no_media:
                summary.media_files = summary.media_bytes = 0
            self.report("Would back up", summary, verbosity)
            return
        if output is None:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            output = Path(settings.BASE_DIR) / "backups" / f"blog-{stamp}.tar.gz"
        try:
            summary = write_backup(output, media_root, include_media=not no_media)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.report(f"Wrote {output}:", summary, verbosity)

    def report(self, verb, summary, verbosity):
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{verb} {summary.rows} rows and {summary.media_files} media files "
                    f"({summary.media_bytes / 1e6:.1f} MB)."
                )
            )
        if verbosity >= 2:
            for label, count in summary.counts.items():
                self.stdout.write(f"  {label}: {count}")
