"""Reads stored directly (no Redis buffer), written by this process in batches.

A beacon does not write to the database: it adds the read to this process's tally, and a
background thread writes the tally in one transaction every ``BLOG_READER_WRITE_INTERVAL`` seconds
(1 s by default), in one lock order. So requests never queue on the database's write lock, which
on SQLite is one lock for the whole file: 64 clients sending beacons while the machine is busy
made requests wait out the 20 s busy timeout and fail with "database is locked". Under load the
database sees one small transaction per process per interval instead of one per read.

The count a beacon answers with is the post's stored count (as this process last wrote or read
it, at most one interval ago) plus this process's reads not yet written: current to within about
a second, where a write per read made every answer exact. A process that dies without a graceful stop loses the reads of its last
interval; gunicorn's ``worker_exit`` hook (config/gunicorn.py) and ``atexit`` write them first.
With the interval at 0 (the test settings), each read is written at once, in the request.
"""

import atexit
import logging
import threading
import time
from collections import Counter

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.db.models import F

from caching.generation import generation

from ..models import Post, ReadDay

logger = logging.getLogger(__name__)


class LocalTally:
    def __init__(self):
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one write at a time (the thread, exit, a test)
        self._reads = Counter()  # post id -> reads not yet written
        self._days = Counter()  # (post id, day) -> reads not yet written
        self._writing = Counter()  # post id -> reads being written now
        self._stored = {}  # post id -> (stored count, when it was read, content generation)
        self._writer = None

    def add(self, post_id: int, day) -> int | None:
        """Count one read of a public post; return the count to show (None: unknown now)."""
        with self._lock:
            self._reads[post_id] += 1
            self._days[post_id, day] += 1
            if settings.BLOG_READER_WRITE_INTERVAL > 0:
                self._start_writer()
        if settings.BLOG_READER_WRITE_INTERVAL <= 0:
            self.write()
        try:
            return self.shown(post_id)
        except DatabaseError:  # counted all the same: the count is shown on the next visit
            logger.warning("read of post %s counted; its count cannot be read now", post_id)
            return None

    def shown(self, post_id: int) -> int:
        """The stored count (read again when older than the write interval, so reads written by
        other processes show too, or when the content changed: an import or a restore may have
        set it) plus this process's reads not yet written."""
        now, current = time.monotonic(), generation()
        with self._lock:
            stored, read_at, known = self._stored.get(post_id, (None, 0.0, None))
            stale = known != current or now - read_at > settings.BLOG_READER_WRITE_INTERVAL
            # While this process writes the post's reads, the stored count it knows is the one
            # they are not in yet: reading it again now could count them twice.
            refresh = stored is None or (stale and post_id not in self._writing)
        if refresh:
            stored = Post.objects.values_list("reader_count", flat=True).get(pk=post_id)
            with self._lock:
                self._stored[post_id] = (stored, now, current)
        with self._lock:
            return stored + self._reads[post_id] + self._writing[post_id]

    def pending(self) -> int:
        with self._lock:
            return sum(self._reads.values())

    def write(self) -> int:
        """Write the tally in one transaction; return the reads written. On failure the reads
        stay in the tally for the next write."""
        with self._write_lock:
            with self._lock:
                reads, days = self._reads, self._days
                self._reads, self._days, self._writing = Counter(), Counter(), reads
            if not reads:
                return 0
            try:
                stored = self._store(reads, days)
            except Exception:
                with self._lock:
                    self._reads.update(reads)
                    self._days.update(days)
                    self._writing = Counter()
                raise
            now, current = time.monotonic(), generation()
            with self._lock:
                self._stored.update((pk, (count, now, current)) for pk, count in stored.items())
                self._writing = Counter()
            return sum(reads.values())

    @staticmethod
    @transaction.atomic
    def _store(reads: Counter, days: Counter) -> dict[int, int]:
        for post_id in sorted(reads):  # one lock order for every writer
            Post.objects.filter(pk=post_id).update(reader_count=F("reader_count") + reads[post_id])
        existing = set(Post.objects.filter(pk__in=reads).values_list("pk", flat=True))
        for (post_id, day), count in sorted(days.items()):
            if post_id in existing:  # reads of a post deleted meanwhile are dropped
                ReadDay.objects.add(post_id, day, count)
        return dict(Post.objects.filter(pk__in=reads).values_list("pk", "reader_count"))

    def _start_writer(self) -> None:
        if self._writer is None or not self._writer.is_alive():
            self._writer = threading.Thread(target=self._run, name="reader-tally", daemon=True)
            self._writer.start()

    def _run(self) -> None:
        while (interval := settings.BLOG_READER_WRITE_INTERVAL) > 0:
            time.sleep(interval)
            try:
                self.write()
            except Exception:
                logger.exception("writing reader counts failed; they are kept for the next try")
            finally:
                close_old_connections()


tally = LocalTally()


@atexit.register
def _write_at_exit() -> None:
    try:
        tally.write()
    except Exception:
        logger.exception("reader counts of this process could not be written at exit")
