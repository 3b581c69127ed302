"""The content generation pushed by Redis to every process, so a page-cache hit needs no round trip.

Every process subscribes once to a Redis channel on which each change of the generation is
published (by whichever process makes it, when its transaction commits), and keeps the last value
it received (caching.generation).

Correctness does not depend on a background thread: every request first reads whatever Redis has
already pushed to this process's socket (a non-blocking check, then the pending messages), so a
change published before the request started is seen by it, as with a read of the row. Redis
delivers messages in order on one connection. After (re)subscribing, the row is read once.

When the subscription cannot be trusted the caller reads the generation row (``state()`` returns
None): before the first subscription, which is made only after such a read worked (so a hung
Redis is not waited for twice), and for ``RETRY`` seconds after a failure; when the connection
breaks (a Redis crash shows at once as a closed socket); and when a PING sent over the
subscription has gone unanswered for ``PATIENCE`` seconds (a hung Redis).

Redis 7.4's client-side caching (server-assisted, in redis-py) is the general form of this; it needs
Redis >= 7.4, so this uses plain pub/sub, which every Redis has.
"""

import contextlib
import os
import threading
import time

from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY = 1.0  # seconds between attempts to subscribe after a failure
PING_EVERY = 1.0  # seconds between liveness checks while requests come in
PATIENCE = 2.0  # seconds a PING may stay unanswered before the subscription is distrusted


class GenerationSubscription:
    """One process's subscription to the generation channel, shared by its threads."""

    def __init__(self, client, channel: str, read_state):
        """``client``: from ``caching.redis.client()``, whose breaker the subscription honours."""
        self.client, self.channel, self.read_state = client, channel, read_state
        self.breaker = client.breaker
        self._lock = threading.Lock()
        self._pubsub = None
        self._pid = None
        self._state = None
        self._retry_at = 0.0
        self._pinged_at = 0.0
        self._unanswered_since = None

    def state(self):
        """The latest (generation, next publication) Redis pushed, or None: read the row."""
        with self._lock:
            if self._pubsub is None or self._pid != os.getpid():
                return None
            now = time.monotonic()
            try:
                self._drain()
                if now - self._pinged_at >= PING_EVERY:
                    self._pubsub.ping()
                    self._pinged_at = now
                    self._unanswered_since = self._unanswered_since or now
                if self._unanswered_since and now - self._unanswered_since > PATIENCE:
                    raise TimeoutError("Redis has not answered a PING on the subscription")
            except (RedisError, OSError, ValueError):
                self._drop(now)
                return None
            return self._state

    def start(self) -> None:
        """Subscribe, unless subscribed, a recent attempt failed or the client's breaker is open
        (caching.redis): a hung Redis is waited for once, by whichever call meets it first."""
        with self._lock:
            if self._pubsub is not None and self._pid == os.getpid():
                return
            now = time.monotonic()
            if now < self._retry_at:
                return
            try:
                self.breaker.before_call()
                self._subscribe()
            except (RedisTimeoutError, TimeoutError):
                self.breaker.timed_out()
                self._drop(now)
            except (RedisError, OSError, ValueError):
                self._drop(now)
            else:
                self.breaker.succeeded()

    def publish(self, state) -> None:
        """Tell every process (this one at once) that the generation is now ``state``."""
        with self._lock:
            if self._pubsub is not None:
                self._state = state
        self.client.publish(self.channel, " ".join(map(str, state)))

    def close(self) -> None:
        with self._lock:
            self._drop(0.0)

    def _subscribe(self) -> None:
        self._pubsub, self._pid, self._state = None, os.getpid(), None
        pubsub = self.client.pubsub()
        pubsub.subscribe(self.channel)
        confirmation = pubsub.get_message(timeout=1.0)  # Redis has just answered a read
        if not confirmation or confirmation["type"] != "subscribe":
            pubsub.close()
            raise TimeoutError("no confirmation of the subscription")
        self._pubsub = pubsub
        self._unanswered_since = None
        self._pinged_at = time.monotonic()
        # Read after subscribing: a change made in between arrives as a message afterwards.
        self._state = self.read_state()
        if self._state is None:
            raise ValueError("the generation could not be read")

    def _drain(self) -> None:
        connection = self._pubsub.connection
        while connection.can_read(timeout=0):
            message = self._pubsub.get_message(timeout=0)
            if message is None:
                break
            if message["type"] == "message":
                value, due = message["data"].split()
                self._state = (int(value), int(due))
            elif message["type"] == "pong":
                self._unanswered_since = None

    def _drop(self, now: float) -> None:
        pubsub, self._pubsub, self._state = self._pubsub, None, None
        self._retry_at = now + RETRY
        if pubsub is not None and self._pid == os.getpid():
            with contextlib.suppress(RedisError, OSError):
                pubsub.close()
