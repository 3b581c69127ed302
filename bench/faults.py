"""Faults under load: the site keeps serving, recovers by itself and loses no acknowledged read.

    python -m bench.faults [--modes direct,buffered] [--faults worker,postgres,redis,redis-freeze]

Starts gunicorn (config/gunicorn.py: gthread workers, ``--timeout 10``) with the production
settings (bench/fault_settings.py) on PostgreSQL, with the cache (and, buffered, the reader
buffer) on Redis. A bounded pool of client threads reads pages and sends reader beacons, every
beacon a distinct visitor, each request with its own timeout. One fault after another, with
recovery in between, each in its own phase whose beacons go to a post of their own:

- ``worker``: SIGKILL one gunicorn worker (a child of the master, found in /proc);
- ``postgres``: stop PostgreSQL (fast shutdown: sessions are cut), keep it down ``--hold``
  seconds, start it again; the workers' connections must recover by themselves
  (CONN_HEALTH_CHECKS);
- ``redis``: ``redis-cli shutdown nosave`` (everything in Redis is gone, as after a crash), keep
  it down ``--hold`` seconds, start it again;
- ``redis-freeze``: SIGSTOP the Redis process for ``--hold`` seconds, then SIGCONT (a hung Redis
  that accepts connections and never answers).

Per phase it reports requests, errors (by kind), the slowest answer, how long the dependency was
down, the recovery time (from the dependency being back to the first ``/healthz`` 200), the time
until the last failed request, errors after recovery, and the reader counts: reads the server
acknowledged (200 with ``"counted": true``), reads stored in the database (after a flush when
buffered), lost (acknowledged but not stored) and in doubt (stored, but the client got no answer).

By default PostgreSQL and Redis are private instances started for the run (initdb into a
temporary directory, redis-server on a free port), so the faults touch nothing else on the
machine. ``--services system`` uses the machine's own instead (``pg_ctlcluster`` on 5432 and
Redis on 6379, database ``blog_faults``: root only, and every other user of them sees the faults
too); both are always started again at the end. Traffic stays on 127.0.0.1.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from .harness import BROWSER, SECRET, Gunicorn, free_port, manage

FAULTS = ("worker", "postgres", "redis", "redis-freeze")
# /healthz answers from one worker at a time; each process notices a recovered Redis by itself,
# within one breaker cooldown (caching/redis.py, 2 s). Errors later than this after /healthz was
# back count as "errors after recovery".
GRACE = 3.0
START_COUNT = 1000  # every beacon post starts with this many readers
PAGE_POSTS = (10001, 10002, 10003)


# -- services --------------------------------------------------------------------------------


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {timeout:g} s")
        time.sleep(0.05)


def _postgres_bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL's initdb was not found (Debian: apt-get install postgresql)")


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _accepts_connections(port: int) -> bool:
    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


class PrivatePostgres:
    """A PostgreSQL cluster of the run's own: initdb in a temporary directory, a free port."""

    kind = "private"

    def __init__(self, tmp: Path):
        self.bindir = _postgres_bindir()
        self.dir = tmp / "postgres"
        self.dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        _run(_as_postgres([
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        ]))  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\n"
            )
        self.start()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        log = self.dir / "server.log"
        _run(_as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(log),
                           "-w", "-t", "60", *args]))  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def is_up(self) -> bool:
        return _accepts_connections(self.port)

    def ensure_up(self) -> None:
        if not self.is_up():
            self.start()

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("-m", "immediate", "stop")


class SystemPostgres:
    """The machine's PostgreSQL cluster (Debian's pg_ctlcluster; needs root)."""

    kind = "system"
    port = 5432

    def __init__(self, tmp: Path):
        self.version = sorted(os.listdir("/etc/postgresql"), key=int)[-1]

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, action: str, *args: str) -> None:
        _run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, "main", action, *args])

    def start(self) -> None:
        self._ctl("start")
        _wait(self.is_up, 60, "PostgreSQL did not accept connections")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def is_up(self) -> bool:
        return _accepts_connections(self.port)

    def ensure_up(self) -> None:
        if not self.is_up():
            self.start()

    def close(self) -> None:
        self.ensure_up()


