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

Needs: PostgreSQL on 127.0.0.1:5432 (the scratch database is BENCH_DATABASE, default
blog_bench_readers), Redis (BENCH_REDIS_URL, default database 1), and wrk (Debian: apt-get install
-y wrk; `make bench-readers` installs it). Shares bench/harness.py and bench/beacon.lua with
`make bench`.
"""

import argparse
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from .harness import (
    BEACON_SCRIPT,
    BROWSER,
    ROOT,
    Gunicorn,
    bench_env,
    delete_redis_keys,
    drop_postgres_database,
    manage,
    recreate_postgres_database,
    sql,
    wrk,
)

DATABASE = os.environ.get("BENCH_DATABASE", "blog_bench_readers")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
HOT_POST = 10520


class Bench:
    def __init__(self, args):
        self.args = args
        self.prefix = f"bench-readers-{uuid.uuid4().hex[:8]}"
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-readers-"))
        self.database_url = ""
        self.run_id = random.randrange(1 << 24) << 8  # cookies differ from any earlier run's

    def env(self, **extra) -> dict:
        return bench_env(self.database_url, REDIS_URL, CACHE_KEY_PREFIX=self.prefix, **extra)

    # -- database ---------------------------------------------------------------------------

    def create_database(self):
        self.database_url = recreate_postgres_database(DATABASE)
        manage(self.env(), "migrate", "--no-input", "-v", "0")
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
        manage(self.env(), "load_demo_content", "--file", str(file), "-v", "0")

    def stored(self) -> int:
        return sql(self.database_url, "SELECT reader_count FROM blog_post WHERE id = %s", HOT_POST)[
            0
        ]

    def drop_database(self):
        drop_postgres_database(DATABASE)
        delete_redis_keys(REDIS_URL, self.prefix)

    # -- server and load --------------------------------------------------------------------

    def server(self, mode: str) -> Gunicorn:
        env = self.env(
            BLOG_READER_BUFFER=int(mode == "buffered"),
            BLOG_READER_FLUSH_INTERVAL=self.args.flush_interval,
        )
        log = self.tmp / f"gunicorn-{mode}.log"
        return Gunicorn(env, workers=self.args.workers, threads=self.args.threads, log=log)

    def beacon(self, origin: str, path: str, connections: int, seconds: float) -> dict:
        self.run_id += 1
        result = wrk(
            "beacon", origin, connections, seconds,
            script=BEACON_SCRIPT, script_args=(path, self.run_id, origin, BROWSER),
        )  # fmt: skip
        return result.extra | {"rps": result.requests_per_second}

    def run(self) -> list[dict]:
        rows = []
        self.create_database()
        try:
            for mode in self.args.modes:
                with self.server(mode) as server:
                    # Warm up every worker (imports, connections) before measuring.
                    wrk("warm-up", server.origin + "/bench/floor", 16, 2)
                    for connections in self.args.concurrency:
                        rows.append(self.measure(mode, server.origin, connections))
        finally:
            self.drop_database()
        return rows

    def measure(self, mode: str, origin: str, connections: int) -> dict:
        seconds = self.args.seconds
        trivial = self.beacon(origin, "/bench/floor", connections, seconds)
        before = self.stored()
        beacon = self.beacon(origin, f"/archives/{HOT_POST}/read", connections, seconds)
        time.sleep(1)  # let requests still in flight when wrk stopped finish
        if mode == "buffered":
            manage(self.env(BLOG_READER_BUFFER=1), "flush_reader_counts", "-v", "0")
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
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"readers-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))
    print(f"results: {out.relative_to(ROOT)}")
    if any(row["lost"] for row in rows):
        raise SystemExit("LOST COUNTS: acknowledged reads are missing from the database")


if __name__ == "__main__":
    main()
