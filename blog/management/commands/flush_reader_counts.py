from django.conf import settings
from django.core.management.base import BaseCommand

from blog import readers
from blog.readers.tasks import flush_reader_counts


class Command(BaseCommand):
    help = (
        "Move reader counts buffered in Redis (BLOG_READER_BUFFER) into the database, exactly "
        "once. Safe to run at any time and from several machines at once; run it from cron or a "
        "timer (e.g. every minute) and after stopping the web servers. Does nothing when reads "
        "are stored directly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Report the buffered reads, move nothing."
        )

    def handle(self, *args, dry_run, verbosity, **options):
        if not settings.BLOG_READER_BUFFER:
            if verbosity >= 1:
                self.stdout.write(
                    "Reads are stored directly (BLOG_READER_BUFFER is off): nothing to flush."
                )
            return
        if dry_run:
            self.stdout.write(f"Would flush {readers.pending_reads()} buffered reads.")
            return
        # The same function the task backend runs; called directly so the command never waits
        # on a queue and its errors reach the exit status.
        result = flush_reader_counts.call()
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Flushed {result['reads']} reads of {result['posts']} posts "
                    f"in {result['batches']} batches."
                )
            )
