"""How many reads one script can add to one post: `python -m bench.scripted_reads`.

A real gunicorn server (tests/servers.py: the test settings on a SQLite file, two workers sharing
Redis as the cache, as in production) and one client address; 4 threads send the reader beacon as fast as they can for 10 s, in two ways:

- ``cookies=1`` and no cookie: each beacon says it keeps cookies and brings none, so each is a
  new visitor;
- ``cookies=0`` with a new User-Agent on each beacon: each is a new hashed visitor.

It prints, per way, the beacons sent and the reads the database gained. docs/readers.md has the
figures before and after the per-address bounds.
"""

import argparse
import http.client
import json
import tempfile
import threading
import time
import uuid
from pathlib import Path

import redis

from tests.servers import ServerDatabase

POST = 10001
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0 Safari"


def drive(origin: str, mode: str, threads: int, seconds: float) -> int:
    """Beacons sent by ``threads`` threads for ``seconds``."""
    sent = [0] * threads
    deadline = time.monotonic() + seconds

    def script(n: int):
        conn = http.client.HTTPConnection(origin.removeprefix("http://"), timeout=30)
        while time.monotonic() < deadline:
            sent[n] += 1
            version = 10_000 * n + sent[n]
            conn.request(
                "POST",
                f"/archives/{POST}/read",
                body="cookies=1" if mode == "cookies=1" else "cookies=0",
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Sec-Fetch-Site": "same-origin",
                    "User-Agent": AGENT.format(100 if mode == "cookies=1" else version),
                },
            )
            conn.getresponse().read()

    workers = [threading.Thread(target=script, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/1")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = ServerDatabase(Path(tmp))
        database.seed([{"id": POST, "title": "被刷的文章", "reader_count": 0}], Path(tmp))
        for mode in ("cookies=1", "cookies=0"):
            prefix = f"bench-scripted-{uuid.uuid4().hex[:12]}"  # a fresh cache for each way
            env = {"REDIS_URL": options.redis, "CACHE_KEY_PREFIX": prefix}
            server = database.serve(Path(tmp) / f"{mode}.log", workers=2, threads=8, **env)
            try:
                before = database.reader_count(POST)
                sent = drive(server.origin, mode, options.threads, options.seconds)
                added = database.reader_count(POST) - before
            finally:
                server.stop()
                client = redis.Redis.from_url(options.redis)
                for key in client.scan_iter(f"{prefix}*"):
                    client.delete(key)
            result = {"mode": mode, "seconds": options.seconds, "beacons": sent, "reads": added}
            print(json.dumps(result), flush=True)
        database.drop()


if __name__ == "__main__":
    main()