class PrivateRedis:
    """A redis-server of the run's own on a free port, keeping nothing on disk."""

    kind = "private"

    def __init__(self, tmp: Path):
        self.port = free_port()
        self.dir = tmp / "redis"
        self.dir.mkdir()
        self.command = [
            "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.port),
            "--save", "", "--appendonly", "no", "--dir", str(self.dir),
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.pid = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _cli(self, *args: str, timeout: float = 5) -> str:
        return subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True, text=True, timeout=timeout,
        ).stdout  # fmt: skip

    def is_up(self) -> bool:
        try:
            return self._cli("ping", timeout=2).strip() == "PONG"
        except subprocess.TimeoutExpired:
            return False

    def start(self) -> None:
        _run(self.command)
        _wait(self.is_up, 30, "Redis did not answer")
        info = self._cli("info", "server")
        self.pid = int(info.split("process_id:")[1].split()[0])

    def stop(self) -> None:
        """Shut down without saving: everything Redis held is gone, as after a crash."""
        self._cli("shutdown", "nosave")
        _wait(lambda: not self.is_up(), 30, "Redis did not stop")

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)

    def ensure_up(self) -> None:
        if self.pid:
            self.thaw()
        if not self.is_up():
            self.start()

    def close(self) -> None:
        self.thaw()
        if self.is_up():
            self.stop()


class SystemRedis(PrivateRedis):
    """The machine's Redis on 6379, started again as the CI machines start it."""

    kind = "system"

    def __init__(self, tmp: Path):
        self.port = 6379
        for directory in ("/var/lib/redis", "/var/log/redis"):
            os.makedirs(directory, exist_ok=True)
        self.command = [
            "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
            "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
            "--logfile", "/var/log/redis/ci.log",
        ]  # fmt: skip
        self.pid = None
        self.ensure_up()
        info = self._cli("info", "server")
        self.pid = int(info.split("process_id:")[1].split()[0])

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:6379/7"

    def close(self) -> None:
        self.ensure_up()


# -- the site under test -----------------------------------------------------------------------


# -- clients -----------------------------------------------------------------------------------


@dataclass
class Answer:
    started: float  # time.monotonic()
    ended: float
    status: int | None = None  # None: no HTTP answer
    error: str = ""  # "timeout", "refused", "reset", ... when there was no answer
    body: bytes = b""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(
        exc,
        ConnectionResetError
        | BrokenPipeError
        | http.client.RemoteDisconnected
        | http.client.IncompleteRead,
    ):
        return "reset"
    return type(exc).__name__


def request(origin: str, method: str, path: str, *, timeout: float, headers=None, body=None):
    """One request on a fresh connection; never raises: failures come back as the Answer's error."""
    host, port = origin.removeprefix("http://").split(":")
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        return Answer(started, time.monotonic(), status=response.status, body=data)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(started, time.monotonic(), error=_error_kind(exc))
    finally:
        conn.close()


def get(origin: str, path: str, *, timeout: float) -> Answer:
    return request(origin, "GET", path, timeout=timeout, headers={"User-Agent": BROWSER})


def beacon(origin: str, post_id: int, visitor: str, *, timeout: float) -> Answer:
    """The reader beacon as static/js/readers.js sends it, from a browser with a visitor cookie."""
    return request(
        origin, "POST", f"/archives/{post_id}/read", timeout=timeout, body="cookies=1",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "same-origin",
            "User-Agent": BROWSER,
            "Cookie": f"reader={visitor}",
        },
    )  # fmt: skip


@dataclass
class Outcome:
    phase: str
    kind: str  # "page" or "beacon"
    answer: Answer
    counted: bool = False  # a beacon answered 200 with "counted": true

    @property
    def ok(self) -> bool:
        return self.answer.status == 200 and (self.kind == "page" or self.counted)

    @property
    def failure(self) -> str:
        """Why it is not ok: the status ("500", "503", ...), "not counted", or the connection
        error ("reset", "refused", "timeout")."""
        status = self.answer.status
        if status is None:
            return self.answer.error
        if status != 200:
            return str(status)
        return "" if self.ok else "not counted"


