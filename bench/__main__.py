"""`make bench`: the site under gunicorn on PostgreSQL, measured page by page against the floor.

Fills a scratch PostgreSQL database with a synthetic blog, starts gunicorn with production
settings (and Redis when it answers), and measures each page with wrk at 1, 16 and 64 concurrent
clients beside a trivial Django view (the floor) and the same post bytes served as a static file.
Writes bench/results/pages.md and bench/results/pages.png.
"""

import argparse
import os
import subprocess
import sys
import urllib.error
import urllib.request

from . import report
from .harness import ROOT, Gunicorn, bench_env, manage, recreate_postgres_database, wrk

RESULTS = ROOT / "bench" / "results"
PAGES = [
    ("home", "/"),
    ("list page 150", "/page/150/"),
    ("post (long thread)", "{long_thread_post}"),
    ("series page", "/series/s0/"),
    ("archive", "/archives/"),
    ("feed", "/feed/"),
    ("cite.bib", "{post}cite.bib"),
    ("search", "/search/?q=%E6%B3%A8%E6%84%8F%E5%8A%9B"),
]


def redis_url() -> str:
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/3").ping()
        return "redis://127.0.0.1:6379/3"
    except Exception:
        return ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--database", default="blog_bench")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.connections.split(",")]

    database_url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    cache_url = redis_url()
    env = bench_env(database_url, cache_url)
    print(f"== scratch database {args.database}; cache: {cache_url or 'local memory'}")
    recreate_postgres_database(args.database)
    manage(env, "migrate", "--no-input", "-v", "0")
    print(f"== synthetic blog: {args.posts} posts, {args.comments} comments")
    subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from bench.synth import build; "
         f"print(build(posts={args.posts}, comments={args.comments}))"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    manage(env, "collectstatic", "--no-input", "-v", "0")

    results, floor = [], {}
    with Gunicorn(env, workers=max(2, (os.cpu_count() or 2) * 2)) as server:
        newest = _newest_post(server.url)
        static = ROOT / "staticfiles" / "bench-post.html"
        static.write_bytes(urllib.request.urlopen(server.url + newest).read())
    with Gunicorn(env, workers=max(2, (os.cpu_count() or 2) * 2)) as server:
        targets = [("floor: trivial Django view", "/bench/floor"),
                   ("static file (same post bytes)", "/static/bench-post.html")]  # fmt: skip
        targets += [
            (name, path.format(post=newest, long_thread_post=newest)) for name, path in PAGES
        ]
        for name, path in targets:
            if not _answers(server.url + path):
                print(f"   {name}: {path} does not answer 200 here, skipped")
                continue
            for level in levels:
                result = wrk(name, server.url + path, level, args.seconds)
                results.append(result)
                if name.startswith("floor"):
                    floor[level] = result
                print(
                    f"   {name:32} c={level:<3} {result.requests_per_second:8.0f} req/s "
                    f"p50 {result.p50_ms:6.1f} ms p99 {result.p99_ms:6.1f} ms errors {result.errors}"
                )
    RESULTS.mkdir(exist_ok=True)
    notes = [
        f"{args.posts} posts, {args.comments} comments, gunicorn gthread on "
        f"{os.cpu_count()} cores, PostgreSQL, cache: {'Redis' if cache_url else 'local memory'}.",
        "Ratios compare each page's requests/s with the trivial Django view at the same concurrency.",
    ]
    (RESULTS / "pages.md").write_text(report.markdown(results, floor, "Page benchmark", notes))
    report.chart(
        results, floor, RESULTS / "pages.png", "Page throughput relative to the framework floor"
    )
    print(f"== wrote {RESULTS / 'pages.md'} and pages.png")


def _newest_post(base: str) -> str:
    import re

    html = urllib.request.urlopen(base + "/").read().decode()
    return re.search(r'href="(/archives/\d+/)"', html).group(1)


def _answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=10).status == 200
    except urllib.error.URLError:
        return False


if __name__ == "__main__":
    main()
