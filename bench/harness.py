"""What every load benchmark shares: a scratch database, gunicorn on a free port, wrk."""

import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
# A browser's User-Agent: the reader beacon does not count requests without one (bots).
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
BEACON_SCRIPT = Path(__file__).with_name("beacon.lua")


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url(url: str = "redis://127.0.0.1:6379/3") -> str:
    """``url`` if a Redis server answers there, else ""."""
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=2).ping()
        return url
    except Exception:
        return ""


def bench_env(database_url: str, redis_url: str = "", **extra) -> dict:
    """Production settings (bench/settings.py: plus the floor view, over plain HTTP)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "SITE_URL": "http://127.0.0.1",
        "DATABASE_URL": database_url,
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    env.update({key: str(value) for key, value in extra.items()})
    return env


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def django_run(env: dict, code: str) -> str:
    """Run ``code`` with Django set up (what ``manage.py shell -c`` does); returns stdout."""
    return manage(env, "shell", "--no-imports", "-c", code)


def recreate_postgres_database(name: str) -> str:
    """Drop and create the scratch database ``name``; returns its DATABASE_URL."""
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES}/{name}"


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settle_postgres_database(database_url: str) -> None:
    """VACUUM ANALYZE and CHECKPOINT after a bulk load (the tables' statistics and visibility
    map up to date, the dirty pages written), so no background work runs during a measurement."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


def sql(database_url: str, query: str, *params):
    """The first row of ``query`` on the scratch database."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchone()


def delete_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


class Gunicorn:
    """gunicorn serving the project with config/gunicorn.py (gthread workers; a graceful stop
    writes or flushes the reads counted) on a free loopback port, its output in ``log``: the one
    way the benchmarks and the server tests start the site. Started when made, ready once
    ``/healthz`` answers 200; usable with ``with`` (a graceful stop at the end). ``args`` are
    further gunicorn options (they win over the defaults here)."""

    def __init__(self, env: dict, log: Path, *, workers: int = 4, threads: int = 4, args=()):
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [
            PYTHON, "-m", "gunicorn", "config.wsgi:application", "-c", "config/gunicorn.py",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
            "--threads", str(threads), "--keep-alive", "30", "--timeout", "30",
            "--graceful-timeout", "20", *args,
        ]  # fmt: skip
        with open(log, "ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.origin + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"gunicorn did not start within 60 s:\n{log.read_text()[-3000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self) -> int:
        """Graceful (SIGTERM): requests in progress finish, the exit hooks run; killed after 60 s.
        Returns gunicorn's exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def worker_pids(self) -> list[int]:
        """gunicorn's workers: the master's children, found in /proc."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                found.append(int(entry.name))
        return found


@dataclass
class Result:
    name: str
    connections: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors + responses other than 2xx/3xx
    socket_errors: int = 0
    extra: dict = field(default_factory=dict)  # what a wrk Lua script reported (WRK-JSON line)

    @property
    def ok(self) -> bool:
        return self.errors == 0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNITS[unit]


def wrk(
    name: str,
    url: str,
    connections: int,
    seconds: int = 5,
    *,
    headers: dict | None = None,
    script: Path | None = None,
    script_args: tuple = (),
) -> Result:
    """Run wrk (Debian package ``wrk``) and parse requests/s, p50, p99 and errors (socket
    errors and responses other than 2xx/3xx). A Lua ``script`` may print one ``WRK-JSON {...}``
    line from its ``done()``; it is returned as ``Result.extra``."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench does it)")
    command = ["wrk", "--latency", "-t", str(min(connections, 2)), "-c", str(connections),
               "-d", f"{seconds}s", "--timeout", "10s"]  # fmt: skip
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *map(str, script_args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    output = done.stdout
    if done.returncode or "Requests/sec" not in output:
        raise RuntimeError(f"wrk failed:\n{output}\n{done.stderr}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1))
    status_errors = socket_errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        status_errors = int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        socket_errors = sum(map(int, match.groups()))
    extra = {}
    if match := re.search(r"^WRK-JSON (.*)$", output, re.MULTILINE):
        extra = json.loads(match.group(1))
    return Result(
        name, connections, rps, p50, p99, total, status_errors + socket_errors, socket_errors, extra
    )


class Nginx:
    """nginx with deploy/nginx.conf (the proxy cache included) in front of ``upstream_port``, on
    a free loopback port, plus ``/bench/static-post.html`` served from ``static_file`` (and its
    .gz): the same bytes as a plain static file, the yardstick for the edge cache."""

    def __init__(self, upstream_port: int, static_file: Path, tmp: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tmp / f"nginx-{self.port}"
        (self.dir / "cache").mkdir(parents=True)
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        for old, new in (
            ("server web:8000;", f"server 127.0.0.1:{upstream_port};"),
            ("listen 80;", f"listen 127.0.0.1:{self.port};"),
            ("/var/cache/nginx/blog", str(self.dir / "cache")),
            (
                "    location /media/ {",
                f"""    location = /bench/static-post.html {{
        alias {static_file};
        gzip_static on;
    }}

    location /media/ {{""",
            ),
        ):
            assert old in site, old
            site = site.replace(old, new)
        (self.dir / "nginx.conf").write_text(
            f"daemon off; user root; worker_processes 2; pid {self.dir}/nginx.pid;\n"
            f"error_log {self.dir}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            # As the official image's nginx.conf (docker-compose's proxy): sendfile on.
            f"http {{ include /etc/nginx/mime.types; access_log off; sendfile on; {site} }}\n"
        )
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            ["nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/bench/static-post.html", timeout=2).read()
                return self
            except OSError:
                if self.process.poll() is not None:
                    error = self.process.stderr.read().decode()
                    raise RuntimeError(f"nginx exited: {error}") from None
                time.sleep(0.2)
        raise RuntimeError("nginx did not start within 30 s")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGQUIT)  # graceful
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class MemorySampler:
    """This process's resident memory, sampled in a thread beside a progress count, to show that
    an import's memory stays flat: ``count`` is advanced by the caller, ``samples`` holds
    (count, RSS in KiB) pairs."""

    def __init__(self, every: float = 0.1):
        self.count = 0
        self.samples: list[tuple[int, int]] = []
        self._every = every
        threading.Thread(target=self._sample, daemon=True).start()

    @staticmethod
    def rss_kib() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    def _sample(self) -> None:
        while True:
            self.samples.append((self.count, self.rss_kib()))
            time.sleep(self._every)

    def figures(self, tenth: int) -> dict:
        """RSS after ``tenth`` counted, at the end, and the peak, in MiB."""
        end = self.rss_kib()
        after_tenth = next((rss for n, rss in self.samples if n >= tenth), end)
        return {
            "rss_tenth_mib": round(after_tenth / 1024, 1),
            "rss_end_mib": round(end / 1024, 1),
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