class Load:
    """``clients`` threads, each in a loop: read a page, send a beacon as a new visitor.

    The beacons go to the current phase's post, so every phase's reads are counted apart.
    Bounded: at most ``max_requests`` requests in all, each with its own timeout.
    """

    def __init__(self, origin: str, clients: int, timeout: float, pause: float,
                 max_requests: int):  # fmt: skip
        self.origin, self.clients, self.timeout, self.pause = origin, clients, timeout, pause
        self.max_requests = max_requests
        self.target = ("warm-up", PAGE_POSTS[0])
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        self.pages = ["/", *(f"/archives/{pk}/" for pk in PAGE_POSTS)]

    def start(self):
        for thread in self._threads:
            thread.start()

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout * 3)

    def _record(self, outcome: Outcome) -> bool:
        with self._lock:
            self.outcomes.append(outcome)
            return len(self.outcomes) < self.max_requests

    def _client(self):
        rng = random.Random()
        going = True
        while going and not self._stop.is_set():
            phase, post_id = self.target
            page = get(self.origin, rng.choice(self.pages), timeout=self.timeout)
            going = self._record(Outcome(phase, "page", page))
            answer = beacon(self.origin, post_id, uuid.uuid4().hex, timeout=self.timeout)
            counted = False
            if answer.status == 200:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    counted = json.loads(answer.body)["counted"] is True
            going = self._record(Outcome(phase, "beacon", answer, counted)) and going
            self._stop.wait(self.pause)


class Probe:
    """/healthz every ``interval`` seconds, as a load balancer would."""

    def __init__(self, origin: str, timeout: float, interval: float = 0.1):
        self.origin, self.timeout, self.interval = origin, timeout, interval
        self.samples: list[Answer] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=self.timeout * 2)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(get(self.origin, "/healthz", timeout=self.timeout))
            self._stop.wait(self.interval)

    def first_ok_since(self, since: float) -> Answer | None:
        return next((s for s in list(self.samples) if s.started >= since and s.status == 200), None)


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Phase:
    mode: str
    fault: str  # "none" for the baseline
    post_id: int
    started: float = 0.0
    ended: float = 0.0
    wall_started: float = 0.0
    wall_ended: float = 0.0
    down_at: float | None = None  # fault injected
    restored_at: float | None = None  # dependency back (the kill itself for a worker)
    recovered_at: float | None = None  # first /healthz 200 since restored
    detail: str = ""
    outcomes: list = field(default_factory=list, repr=False)
    stored: int = 0
    daily: int = 0
    server_errors: dict = field(default_factory=dict)

    # derived ----------------------------------------------------------------------------------
    @property
    def requests(self) -> int:
        return len(self.outcomes)

    def failures(self, kind: str | None = None) -> Counter:
        """Failed requests (of one kind: "page" or "beacon") by why they failed."""
        return Counter(
            o.failure for o in self.outcomes if not o.ok and (kind is None or o.kind == kind)
        )

    @property
    def errors(self) -> int:
        return sum(self.failures().values())

    @property
    def hangs(self) -> int:
        """Requests that timed out (no answer within the client's timeout)."""
        return self.failures().get("timeout", 0)

    @property
    def slowest(self) -> float:
        return max((o.answer.seconds for o in self.outcomes), default=0.0)

    @property
    def outage(self) -> float | None:
        if self.down_at is None or self.restored_at is None:
            return None
        return self.restored_at - self.down_at

    @property
    def recovery(self) -> float | None:
        """Dependency back (or worker killed) → first /healthz 200."""
        if self.recovered_at is None or self.restored_at is None:
            return None
        return max(0.0, self.recovered_at - self.restored_at)

    @property
    def last_error(self) -> float | None:
        """Dependency back (or worker killed) → end of the last failed request; None if nothing
        failed, negative if the errors stopped before the dependency was back."""
        failed = [o.answer.ended for o in self.outcomes if not o.ok]
        if not failed or self.restored_at is None:
            return None
        return max(failed) - self.restored_at

    @property
    def errors_after_recovery(self) -> int:
        """Failed requests started more than GRACE seconds after /healthz was 200 again."""
        if self.recovered_at is None:
            return self.errors
        since = self.recovered_at + GRACE
        return sum(1 for o in self.outcomes if not o.ok and o.answer.started >= since)

    def during_fault(self, kind: str) -> list:
        """Requests of one kind started while the dependency was down."""
        if self.down_at is None or self.restored_at is None:
            return []
        return [
            o for o in self.outcomes
            if o.kind == kind and self.down_at <= o.answer.started < self.restored_at
        ]  # fmt: skip

    @property
    def beacons(self) -> list:
        return [o for o in self.outcomes if o.kind == "beacon"]

    @property
    def acknowledged(self) -> int:
        return sum(1 for o in self.beacons if o.counted)

    @property
    def unacknowledged(self) -> int:
        """Beacons without a 200 "counted" answer. The server may still have counted some: a
        worker killed after its commit, an answer lost after Redis took the increment."""
        return len(self.beacons) - self.acknowledged

    @property
    def lost(self) -> int:
        return max(0, self.acknowledged - self.stored)

    @property
    def in_doubt(self) -> int:
        """Reads stored beyond those acknowledged (their clients got an error or no answer)."""
        return max(0, self.stored - self.acknowledged)

    def acknowledged_between(self, since: float, until: float = float("inf")) -> int:
        """Reads acknowledged with an answer that ended in [since, until] (monotonic clock)."""
        return sum(1 for o in self.beacons if o.counted and since <= o.answer.ended <= until)

    def as_row(self) -> dict:
        def r(value):
            return None if value is None else round(value, 2)

        return {
            "mode": self.mode, "fault": self.fault, "detail": self.detail,
            "requests": self.requests, "errors": self.errors,
            "page_failures": dict(self.failures("page")),
            "beacon_failures": dict(self.failures("beacon")),
            "timeouts": self.hangs, "slowest_s": r(self.slowest), "down_s": r(self.outage),
            "healthz_back_s": r(self.recovery), "last_error_s": r(self.last_error),
            "errors_after_recovery": self.errors_after_recovery,
            "beacons": len(self.beacons), "acknowledged": self.acknowledged,
            "stored": self.stored, "daily": self.daily, "lost": self.lost,
            "in_doubt": self.in_doubt, "unacknowledged": self.unacknowledged,
            "server_errors": self.server_errors,
        }  # fmt: skip


