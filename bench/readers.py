"""Benchmark of the reader beacon (POST /archives/<id>/read) under gunicorn on PostgreSQL.

    python -m bench.readers [--seconds 5] [--concurrency 1,16,64] [--modes direct,buffered]

For each storage mode (direct database increments; buffered in Redis) it starts gunicorn with the
production settings on a scratch PostgreSQL database, then drives with wrk, at each concurrency:

- a trivial Django view (bench/urls.py), sent the very same POST, as the yardstick;
- the beacon, every request a distinct reader (its own visitor cookie), all on one hot post.

It reports requests/s, p50/p99 latency, errors, and lost counts: reads the server acknowledged
as counted (``"counted": true``) that are missing from the database afterwards (after a flush in
buffered mode). Must be 0. Reads the server counted whose answer wrk did not wait for (in flight
when the run stopped) are reported separately as "unacknowledged". Traffic stays on 127.0.0.1.

Needs: PostgreSQL on 127.0.0.1:5432 (BENCH_DATABASE_URL to change), Redis (BENCH_REDIS_URL,
default database 1), and wrk (Debian: apt-get install -y wrk; `make bench-readers` installs it).
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import closing
from datetime import datetime
from pathlib import Path

import psycopg
import redis

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blog_bench_readers"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
HOT_POST = 10520
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

# Every request a distinct reader: a visitor cookie made of the run id, wrk thread and a counter.
WRK_SCRIPT = r"""
local threads = {}
local counter = 0
-- globals, so that done() can read them from each thread with thread:get()
ok, counted = 0, 0

setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

init = function(args)
  path, run = args[1], tonumber(args[2])
end

