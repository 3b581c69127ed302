"""caching.generation.DatabaseWatch: how a process without Redis learns that another committed a
change (PostgreSQL: LISTEN/NOTIFY on a connection of its own; SQLite: PRAGMA data_version).

Changes are committed (transactional_db) by Django's connection, as another process would; the
watch has a connection of its own, as in a server.
"""

import time

import pytest
from django.db import connection, transaction

from caching.generation import DatabaseWatch, content_changed

pytestmark = pytest.mark.django_db(transaction=True)


def row() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, due FROM caching_generation WHERE id = 1")
        return tuple(cursor.fetchone())


def poll_until(watch, expected, attempts=50):
    """Poll as requests do; a notification crosses a socket, so it may take a moment to arrive."""
    seen = []
    for _ in range(attempts):
        seen.append(watch.poll())
        if seen[-1] == expected:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"never saw {expected}: {seen[-3:]}")


@pytest.fixture
def watch():
    content_changed()  # the row exists
    watch = DatabaseWatch()
    yield watch
    watch.close()


def test_the_row_is_read_once_then_only_changes_are_reported(watch):
    assert watch.poll() == row()  # a new connection: the row
    assert [watch.poll() for _ in range(3)] == [None] * 3  # nothing changed: nothing to learn
    content_changed()
    seen = poll_until(watch, row())
    assert set(seen[:-1]) <= {None}
    assert watch.poll() is None


def test_a_change_is_reported_when_its_transaction_commits_not_before(watch):
    watch.poll()
    with transaction.atomic():
        content_changed()
        assert [watch.poll() for _ in range(3)] == [None] * 3  # not committed: unseen
    poll_until(watch, row())  # the value moved again at commit


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
def test_after_its_connection_is_cut_the_watch_reconnects_and_reads_the_row(watch, caplog):
    """A restarted PostgreSQL closes every connection: notifications sent meanwhile are lost to
    the old one, so the watch reads the row again on its new connection."""
    watch.poll()
    pid = watch._connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    content_changed()
    for _ in range(50):  # the cut shows on the socket as the server closes it
        if watch.poll() is None and "generation failed" in caplog.text:
            break
        time.sleep(0.02)
    assert "reading the content generation failed" in caplog.text
    assert watch.poll() == row()  # a new connection, and the row read over it
    assert watch._connection.info.backend_pid != pid