@dataclass
class Options:
    modes: tuple = ("direct", "buffered")
    faults: tuple = ("worker", "postgres", "redis")
    services: str = "private"
    clients: int = 6
    workers: int = 3
    threads: int = 4
    timeout: float = 10.0  # per request, client side; also gunicorn's worker timeout
    pause: float = 0.01  # each client's pause between iterations
    max_requests: int = 60_000
    baseline: float = 2.0  # seconds of the fault-free phase
    lead: float = 1.5  # seconds of load before each fault
    hold: float = 3.0  # seconds PostgreSQL/Redis stay down (or frozen)
    settle: float = 2.5  # seconds of load after recovery
    recovery_limit: float = 30.0  # N: /healthz must be 200 again within this many seconds
    flush_interval: int = 1  # buffered mode: BLOG_READER_FLUSH_INTERVAL
    database: str = "blog_faults"
    log_dir: Path | None = None


@dataclass
class Report:
    options: Options
    phases: list = field(default_factory=list)
    seconds: float = 0.0
    log_dir: Path | None = None

    def problems(self) -> list[str]:
        """Every broken promise: empty when the site behaved."""
        found = []
        limit = self.options.recovery_limit
        for p in self.phases:
            name = f"{p.mode}/{p.fault}"
            if p.hangs:
                found.append(
                    f"{name}: {p.hangs} requests hung past the {self.options.timeout:g} s timeout"
                )
            if p.slowest > self.options.timeout + 1:
                found.append(f"{name}: a request took {p.slowest:.1f} s")
            if p.fault == "none" and p.errors:
                found.append(f"{name}: {p.errors} errors without any fault: {dict(p.failures())}")
            if p.fault != "none" and p.recovered_at is None:
                found.append(f"{name}: /healthz was not 200 again within {limit:g} s")
            if p.errors_after_recovery:
                found.append(f"{name}: {p.errors_after_recovery} errors after recovery")
            if p.lost and p.lost > self.at_risk(p):
                found.append(f"{name}: {p.lost} acknowledged reads not stored")
            if p.in_doubt > p.unacknowledged:
                found.append(
                    f"{name}: {p.stored} reads stored, {p.acknowledged} acknowledged, only "
                    f"{p.unacknowledged} not acknowledged: counted twice?"
                )
            if p.daily != p.stored:
                found.append(f"{name}: daily tallies {p.daily} != totals {p.stored}")
        return found

    def at_risk(self, phase: Phase) -> int:
        """Acknowledged reads of ``phase`` that a crash may lose (docs/readers.md): buffered reads
        in a Redis that crashed, up to one flush interval old; a killed worker's reads not yet
        written, up to one write interval (BLOG_READER_WRITE_INTERVAL, 1 s) old, with a second's
        slack. Reads of the phase before a crash may still have been waiting when it came."""
        waits = {("buffered", "redis"): self.options.flush_interval, ("direct", "worker"): 1.0}
        at_risk = 0
        for crash in self.phases:
            wait = waits.get((crash.mode, crash.fault))
            if crash.mode != phase.mode or wait is None or crash.down_at is None:
                continue
            until = float("inf") if crash is phase else crash.down_at
            at_risk += phase.acknowledged_between(crash.down_at - wait - 1.0, until)
        return at_risk

    def as_dict(self) -> dict:
        options = {
            k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.options).items()
        }
        return {"options": options, "seconds": round(self.seconds, 1),
                "phases": [p.as_row() for p in self.phases], "problems": self.problems()}  # fmt: skip


