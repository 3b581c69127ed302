from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from blog.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore an archive written by backup_blog into an EMPTY database (run migrate first), "
        "ids kept, then copy its media into MEDIA_ROOT. Refuses a database that already has "
        "posts, users or other blog rows unless --flush is given. All or nothing: the database "
        "part is one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="A .tar.gz written by backup_blog.")
        parser.add_argument(
            "--flush",
            "--force",
            action="store_true",
            dest="flush",
            help="Delete the existing accounts and blog rows first (they are replaced).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Load everything inside a transaction, check the counts, then roll back.",
        )

    def handle(self, *args, archive, flush, dry_run, verbosity, **options):
        try:
            summary = restore_backup(
                archive, Path(settings.MEDIA_ROOT), flush=flush, dry_run=dry_run
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if verbosity >= 1:
            verb = "Would restore" if dry_run else "Restored"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{verb} {summary.rows} rows and {summary.media_files} media files "
                    f"from {archive}."
                )
            )
        if verbosity >= 2:
            for label, count in summary.counts.items():
                self.stdout.write(f"  {label}: {count}")