request = function()
  counter = counter + 1
  local cookie = string.format("reader=%08x%08x%016x", run, tid, counter)
  return wrk.format("POST", path, {
    ["Cookie"] = cookie,
    ["Sec-Fetch-Site"] = "same-origin",
    ["User-Agent"] = "%(agent)s",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "cookies=1")
end

response = function(status, headers, body)
  if status == 200 then ok = ok + 1 end
  if string.find(body, '"counted": true', 1, true) then counted = counted + 1 end
end

done = function(summary, latency, requests)
  local sum_ok, sum_counted = 0, 0
  for _, thread in ipairs(threads) do
    sum_ok = sum_ok + thread:get("ok")
    sum_counted = sum_counted + thread:get("counted")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %%d, "duration_us": %%d, "ok": %%d, "counted": %%d, ' ..
    '"errors": %%d, "p50_us": %%d, "p99_us": %%d}\n',
    summary.requests, summary.duration, sum_ok, sum_counted,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
""".replace("%(agent)s", BROWSER).replace("%%", "%")


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bench:
    def __init__(self, args):
        self.args = args
        self.prefix = f"bench-readers-{uuid.uuid4().hex[:8]}"
        self.name = DATABASE_URL.rsplit("/", 1)[1]
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-readers-"))
        self.script = self.tmp / "beacon.lua"
        self.script.write_text(WRK_SCRIPT)
        self.run_id = 0

    def env(self, **extra) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "SITE_URL": "http://127.0.0.1",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": self.prefix,
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def manage(self, *args, **env):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env(**env), check=True
        )

    # -- database ---------------------------------------------------------------------------

    def create_database(self):
        admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.manage("migrate", "--no-input", "-v", "0")
        seed = {
            "authors": [{"username": "sujianlin", "display_name": "苏剑林"}],
            "categories": [],
            "tags": [],
            "series": [],
            "posts": [
                {
                    "id": HOT_POST + n,
                    "title": f"基准测试文章{n}",
                    "body": "正文，带公式 $E=mc^2$。\n",
                    "published_at": "2024-05-13T10:00:00+08:00",
                    "authors": ["sujianlin"],
                    "reader_count": 84757,
                }
                for n in range(3)
            ],
        }
        file = self.tmp / "seed.json"
        file.write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
        self.manage("load_demo_content", "--file", str(file), "-v", "0")

    def stored(self) -> int:
        with psycopg.connect(DATABASE_URL) as conn:
            query = "SELECT reader_count FROM blog_post WHERE id = %s"
            return conn.execute(query, [HOT_POST]).fetchone()[0]

    def drop_database(self):
        admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{self.prefix}*"):
            client.delete(key)

    # -- server and load --------------------------------------------------------------------

    def start_server(self, mode: str):
        port = free_port()
        log = open(self.tmp / f"gunicorn-{mode}.log", "ab")  # noqa: SIM115 (closed in stop)
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.py",
            "--bind", f"127.0.0.1:{port}", "--workers", str(self.args.workers),
            "--threads", str(self.args.threads), "--keep-alive", "30",
        ]  # fmt: skip
        env = self.env(
            BLOG_READER_BUFFER=int(mode == "buffered"),
            BLOG_READER_FLUSH_INTERVAL=self.args.flush_interval,
        )
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)
        origin = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                request = urllib.request.Request(f"{origin}/bench/floor", method="POST")
                with urllib.request.urlopen(request, timeout=2):
                    return process, origin, log
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not start; see {log.name}")

    def wrk(self, origin: str, path: str, connections: int, seconds: float) -> dict:
        self.run_id += 1
        command = [
            "wrk", "--latency", "-t", str(min(connections, 2)), "-c", str(connections),
            "-d", f"{seconds}s", "--timeout", "10s", "-s", str(self.script),
            origin, "--", path, str(self.run_id),
        ]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        lines = [line for line in out.stdout.splitlines() if line.startswith("WRK-JSON ")]
        if not lines:
            raise SystemExit(f"wrk failed:\n{out.stdout}\n{out.stderr}")
        line = lines[0]
        result = json.loads(line.removeprefix("WRK-JSON "))
        seconds_run = result["duration_us"] / 1e6
        result["rps"] = result["requests"] / seconds_run
        return result

    def run(self) -> list[dict]:
        rows = []
        self.create_database()
        try:
            for mode in self.args.modes:
                process, origin, log = self.start_server(mode)
                try:
                    # Warm up every worker (imports, connections) before measuring.
                    self.wrk(origin, "/bench/floor", 16, 2)
                    for connections in self.args.concurrency:
                        rows.append(self.measure(mode, origin, connections))
                finally:
                    process.send_signal(signal.SIGTERM)  # graceful: flushes the buffer too
                    process.wait(timeout=60)
                    log.close()
        finally:
            self.drop_database()
        return rows

    def measure(self, mode: str, origin: str, connections: int) -> dict:
        seconds = self.args.seconds
        trivial = self.wrk(origin, "/bench/floor", connections, seconds)
        before = self.stored()
        beacon = self.wrk(origin, f"/archives/{HOT_POST}/read", connections, seconds)
        time.sleep(1)  # let requests still in flight when wrk stopped finish
        if mode == "buffered":
            self.manage("flush_reader_counts", "-v", "0", BLOG_READER_BUFFER=1)
        stored = self.stored() - before
        row = {
            "mode": mode,
            "concurrency": connections,
            "trivial_rps": round(trivial["rps"]),
            "trivial_p50_ms": trivial["p50_us"] / 1000,
            "trivial_p99_ms": trivial["p99_us"] / 1000,
            "beacon_rps": round(beacon["rps"]),
            "beacon_p50_ms": beacon["p50_us"] / 1000,
            "beacon_p99_ms": beacon["p99_us"] / 1000,
            "ratio": round(beacon["rps"] / trivial["rps"], 2),
            "requests": beacon["requests"],
            "errors": beacon["errors"] + (beacon["requests"] - beacon["ok"]),
            "acknowledged": beacon["counted"],
            "stored": stored,
            "lost": max(0, beacon["counted"] - stored),
            "unacknowledged": max(0, stored - beacon["counted"]),
        }
        print(format_row(row), flush=True)
        return row


HEADER = (
    f"{'mode':<9}{'conc':>5} | {'trivial r/s':>11}{'p50 ms':>8}{'p99 ms':>8} | "
    f"{'beacon r/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7} | "
    f"{'errors':>6}{'acked':>7}{'stored':>7}{'lost':>5}{'in flight':>10}"
)


def format_row(row: dict) -> str:
    return (
        f"{row['mode']:<9}{row['concurrency']:>5} | {row['trivial_rps']:>11}"
        f"{row['trivial_p50_ms']:>8.2f}{row['trivial_p99_ms']:>8.2f} | {row['beacon_rps']:>10}"
        f"{row['beacon_p50_ms']:>8.2f}{row['beacon_p99_ms']:>8.2f}{row['ratio']:>7.2f} | "
        f"{row['errors']:>6}{row['acknowledged']:>7}{row['stored']:>7}{row['lost']:>5}"
        f"{row['unacknowledged']:>10}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="Length of each wrk run.")
    parser.add_argument(
        "--concurrency", type=lambda s: [int(n) for n in s.split(",")], default=[1, 16, 64]
    )
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["direct", "buffered"])
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument(
        "--flush-interval", type=int, default=60, help="seconds between automatic flushes"
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk (or `make bench-readers`).")
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads, production settings, "
        f"PostgreSQL + Redis on 127.0.0.1, {os.cpu_count()} CPUs, {args.seconds:g} s per run"
    )
    print(HEADER)
    rows = Bench(args).run()
    results = BASE_DIR / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"readers-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))
    print(f"results: {out.relative_to(BASE_DIR)}")
    if any(row["lost"] for row in rows):
        raise SystemExit("LOST COUNTS: acknowledged reads are missing from the database")


if __name__ == "__main__":
    main()
