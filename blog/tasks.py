"""Background work, as Django tasks (django.tasks): enqueue them, or run them from a command."""

from django.tasks import task

from . import readers


@task
def flush_reader_counts() -> dict:
    """Move reads buffered in Redis into the database (see blog/readers/buffer.py)."""
    return readers.flush().as_dict()
