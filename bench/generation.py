"""What learning of changes costs a cache hit: the embedded default (`make run`: SQLite,
local-memory cache) and PostgreSQL, both without Redis (which plays no part in it), under
gunicorn, against the floor.

    python -m bench.generation [--seconds 5] [--connections 16]

Every request first asks whether any process has committed a change (caching.generation), over
the process's own connection: on SQLite ``PRAGMA data_version``, on PostgreSQL a non-blocking read
of the notifications already on its socket (LISTEN/NOTIFY). The cached post page is measured beside
the trivial view, in the same run, then again while another process commits a change every 50 ms
(so every request learns of a new generation and renders afresh).
"""

import argparse
import tempfile
import threading
import time
from pathlib import Path

from .harness import (
    Gunicorn,
    bench_env,
    django_run,
    drop_postgres_database,
    manage,
    recreate_postgres_database,
    wrk,
)

SAVE = (
    "import time; from blog.models import Post; post = Post.objects.get(pk={pk})\n"
    "deadline = time.monotonic() + {seconds}\n"
    "while time.monotonic() < deadline:\n"
    "    post.save(update_fields=['updated_at']); time.sleep(0.05)\n"
)


def measure(label: str, database_url: str, tmp: Path, args) -> list[tuple]:
    env = bench_env(database_url)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "load_demo_content", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    pk = int(django_run(env, "from blog.models import Post; print(Post.objects.first().pk)"))
    rows = []
    with Gunicorn(env, workers=2, threads=4, log=tmp / f"{label}.log") as server:
        for url in (f"{server.origin}/archives/{pk}/", server.origin + "/bench/floor"):
            wrk("warm-up", url, args.connections, 1)
        floor = wrk("floor", server.origin + "/bench/floor", args.connections, args.seconds)
        hit = wrk("cached post", f"{server.origin}/archives/{pk}/", args.connections, args.seconds)
        saver = threading.Thread(
            target=django_run, args=(env, SAVE.format(pk=pk, seconds=args.seconds + 2)), daemon=True
        )
        saver.start()
        time.sleep(1)
        busy = wrk(
            "cached post, saves", f"{server.origin}/archives/{pk}/", args.connections, args.seconds
        )
        saver.join()
    for result in (floor, hit, busy):
        rows.append((label, result.name, result.requests_per_second, result.errors))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows += measure("SQLite, no Redis", f"sqlite:///{tmp / 'bench.sqlite3'}", tmp, args)
        postgres = recreate_postgres_database("blog_bench_generation")
        try:
            rows += measure("PostgreSQL, no Redis", postgres, tmp, args)
        finally:
            drop_postgres_database("blog_bench_generation")
    print("\n| database | request | req/s | of the floor | errors |\n|---|---|---|---|---|")
    floors = {label: rps for label, name, rps, _ in rows if name == "floor"}
    for label, name, rps, errors in rows:
        print(f"| {label} | {name} | {rps:,.0f} | {rps / floors[label]:.2f} | {errors} |")


if __name__ == "__main__":
    main()
