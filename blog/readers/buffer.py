"""The Redis buffer of reader counts (BLOG_READER_BUFFER): reads wait in a Redis hash and a flush
moves them into the database exactly once. docs/readers.md describes the protocol."""

import functools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, F
from django.utils import timezone
from redis.exceptions import RedisError

from caching import redis

from ..models import Post, ReadBatch, ReadDay

logger = logging.getLogger(__name__)

# Ledger rows only guard against re-applying a batch that a dead flush left behind; a week of them
# is ample when flushes run every minute.
_LEDGER_DAYS = 7

# Starts a batch: the pending hash becomes batch:<id> in one atomic step, so an increment lands
# either before (in the batch) or after (in a fresh pending hash), never in between.
_START_BATCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('INCR', KEYS[4])
return 1
"""


# One beacon: returns {counted (1, 0 already read, -1 over the bounds), flush due (1/0), reads
# waiting in the buffer for the post (pending and batches not yet applied), stored count or -1}.
_READ = """
local counted, due = 0, 0
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  local per_post = redis.call('INCR', KEYS[2])
  if per_post == 1 then redis.call('EXPIRE', KEYS[2], ARGV[5]) end
  local per_address = 0
  if per_post <= tonumber(ARGV[4]) then
    per_address = redis.call('INCR', KEYS[3])
    if per_address == 1 then redis.call('EXPIRE', KEYS[3], ARGV[7]) end
  end
  if per_post <= tonumber(ARGV[4]) and per_address <= tonumber(ARGV[6]) then
    redis.call('HINCRBY', KEYS[4], ARGV[2], 1)
    redis.call('HINCRBY', KEYS[4], ARGV[2] .. ':' .. ARGV[3], 1)
    counted = 1
    if tonumber(ARGV[8]) > 0 and redis.call('SET', KEYS[6], '1', 'NX', 'EX', ARGV[8]) then
      due = 1
    end
  else
    redis.call('DEL', KEYS[1])
    counted = -1
  end
