"""The reader buffer's flush as a Django task (django.tasks): enqueued after a buffered read, or
run by the ``flush_reader_counts`` command."""

from django.tasks import task

from .buffer import flush


@task
def flush_reader_counts() -> dict:
    """Move reads buffered in Redis into the database (see blog/readers/buffer.py)."""
    return flush().as_dict()