def _seed(env: dict, tmp: Path, beacon_posts: list[int]) -> None:
    posts = [{"id": pk, "title": f"文章{pk}", "reader_count": 10} for pk in PAGE_POSTS]
    posts += [{"id": pk, "title": f"计数{pk}", "reader_count": START_COUNT} for pk in beacon_posts]
    data = {
        "authors": [{"username": "sujianlin", "display_name": "苏剑林"}],
        "categories": [], "tags": [], "series": [],
        "posts": [
            {"authors": ["sujianlin"], "body": "正文，带公式 $E=mc^2$。\n",
             "published_at": "2024-05-13T10:00:00+08:00", **post}
            for post in posts
        ],
    }  # fmt: skip
    file = tmp / "seed.json"
    file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    manage(env, "load_demo_content", "--file", str(file), "-v", "0")


def _exception_name(traceback: str) -> str:
    """The class of the exception a logged traceback ends with ("OperationalError")."""
    for line in reversed(traceback.strip().splitlines()):
        if match := re.match(r"([\w.]+(?:Error|Exception|Unavailable|Exit))\b", line):
            return match.group(1).rsplit(".", 1)[-1]
    return "?"


def _server_errors(log: Path, since: float, until: float) -> dict:
    """What the server logged between two wall-clock times: 5xx answers by status (the request
    log) and tracebacks by exception class."""
    found = Counter()
    with open(log, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
                at = datetime.fromisoformat(entry["time"]).timestamp()
            except (ValueError, KeyError):
                continue
            if not since <= at <= until:
                continue
            if entry.get("logger") == "blog.requests" and entry.get("status", 0) >= 500:
                found[f"HTTP {entry['status']}"] += 1
            elif entry.get("exception"):
                found[_exception_name(entry["exception"])] += 1
    return dict(found.most_common(6))


class Run:
    def __init__(self, options: Options):
        self.o = options
        self.tmp = Path(tempfile.mkdtemp(prefix="blog-faults-"))
        if os.geteuid() == 0:
            os.chmod(self.tmp, 0o755)  # the private cluster's directory is the postgres user's
        self.log_dir = options.log_dir or self.tmp
        self.postgres = self.redis = None
        self.prefix = f"faults-{uuid.uuid4().hex[:8]}"

    def env(self, mode: str) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.fault_settings",
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": "http://127.0.0.1",
            "DATABASE_URL": self.postgres.url(self.o.database),
            "REDIS_URL": self.redis.url,
            "CACHE_KEY_PREFIX": self.prefix,
            "BLOG_READER_BUFFER": "1" if mode == "buffered" else "0",
            "BLOG_READER_FLUSH_INTERVAL": str(self.o.flush_interval),
            "DJANGO_LOG_FORMAT": "json",
            "DJANGO_LOG_LEVEL": "INFO",
            "WEB_CONCURRENCY": str(self.o.workers),
        }
        return env

    def post_id(self, mode: str, fault: str) -> int:
        return 20000 + 100 * self.o.modes.index(mode) + (["none", *FAULTS].index(fault))

    def execute(self) -> Report:
        began = time.monotonic()
        report = Report(self.o, log_dir=self.o.log_dir)
        services = {"private": (PrivatePostgres, PrivateRedis),
                    "system": (SystemPostgres, SystemRedis)}[self.o.services]  # fmt: skip
        try:
            self.postgres = services[0](self.tmp)
            self.redis = services[1](self.tmp)
            self._create_database()
            env = self.env("direct")
            manage(env, "migrate", "--no-input", "-v", "0")
            _seed(env, self.tmp, [self.post_id(m, f) for m in self.o.modes
                                  for f in ("none", *self.o.faults)])  # fmt: skip
            for mode in self.o.modes:
                report.phases += self._mode(mode)
        finally:
            # Whatever happened, leave PostgreSQL and Redis running (and thawed).
            for service in (self.redis, self.postgres):
                if service is not None:
                    try:
                        service.ensure_up()
                    except Exception as exc:  # report, and still try the other one
                        print(f"could not restart {type(service).__name__}: {exc}", file=sys.stderr)
            self._cleanup()
        report.seconds = time.monotonic() - began
        return report

    def _admin(self):
        return psycopg.connect(self.postgres.url("postgres").replace("postgres://", "postgresql://"),
                               autocommit=True)  # fmt: skip

    def _create_database(self):
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.o.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.o.database}"')

    def _cleanup(self):
        try:
            if self.postgres is not None and self.postgres.kind == "system":
                with self._admin() as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.o.database}" WITH (FORCE)')
            if self.redis is not None and self.redis.kind == "system":
                import redis

                client = redis.Redis.from_url(self.redis.url)
                for key in client.scan_iter(f"{self.prefix}*"):
                    client.delete(key)
        finally:
            for service in (self.redis, self.postgres):
                if service is not None and service.kind == "private":
                    service.close()
            shutil.rmtree(self.tmp, ignore_errors=True)  # the server logs are in log_dir

    def _mode(self, mode: str) -> list[Phase]:
        log = self.log_dir / f"gunicorn-{mode}.log"
        site = Gunicorn(self.env(mode), log, workers=self.o.workers, threads=self.o.threads,
                        args=("--timeout", str(int(self.o.timeout)), "--graceful-timeout", "15"))  # fmt: skip
        phases = [
            Phase(mode, fault, self.post_id(mode, fault)) for fault in ("none", *self.o.faults)
        ]
        load = Load(site.origin, self.o.clients, self.o.timeout, self.o.pause, self.o.max_requests)
        probe = Probe(site.origin, self.o.timeout)
        try:
            for path in load.pages:  # render and cache every page once
                get(site.origin, path, timeout=self.o.timeout)
            probe.start()
            load.start()
            for phase in phases:
                self._phase(phase, site, load, probe)
        finally:
            load.stop()
            probe.stop()
            for service in (self.redis, self.postgres):
                service.ensure_up()
            site.stop()  # graceful: flushes buffered reads on exit
        if mode == "buffered":
            manage(self.env(mode), "flush_reader_counts", "-v", "0")
        with psycopg.connect(self.postgres.url(self.o.database)) as conn:
            for phase in phases:
                phase.outcomes = [o for o in load.outcomes if o.phase == phase.fault]
                phase.stored = (
                    conn.execute(
                        "SELECT reader_count FROM blog_post WHERE id = %s", [phase.post_id]
                    ).fetchone()[0]
                    - START_COUNT
                )
                phase.daily = conn.execute(
                    "SELECT COALESCE(SUM(count), 0) FROM blog_readday WHERE post_id = %s",
                    [phase.post_id],
                ).fetchone()[0]
                phase.server_errors = _server_errors(log, phase.wall_started, phase.wall_ended)
        return phases

    def _phase(self, phase: Phase, site: Gunicorn, load: Load, probe: Probe) -> None:
        phase.started, phase.wall_started = time.monotonic(), time.time()
        load.target = (phase.fault, phase.post_id)
        if phase.fault == "none":
            time.sleep(self.o.baseline)
        else:
            time.sleep(self.o.lead)
            phase.down_at = time.monotonic()
            phase.detail = self._inject(phase.fault, site)
            phase.restored_at = time.monotonic()
            deadline = phase.restored_at + self.o.recovery_limit
            while time.monotonic() < deadline:
                if sample := probe.first_ok_since(phase.restored_at):
                    phase.recovered_at = sample.ended
                    break
                time.sleep(0.05)
            time.sleep(self.o.settle)
        phase.ended, phase.wall_ended = time.monotonic(), time.time()

    def _inject(self, fault: str, site: Gunicorn) -> str:
        hold = self.o.hold
        if fault == "worker":
            before = set(site.worker_pids())
            pid = random.choice(site.worker_pids())
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            _wait(lambda: len(set(site.worker_pids()) - before) == 1, 30, "no new worker")
            return f"worker {pid} killed, replaced after {time.monotonic() - killed:.2f} s"
        if fault == "postgres":
            self.postgres.stop()
            time.sleep(hold)
            self.postgres.start()
            return f"fast shutdown, down {hold:g} s"
        if fault == "redis":
            self.redis.stop()
            time.sleep(hold)
            self.redis.start()
            return f"shutdown nosave, down {hold:g} s"
        if fault == "redis-freeze":
            self.redis.freeze()
            time.sleep(hold)
            self.redis.thaw()
            return f"SIGSTOP {hold:g} s"
        raise ValueError(fault)