end
local waiting = tonumber(redis.call('HGET', KEYS[4], ARGV[2]) or '0')
for _, batch in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  waiting = waiting + tonumber(redis.call('HGET', ARGV[9] .. batch, ARGV[2]) or '0')
end
local stored = redis.call('HGET', KEYS[7], ARGV[2])
return {counted, due, waiting, tonumber(stored or '-1')}
"""


@dataclass(frozen=True)
class Outcome:
    counted: bool
    within_bounds: bool
    shown: int | None
    flush_due: bool


@dataclass
class FlushResult:
    batches: int = 0
    reads: int = 0
    posts: set = field(default_factory=set)

    def as_dict(self) -> dict:
        return {"batches": self.batches, "reads": self.reads, "posts": len(self.posts)}


class Buffer:
    """Reads waiting in Redis to be flushed into the database.

    Keys (under BLOG_READER_REDIS_PREFIX): ``pending``, a hash of post id -> reads and
    "id:YYYY-MM-DD" -> reads that day; ``batch:<id>``, a pending hash taken by a flush;
    ``flushing``, the set of batch ids not yet cleaned up; ``renames``, a counter of batches
    started (lets a reader notice a flush that ran while it read); ``flush-due``, the auto-flush
    throttle; ``stored``, a hash of post id -> stored count as of the last flush that wrote it
    (what a beacon adds the waiting reads to); ``seen:<post>:<visitor>`` and ``new:<address>…``,
    the 24-hour dedupe marks and the bounds on new visitors per address.
    """

    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix
        self.pending = prefix + "pending"
        self.flushing = prefix + "flushing"
        self.renames = prefix + "renames"
        self.due = prefix + "flush-due"
        self.stored = prefix + "stored"
        self._start_batch = client.register_script(_START_BATCH)
        self._read = client.register_script(_READ)

    @staticmethod
    def default() -> "Buffer":
        """The buffer at ``REDIS_URL``, through the site's Redis client (caching.redis: its
        timeouts and breaker)."""
        return _buffer(redis.client(), settings.BLOG_READER_REDIS_PREFIX)

    def batch_key(self, batch_id: str) -> str:
        return f"{self.prefix}batch:{batch_id}"

    def read(self, post_id: int, visitor: str, address: str, day: date) -> "Outcome":
        """One beacon in one round trip: the 24-hour dedupe mark, the bounds on new visitors per
        address, the increment and the count to show (``_READ``).

        Once the increment is in Redis the read is counted, whatever happens next: if the stored
        count has to be read from the database and that fails, the count shown is None.
        """
        per_post, per_address = (
            settings.BLOG_READER_NEW_PER_POST,
            settings.BLOG_READER_NEW_PER_ADDRESS,
        )
        keys = [
            f"{self.prefix}seen:{post_id}:{visitor}",
            f"{self.prefix}new:{address}:{post_id}",
            f"{self.prefix}new:{address}",
            self.pending,
            self.flushing,
            self.due,
            self.stored,
        ]
        args = [
            settings.BLOG_READ_WINDOW, post_id, day.isoformat(), *per_post, *per_address,
            settings.BLOG_READER_FLUSH_INTERVAL, self.prefix + "batch:",
        ]  # fmt: skip
        counted, due, waiting, stored = self._read(keys=keys, args=args)
        if stored == -1:
            try:
                stored = self._store_count(post_id)
            except (DatabaseError, RedisError):
                logger.warning("read of post %s buffered; its count cannot be read back", post_id)
                return Outcome(counted == 1, counted != -1, None, bool(due))
        return Outcome(counted == 1, counted != -1, stored + waiting, bool(due))

    def _store_count(self, post_id: int) -> int:
        """The post's stored count, kept in Redis for the next beacons until a flush updates it."""
        stored = Post.objects.values_list("reader_count", flat=True).get(pk=post_id)
        self.client.hsetnx(self.stored, str(post_id), stored)
        return stored

    def shown_count(self, post_id: int) -> int:
        """Database + pending buffer + batches taken by a flush but not yet committed.

        Raises Post.DoesNotExist for a post that is unknown or not public.
        """
        return self._shown(post_id, *self._snapshot(post_id))

    def _snapshot(self, post_id: int):
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hget(self.pending, str(post_id))
            pipe.smembers(self.flushing)
            pipe.get(self.renames)
            return pipe.execute()

    def _shown(self, post_id, pending, flushing, renames) -> int:
        # Redis is read before the database, and the batch counter after it: if a flush started a
        # batch in between, its reads might be both in our Redis snapshot and in the database,
        # so read again (flushes are seconds apart: one retry suffices in practice).
        for _attempt in range(5):
            in_flight = self._in_flight(post_id, flushing)
            applied = {
                f"applied_{n}": Exists(ReadBatch.objects.filter(batch=batch))
                for n, batch in enumerate(in_flight)
            }
            values = (
                Post.objects.published()
                .filter(pk=post_id)
                .annotate(**applied)
                .values("reader_count", *applied)
                .get()
            )
            if self.client.get(self.renames) == renames:
                break
            pending, flushing, renames = self._snapshot(post_id)
        not_applied = sum(
            reads for n, reads in enumerate(in_flight.values()) if not values.get(f"applied_{n}")
        )
        return values["reader_count"] + int(pending or 0) + not_applied

    def _in_flight(self, post_id, flushing) -> dict[str, int]:
        batches = sorted(batch.decode() for batch in flushing)
        if not batches:
            return {}
        with self.client.pipeline(transaction=False) as pipe:
            for batch in batches:
                pipe.hget(self.batch_key(batch), str(post_id))
            return {
                batch: int(reads or 0) for batch, reads in zip(batches, pipe.execute(), strict=True)
            }

    def pending_reads(self) -> int:
        """Reads buffered and not yet in the database (pending and any unfinished batch)."""
        keys = [self.pending] + [
            self.batch_key(b.decode()) for b in self.client.smembers(self.flushing)
        ]
        total = 0
        for key in keys:
            totals, _ = _parse(self.client.hgetall(key))
            total += sum(totals.values())
        return total

    def flush(self) -> FlushResult:
        """Move the buffer into the database, exactly once.

        1. Batches left by a flush that died are picked up first.
        2. The pending hash is renamed to a new batch (atomic; new reads go to a fresh hash).
        3. Each batch is applied in one transaction that also records its id in ReadBatch; a batch
           whose id is already recorded was applied before and is only cleaned up. Two flushes
           running at once are therefore safe: the unique id lets one of them apply a batch.
        4. The batch is deleted from Redis after the commit.
        """
        batches = {batch.decode() for batch in self.client.smembers(self.flushing)}
        batch_id = uuid.uuid4().hex
        keys = [self.pending, self.batch_key(batch_id), self.flushing, self.renames]
        if self._start_batch(keys=keys, args=[batch_id]):
            batches.add(batch_id)
        result = FlushResult()
        for batch in sorted(batches):
            self._apply(batch, result)
        ReadBatch.objects.filter(
            flushed_at__lt=timezone.now() - timedelta(days=_LEDGER_DAYS)
        ).delete()
        return result

    def _apply(self, batch: str, result: FlushResult) -> None:
        totals, days = _parse(self.client.hgetall(self.batch_key(batch)))
        reads = sum(totals.values())
        with transaction.atomic():
            applied = self._record(batch, reads)
            if applied:
                self._write(totals, days)
        stored = Post.objects.filter(pk__in=totals).values_list("pk", "reader_count")
        self._forget(batch, dict(stored))
        if applied:
            result.batches += 1
            result.reads += reads
            result.posts |= set(totals)

    def _record(self, batch: str, reads: int) -> bool:
        """Claim the batch in the ledger; False if an earlier or concurrent flush applied it."""
        try:
            with transaction.atomic():
                ReadBatch.objects.create(batch=batch, reads=reads)
        except IntegrityError:
            return False
        return True

    def _write(self, totals: dict, days: dict) -> None:
        existing = set(Post.objects.filter(pk__in=totals).values_list("pk", flat=True))
        for post_id in sorted(existing):  # one lock order for every writer
            Post.objects.filter(pk=post_id).update(reader_count=F("reader_count") + totals[post_id])
        for (post_id, day), count in sorted(days.items()):
            if post_id in existing:  # reads of a post deleted since then are dropped
                ReadDay.objects.add(post_id, day, count)

    def _forget(self, batch: str, stored: dict[int, int]) -> None:
        """Drop an applied batch and, in the same step, note the posts' new stored counts (which
        include it) for the beacons to show."""
        with self.client.pipeline(transaction=True) as pipe:
            if stored:
                pipe.hset(self.stored, mapping={str(pk): count for pk, count in stored.items()})
            pipe.delete(self.batch_key(batch))
            pipe.srem(self.flushing, batch)
            pipe.execute()


@functools.lru_cache(maxsize=8)
def _buffer(client, prefix: str) -> Buffer:
    return Buffer(client, prefix)


def _parse(raw: dict) -> tuple[dict[int, int], dict[tuple[int, date], int]]:
    totals, days = {}, {}
    for key, value in raw.items():
        post_id, _, day = key.decode().partition(":")
        if day:
            days[int(post_id), date.fromisoformat(day)] = int(value)
        else:
            totals[int(post_id)] = int(value)
    return totals, days


def flush() -> FlushResult:
    """Move buffered reads into the database (nothing to do when reads are stored directly)."""
    if not settings.BLOG_READER_BUFFER:
        return FlushResult()
    return Buffer.default().flush()


def pending_reads() -> int:
    return Buffer.default().pending_reads() if settings.BLOG_READER_BUFFER else 0
