"""The content generation: a number that every change to public content moves forward.

Every cached page and part has the generation in its key, so one change makes all of them stale
at once. The generation is a database row (``caching.Generation``) written in the same transaction
as the change, so a change made by any process — a server, ``import_posts``, ``restore_blog``, a
shell — moves it for everyone. Each process learns of it on its next request from the database,
without a round trip, over a connection of its own (``DatabaseWatch``; Redis plays no part):

- on **SQLite** it asks ``PRAGMA data_version``, which changes when any other connection has
  committed (a look at shared memory, no disk read), and reads the row only then;
- on **PostgreSQL** the change's own statement also sends a ``NOTIFY`` (delivered when its
  transaction commits), the connection ``LISTEN``s, and each request reads what the server has
  already sent to that socket (a non-blocking read); the row is read once, after ``LISTEN``, and
  again whenever the connection is new (a restarted server closes it; TCP keepalives notice a dead
  peer).

A change inside a transaction moves the generation twice: at once (so this process's next
request sees it) and again at commit, because another thread may have rendered the rows not yet
committed under the first new value.

Content registers when its next change without a save is due (a scheduled post going public)
with ``register_due``; the first request after that moment moves the generation.
"""

import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta

from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.dispatch import receiver

from config.logs import Throttled

CHANNEL = "blog:generation:3"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
logger = logging.getLogger(__name__)

_due_sources = []
_known = (0, 0)  # the newest (value, due) this process has seen
_known_lock = threading.Lock()


def register_due(source) -> None:
    """``source()`` returns when the next change without a save is due (a datetime), or None."""
    _due_sources.append(source)


def generation() -> int:
    value, due = _learn(_watch.poll())
    if due and time.time_ns() >= due:
        return _move()  # a scheduled post has just gone public
    return value


def content_changed() -> None:
    """Call after any change visible on public pages, inside its transaction if it has one."""
    _move()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_move)


def _move() -> int:
    state = (max(time.time_ns(), _known[0] + 1), _next_due())
    _store(state)
    _learn(state)
    return state[0]


def _store(state) -> None:
    """Write the row; on PostgreSQL, in the same statement, notify the processes that listen."""
    from .models import Generation

    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH moved AS (INSERT INTO {Generation._meta.db_table} (id, value, due) "
                "VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE "
                "SET value = EXCLUDED.value, due = EXCLUDED.due RETURNING id) "
                "SELECT pg_notify(%s, %s) FROM moved",
                [*state, CHANNEL, " ".join(map(str, state))],
            )
        return
    Generation.objects.bulk_create(
        [Generation(pk=1, value=state[0], due=state[1])],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["value", "due"],
    )


def _learn(state) -> tuple[int, int]:
    global _known
    with _known_lock:
        if state is not None and state[0] > _known[0]:
            _known = state
        return _known


def _next_due() -> int:
    dues = [due for source in _due_sources if (due := source()) is not None]
    return (min(dues) - EPOCH) // timedelta(microseconds=1) * 1000 if dues else 0


class DatabaseWatch:
    """Learns of changes over a database connection of this process's own (not Django's, so it
    neither opens a request's connection nor shows in its queries)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._connection = None
        self._pid = None
        self._vendor = None
        self._data_version = None
        # While the database is down every request polls, and fails.
        self._failures = Throttled(logger, "reading the content generation failed")

    def poll(self):
        """The latest state, or None when nothing can have changed it since the last poll."""
        with self._lock:
            try:
                if self._connect():
                    return self._read_row()
                if self._vendor == "postgresql":
                    return self._notified()
                version = self._connection.execute("PRAGMA data_version").fetchone()[0]
                if version == self._data_version:
                    return None
                self._data_version = version
                return self._read_row()
            except Exception:  # a database that fails will fail the page itself, more clearly
                return self._failed()

    def close(self) -> None:
        """Close the connection (the next poll opens one, on the database configured then)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        connection, self._connection, self._data_version = self._connection, None, None
        if connection is not None and self._pid == os.getpid():
            try:
                connection.close()
            except Exception:
                logger.debug("closing the generation connection failed", exc_info=True)

    def _failed(self):
        self._failures.warn()
        self._close()
        return None

    def _connect(self) -> bool:
        """Open this process's connection if it has none; whether it did."""
        if self._connection is not None and self._pid == os.getpid():
            return False
        wrapper = connections[DEFAULT_DB_ALIAS]
        params = wrapper.get_connection_params()
        if wrapper.vendor == "postgresql":
            # A peer that vanished without closing the socket is noticed within ~15 s.
            params |= {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                       "keepalives_count": 5}  # fmt: skip
        self._connection = wrapper.Database.connect(**params)
        self._pid, self._vendor, self._data_version = os.getpid(), wrapper.vendor, None
        if wrapper.vendor == "postgresql":
            self._connection.autocommit = True
            # LISTEN before the row is read: a change committed in between arrives as a
            # notification afterwards.
            self._connection.execute(f'LISTEN "{CHANNEL}"')
        else:
            self._connection.isolation_level = None  # autocommit: every read sees the latest
            # An in-memory database shared with Django's connection (the test suite's) locks
            # a table being written for the other connections; a file database never does.
            self._connection.execute("PRAGMA read_uncommitted = 1")
            self._data_version = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return True

    def _read_row(self):
        cursor = self._connection.execute("SELECT value, due FROM caching_generation WHERE id = 1")
        row = cursor.fetchone()
        return (row[0], row[1]) if row else (0, 0)

    def _notified(self):
        """The newest state PostgreSQL has already sent to this connection, or None: reads the
        socket without waiting (libpq's sockets are non-blocking), sends nothing."""
        pgconn = self._connection.pgconn
        pgconn.consume_input()  # raises OperationalError once the server has closed the socket
        newest = None
        while (note := pgconn.notifies()) is not None:
            value, due = map(int, note.extra.split())
            newest = max(newest or (0, 0), (value, due))
        return newest


_watch = DatabaseWatch()  # one per process: a forked child opens a connection of its own


def close() -> None:
    """Close this process's connection for learning of changes (a new one opens when needed)."""
    _watch.close()


@receiver(setting_changed)
def _forget_database(*, setting, **kwargs):
    """Tests point the site at another database: watch that one, from its own row."""
    global _known
    if setting == "DATABASES":
        close()
        with _known_lock:
            _known = (0, 0)
