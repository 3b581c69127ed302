"""The content generation: a number that every change to public content moves forward.

Every cached page and fragment has the generation in its key, so one change makes all of them
stale at once. The generation is a database row (``caching.Generation``) written in the same
transaction as the change, so a change made by any process — a server, ``import_posts``,
``restore_blog``, a shell — moves it for everyone, with or without Redis. Each serving process
learns of it on its next request:

- **with Redis**, the changing process publishes the new value when its transaction commits, and
  every process reads what Redis has already pushed to its socket (``caching.push``: no round
  trip). While that subscription cannot be trusted (not yet made, Redis crashed or hung), the row
  is read instead, on every request.
- **without Redis**, each process keeps a database connection of its own for this. On SQLite it
  asks ``PRAGMA data_version``, which changes when any other connection has committed (a look at
  shared memory, no disk read), and reads the row only then. On PostgreSQL it reads the row (one
  primary-key lookup per request).

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

from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.dispatch import receiver

from .backends import RedisCache
from .push import GenerationSubscription

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
    value, due = _learn(_source().poll())
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
    from .models import Generation

    Generation.objects.bulk_create(
        [Generation(pk=1, value=state[0], due=state[1])],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["value", "due"],
    )
    _learn(state)
    if not transaction.get_connection().in_atomic_block:
        _source().publish(state)
    return state[0]


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
    """Reads the generation row over a connection of this process's own (not Django's, so it
    neither opens a request's connection nor shows in its queries)."""

    def __init__(self, alias: str = DEFAULT_DB_ALIAS):
        self.alias = alias
        self._lock = threading.Lock()
        self._connection = None
        self._pid = None
        self._data_version = None

    def poll(self):
        """The row, or None when nothing can have changed it since the last poll."""
        return self.read(skip_unchanged=True)

    def read(self, skip_unchanged: bool = False):
        with self._lock:
            try:
                cursor = self._cursor()
                if skip_unchanged and connections[self.alias].vendor == "sqlite":
                    version = cursor.execute("PRAGMA data_version").fetchone()[0]
                    if version == self._data_version:
                        return None
                    self._data_version = version
                cursor.execute("SELECT value, due FROM caching_generation WHERE id = 1")
                row = cursor.fetchone()
            except Exception:  # a database that fails will fail the page itself, more clearly
                logger.warning("reading the content generation failed", exc_info=True)
                self.close()
                return None
        return (row[0], row[1]) if row else (0, 0)

    def publish(self, state) -> None:
        pass  # other processes poll

    def close(self) -> None:
        connection, self._connection, self._data_version = self._connection, None, None
        if connection is not None and self._pid == os.getpid():
            try:
                connection.close()
            except Exception:
                logger.debug("closing the generation connection failed", exc_info=True)

    def _cursor(self):
        if self._connection is None or self._pid != os.getpid():
            wrapper = connections[self.alias]
            self._connection = wrapper.Database.connect(**wrapper.get_connection_params())
            if wrapper.vendor == "postgresql":
                self._connection.autocommit = True
            else:
                self._connection.isolation_level = None  # autocommit: every read sees the latest
                # An in-memory database shared with Django's connection (the test suite's) locks
                # a table being written for the other connections; a file database never does.
                self._connection.execute("PRAGMA read_uncommitted = 1")
            self._pid, self._data_version = os.getpid(), None
        return self._connection.cursor()


class RedisPush:
    """The generation as Redis pushes it, with the row read while the push cannot be trusted."""

    def __init__(self, client, watch: DatabaseWatch):
        self.watch = watch
        self.subscription = GenerationSubscription(client, CHANNEL, watch.read)

    def poll(self):
        state = self.subscription.state()
        if state is None:
            state = self.watch.read()
            if state is not None:
                self.subscription.start()  # the row was read: from now on Redis pushes changes
        return state

    def publish(self, state) -> None:
        try:
            self.subscription.publish(state)
        except Exception:  # the others read the row until their subscription is trusted again
            logger.warning("publishing the content generation failed", exc_info=True)

    def close(self) -> None:
        self.subscription.close()
        self.watch.close()


_sources = {}
_sources_lock = threading.Lock()


def _source():
    """How this process learns of changes: Redis's push when the default cache is Redis."""
    source = _sources.get("default")
    if source is None:
        with _sources_lock:
            source = _sources.get("default")
            if source is None:
                source = _sources["default"] = _make_source()
    return source


def _make_source():
    watch = DatabaseWatch()
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return RedisPush(backend._cache.get_client(write=True), watch)
    return watch


def close() -> None:
    """Close this process's connections for learning of changes (a new one opens when needed)."""
    with _sources_lock:
        for source in _sources.values():
            source.close()
        _sources.clear()


@receiver(setting_changed)
def _forget_source(*, setting, **kwargs):
    global _known
    if setting in {"CACHES", "DATABASES"}:
        close()
        with _known_lock:
            _known = (0, 0)