def run(options: Options) -> Report:
    return Run(options).execute()


# -- the report --------------------------------------------------------------------------------


def _s(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def _kinds(failures: Counter) -> str:
    return ", ".join(f"{n:,} {kind}" for kind, n in failures.most_common()) or "0"


def format_report(report: Report) -> str:
    o = report.options
    lines = [
        f"gunicorn {o.workers} workers x {o.threads} threads (--timeout {o.timeout:g}); "
        f"{o.clients} clients, each reading a page then sending a beacon as a new visitor, "
        f"{o.timeout:g} s timeout per request; {o.services} PostgreSQL and Redis; "
        f"{os.cpu_count()} CPUs; {report.seconds:.0f} s in all.",
        "",
        "| mode | fault | down s | /healthz back after s | last error after s | requests "
        "| page errors | beacon errors | timeouts | slowest s | errors after recovery "
        "| acknowledged | stored | lost | stored, not acknowledged |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: |",
    ]
    for p in report.phases:
        lines.append(
            f"| {p.mode} | {p.fault} | {_s(p.outage)} | {_s(p.recovery)} | {_s(p.last_error)} "
            f"| {p.requests:,} | {_kinds(p.failures('page'))} | {_kinds(p.failures('beacon'))} "
            f"| {p.hangs} | {p.slowest:.2f} | {p.errors_after_recovery} | {p.acknowledged:,} "
            f"| {p.stored:,} | **{p.lost}** | {p.in_doubt} |"
        )
    lines.append("")
    for p in report.phases:
        logged = ", ".join(f"{k} ×{n}" for k, n in p.server_errors.items()) or "nothing"
        lines.append(f"- {p.mode}/{p.fault}: {p.detail or 'no fault'}; server logged: {logged}")
    problems = report.problems()
    lines.append("")
    lines.append("PASS: every check held" if not problems else "FAIL:\n  " + "\n  ".join(problems))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    split = lambda s: tuple(x for x in s.split(",") if x)  # noqa: E731
    defaults = Options()
    parser.add_argument("--modes", type=split, default=defaults.modes)
    parser.add_argument("--faults", type=split, default=(*defaults.faults, "redis-freeze"),
                        help=f"any of {','.join(FAULTS)}")  # fmt: skip
    parser.add_argument("--services", choices=["private", "system"], default="private")
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--hold", type=float, default=defaults.hold)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep-logs", type=Path, help="keep the server logs in this directory")
    args = parser.parse_args(argv)
    if unknown := set(args.faults) - set(FAULTS):
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    if args.keep_logs:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
    options = Options(
        modes=args.modes, faults=args.faults, services=args.services, clients=args.clients,
        workers=args.workers, threads=args.threads, hold=args.hold, log_dir=args.keep_logs,
    )  # fmt: skip
    report = run(options)
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    if report.problems():
        raise SystemExit(1)


if __name__ == "__main__":
    main()
