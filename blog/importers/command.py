"""What the import commands share: their options and how they run the writer and print its report."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from . import writer


def add_import_arguments(parser) -> None:
    """The options every importer shares (import_typecho, import_wordpress)."""
    parser.add_argument("--dry-run", action="store_true", help="Import, report, roll back.")
    parser.add_argument(
        "--media-dir",
        type=Path,
        help="The old blog's uploads folder: copied into MEDIA_ROOT, links to it rewritten.",
    )
    parser.add_argument(
        "--series",
        choices=["off", "detect", "apply"],
        default="off",
        help="Find series in titles (“Transformer升级之路：3、…”): detect reports them, "
        "apply creates them.",
    )


def run_import(command: BaseCommand, source, options) -> writer.Report:
    """Write ``source`` with the shared options and print the report (stdout; progress on a
    terminal's stderr)."""
    media_dir, verbosity = options["media_dir"], options["verbosity"]
    if media_dir and not media_dir.is_dir():
        raise CommandError(f"--media-dir {media_dir}: not a directory; nothing imported.")
    report = writer.write(
        source,
        dry_run=options["dry_run"],
        media_dir=media_dir,
        series=options["series"],
        progress=verbosity >= 1 and sys.stderr.isatty(),
        log=command.stdout.write if verbosity >= 3 else None,
    )
    if verbosity >= 1:
        command.stdout.write("\n".join(report.lines(verbosity)))
    return report
