"""`make bench`: the site under gunicorn on PostgreSQL, measured page by page against the floor.

    python -m bench [--seconds 5] [--repeat 3] [--connections 1,16,64] [--only home,beacon]
                    [--no-flat] [--no-scale-out] [--posts 2000] [--comments 50000] [--keep]

1. Page cost flat: fills a scratch PostgreSQL database with the first 200 posts of a synthetic
   blog (bench/synth.py), measures the uncached home, post and series pages, adds the other
   1,800 posts and measures them again; then the uncached post page with 0 and with 500 comments
   (its first page of comments).
2. Pages: gunicorn with production settings (and Redis when it answers, with reads buffered
   there), wrk at 1, 16 and 64 clients on every public page the issue lists, beside a trivial
   Django view (the floor) and the same post bytes served as a static file; the reader beacon
   with a new reader per request, and the reads stored afterwards compared with those
   acknowledged ("lost").
3. Scale-out (with Redis): two gunicorn instances on two ports sharing PostgreSQL and Redis;
   an edit and a comment approval made outside both show on the next request to each, beacons
   sent to both add up, and both serve cached pages under load at once.

Every request carries ``Accept-Encoding: gzip`` as browsers send it ("uncached" ones also a
``messages`` cookie, which makes the page cache step aside). Writes bench/results/pages.md and
pages.png. Absolute numbers depend on the machine; the ratios to the floor measured in the same
run are the result.
"""

import argparse
import concurrent.futures
import gzip
import json
import os
import random
import re
import shutil
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from . import report
from .harness import (
    BEACON_SCRIPT,
    BROWSER,
    ROOT,
    Gunicorn,
    Nginx,
    Result,
    bench_env,
    delete_redis_keys,
    django_run,
    drop_postgres_database,
    manage,
    recreate_postgres_database,
    redis_url,
    settle_postgres_database,
    sql,
    wrk,
)

RESULTS = ROOT / "bench" / "results"
BROWSER_HEADERS = {"Accept-Encoding": "gzip", "User-Agent": BROWSER}
UNCACHED = {"Cookie": "messages=x"}  # caching.pages.PRIVATE_COOKIES: the cache steps aside
FLOOR = "floor: trivial Django view"
STATIC = "static file (same post bytes)"
EDGE_STATIC = "nginx: static file (same post bytes)"  # the yardstick of the edge rows
EDGE_PAGE = "nginx cache: post, 500 comments"
EDGE_BEACON = "nginx: reader beacon (not cached)"
BEACON = "reader beacon"
VISIT = "visit: post page + its beacon"
# (name, path, uncached?); {probe} etc. are the landmark posts of bench/synth.py.
PAGES = [
    (FLOOR, "/bench/floor", False),
    (STATIC, "/static/bench-post.html", False),
    ("home", "/", False),
    ("list page 150", "/page/150/", False),
    ("post, 500 comments", "/archives/{long_thread}/", False),
    ("post, 500 comments, uncached", "/archives/{long_thread}/", True),
    ("post, 0 comments, uncached", "/archives/{quiet}/", True),
    ("last comment page, uncached", "/archives/{long_thread}/comment-page-17/", True),  # 500/30
    ("series page", "/series/{series_slug}/", False),
    ("archive", "/archives/", False),
    ("feed", "/feed/", False),
    ("cite.bib", "/archives/{probe}/cite.bib", False),
    ("search", "/search/?q=%E6%B3%A8%E6%84%8F%E5%8A%9B", False),
    (BEACON, "/archives/{probe}/read", False),
    (VISIT, "/archives/{probe}/", False),
]
READ_TARGETS = {BEACON: 0.60, VISIT: 0.50}  # of the floor (issue 14)
BEACON_ROWS = {BEACON: None, VISIT: "/archives/{probe}/"}  # name: the page a visit loads first
CACHED_PAGES = [name for name, _, uncached in PAGES[2:] if not uncached and name not in BEACON_ROWS]
FLAT_PAGES = [
    ("home", "/"),
    ("post (series part, ~25 comments)", "/archives/{probe}/"),
    ("series page (12 parts)", "/series/{series_slug}/"),
]


class Bench:
    def __init__(self, args):
        self.args = args
        self.cache_url = redis_url() if args.cache == "redis" else ""
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}"
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-"))
        self.database_url = ""
        self.run_id = random.randrange(1 << 24) << 8  # reader cookies unlike any earlier run's
        self.landmarks: dict = {}
        self.results: list[Result] = []
        self.floor: dict[int, Result] = {}
        self.flat: list[tuple] = []  # (page, label a, Result a, label b, Result b)
        self.edge_results: list[Result] = []  # ratios to nginx's static file
        self.scale: dict = {}
        self.origin = ""  # the measured server's URL

    @property
    def env(self) -> dict:
        return bench_env(
            self.database_url,
            self.cache_url,
            CACHE_KEY_PREFIX=self.prefix,
            BLOG_READER_BUFFER=int(bool(self.cache_url)),
        )

    def server(self, name: str, workers: int | None = None) -> Gunicorn:
        return Gunicorn(
            self.env,
            workers=workers or self.args.workers,
            threads=self.args.threads,
            log=self.tmp / f"gunicorn-{name}.log",
        )

    def wanted(self, name: str) -> bool:
        only = self.args.only
        return not only or name == FLOOR or any(word in name for word in only)

    # -- the database -----------------------------------------------------------------------

    def fill(self, **stage) -> None:
        code = (
            "import json; from bench.synth import build; "
            f"print('SYNTH', json.dumps(build(posts={self.args.posts}, "
            f"comments={self.args.comments}, **{stage!r})))"
        )
        started = time.monotonic()
        out = django_run(self.env, code)
        made = json.loads(re.search(r"^SYNTH (.*)$", out, re.MULTILINE).group(1))
        # What autovacuum would do in the minutes after a bulk load, done now rather than during
        # the measurements: planner statistics for the new rows, the visibility map, a checkpoint.
        settle_postgres_database(self.database_url)
        self.landmarks = {k: made[k] for k in ("probe", "long_thread", "quiet", "series_slug")}
        print(
            f"   {made['posts']} posts, {made['comments']} comments "
            f"({time.monotonic() - started:.0f} s)",
            flush=True,
        )

    def path(self, template: str) -> str:
        return template.format(**self.landmarks)

    # -- measurements -----------------------------------------------------------------------

    def measure(self, name, url, connections, headers=None, floor=None) -> Result:
        result = wrk(
            name, url, connections, self.args.seconds, headers=BROWSER_HEADERS | (headers or {})
        )
        if floor:
            result.extra["floor_rps"] = floor.requests_per_second
        self._print(result)
        return result

    def floor_now(self, connections: int, url: str = "") -> Result:
        """The floor again, right before a measurement: the machine's load drifts. ``url``:
        another yardstick (nginx serving a static file)."""
        return wrk(FLOOR, url or self.origin + "/bench/floor", connections, self.args.seconds,
                   headers=BROWSER_HEADERS)  # fmt: skip

    def measure_repeated(
        self, name, url, connections, uncached, by_ratio=True, floor_url=""
    ) -> Result:
        """``--repeat`` pairs of (floor, page); the pair with the median ratio (or the median
        page throughput) is the result. A burst of load from elsewhere on a shared machine
        spoils one pair, not the row."""
        pairs = []
        for _ in range(self.args.repeat):
            floor = self.floor_now(connections, floor_url)
            result = wrk(name, url, connections, self.args.seconds,
                         headers=BROWSER_HEADERS | (UNCACHED if uncached else {}))  # fmt: skip
            result.extra["floor_rps"] = floor.requests_per_second
            pairs.append((result.requests_per_second / floor.requests_per_second, result))
        pairs.sort(key=lambda pair: pair[0] if by_ratio else pair[1].requests_per_second)
        result = pairs[len(pairs) // 2][1]
        if len(pairs) > 1:
            result.extra["note"] = "runs: " + ", ".join(f"{r:.2f}" for r, _ in pairs)
        self._print(result)
        return result

    def beacon(self, name, origin, path, connections, seconds=None, page=None) -> Result:
        """wrk with bench/beacon.lua: beacons to ``path``, each from a new reader; with ``page``,
        visits (the page, then the beacon)."""
        self.run_id += 1
        return wrk(
            name, origin, connections, seconds or self.args.seconds, script=BEACON_SCRIPT,
            script_args=(path, self.run_id, origin, BROWSER, *([page] if page else [])),
        )  # fmt: skip

    def stored_reads(self, post_id: int) -> int:
        if self.cache_url:
            manage(self.env, "flush_reader_counts", "-v", "0")
        return sql(self.database_url, "SELECT reader_count FROM blog_post WHERE id = %s", post_id)[
            0
        ]

    def measure_beacon(self, name, origin, connections, page=None, floor=None) -> Result:
        """Beacons (or, with ``page``, visits) to the probe post, each from a new reader: the
        median of ``--repeat`` pairs, each beside the floor driven by the same wrk script (the
        trivial view sent the same POSTs, and GETs for a visit), unless ``floor`` is given. Reads
        acknowledged in all runs are compared with those stored afterwards ("lost")."""
        post_id = self.landmarks["probe"]
        before = self.stored_reads(post_id)
        pairs, acked, errors = [], 0, 0
        for _ in range(1 if floor else self.args.repeat):
            base = floor or self.beacon(
                FLOOR, origin, "/bench/floor", connections, page=page and "/bench/floor"
            )
            result = self.beacon(name, origin, self.path("/archives/{probe}/read"), connections,
                                 page=page and self.path(page))  # fmt: skip
            result.errors = result.socket_errors + result.requests - result.extra["ok"]
            result.extra["floor_rps"] = base.requests_per_second
            acked += result.extra["counted"]
            errors += result.errors
            pairs.append((result.requests_per_second / base.requests_per_second, result))
        time.sleep(1)  # requests in flight when wrk stopped
        stored = self.stored_reads(post_id) - before
        pairs.sort(key=lambda pair: pair[0])
        result = pairs[len(pairs) // 2][1]
        result.errors = errors  # of every run
        result.extra |= {"stored": stored, "lost": max(0, acked - stored)}
        runs = "runs: " + ", ".join(f"{r:.2f}" for r, _ in pairs) + "; " if len(pairs) > 1 else ""
        result.extra["note"] = (
            f"{runs}{acked:,} counted, {stored:,} stored, **{result.extra['lost']} lost**"
        )
        self._print(result)
        return result

    def _print(self, r: Result) -> None:
        known = r.name != FLOOR and ("floor_rps" in r.extra or r.connections in self.floor)
        ratio = f"{report.ratio(r, self.floor):5.2f}x" if known else ""
        print(
            f"   {r.name:30} c={r.connections:<3} {r.requests_per_second:8.0f} req/s "
            f"p50 {r.p50_ms:6.1f} ms p99 {r.p99_ms:6.1f} ms errors {r.errors} {ratio} "
            f"{r.extra.get('note', '')}",
            flush=True,
        )

    def uncached(self, server: Gunicorn, name: str, template: str) -> Result:
        url = server.origin + self.path(template)
        _warm(url, UNCACHED)
        # One second unmeasured first: every worker process has loaded its templates, opened its
        # connections and filled its local caches before the measured runs start.
        wrk("warm-up", url, self.args.flat_connections, 1, headers=BROWSER_HEADERS | UNCACHED)
        self.origin = server.origin
        return self.measure_repeated(
            name, url, self.args.flat_connections, uncached=True, by_ratio=False
        )

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> None:
        args = self.args
        print(f"== scratch database {args.database}; cache: {self.cache_url or 'local memory'}")
        self.database_url = recreate_postgres_database(args.database)
        manage(self.env, "migrate", "--no-input", "-v", "0")
        manage(self.env, "collectstatic", "--no-input", "-v", "0")
        small = min(args.small_posts, args.posts)
        if args.flat:
            print(f"== page cost flat: {small} posts, then {args.posts}")
            self.fill(stop=small)
            with self.server("flat-small") as server:
                before = {
                    name: self.uncached(server, f"{name} @ {small}", t) for name, t in FLAT_PAGES
                }
            self.fill(start=small)
            with self.server("flat-large") as server:
                for name, template in FLAT_PAGES:
                    after = self.uncached(server, f"{name} @ {args.posts}", template)
                    self.flat.append(
                        (name, f"{small} posts", before[name], f"{args.posts:,} posts", after)
                    )
                none = self.uncached(server, "post, 0 comments", "/archives/{quiet}/")
                many = self.uncached(server, "post, 500 comments", "/archives/{long_thread}/")
                self.flat.append(("post page", "0 comments", none, "500 comments", many))
        else:
            self.fill()
        self.write_static_copy()
        print(f"== pages at {args.connections} clients, {args.seconds} s each")
        with self.server("pages") as server:
            self.origin = server.origin
            wrk("warm-up", server.origin + "/bench/floor", 16, 2)
            for name, template, uncached in PAGES:
                if not self.wanted(name):
                    continue
                url = server.origin + self.path(template)
                if name not in BEACON_ROWS and not _warm(url, UNCACHED if uncached else {}):
                    print(f"   {name}: {url} does not answer 200 here, skipped")
                    continue
                for level in args.connections:
                    if name == FLOOR:
                        result = self.measure(name, url, level)
                        self.floor[level] = result
                    elif name in BEACON_ROWS:
                        result = self.measure_beacon(
                            name, server.origin, level, page=BEACON_ROWS[name]
                        )
                    else:
                        result = self.measure_repeated(name, url, level, uncached)
                    self.results.append(result)
        if args.edge:
            self.edge()
        if args.scale_out and self.cache_url:
            self.scale_out()

    def edge(self) -> None:
        """deploy/nginx.conf's micro-cache in front of gunicorn, against nginx serving the same
        post's bytes as a static file, in the same run; the beacon passes through uncached."""
        print(f"== edge: nginx proxy cache at {self.args.connections} clients")
        static = ROOT / "staticfiles" / "bench-post.html"
        with self.server("edge") as server, Nginx(server.port, static, self.tmp) as nginx:
            post = nginx.url + self.path("/archives/{long_thread}/")
            _warm(post, {})
            static = nginx.url + "/bench/static-post.html"
            for level in self.args.connections:
                cached = self.measure_repeated(EDGE_PAGE, post, level, False, floor_url=static)
                floor = Result(EDGE_STATIC, level, cached.extra["floor_rps"], 0, 0, 0, 0)
                beacon = self.measure_beacon(EDGE_BEACON, nginx.url, level, floor=floor)
                self.edge_results += [cached, beacon]

    def write_static_copy(self) -> None:
        """The long-thread post's bytes as a static file (and its .gz, as collectstatic makes),
        written before the measuring server starts: whitenoise indexes files at start-up."""
        with self.server("static-copy") as server:
            url = server.origin + self.path("/archives/{long_thread}/")
            body = urllib.request.urlopen(url).read()
        static = ROOT / "staticfiles" / "bench-post.html"
        static.write_bytes(body)
        static.with_name(static.name + ".gz").write_bytes(gzip.compress(body, 9, mtime=0))

    def scale_out(self) -> None:
        """Two instances, one PostgreSQL, one Redis: consistent pages and reader totals."""
        args = self.args
        workers = max(1, args.workers // 2)
        print(f"== scale-out: two instances x {workers} workers sharing PostgreSQL and Redis")
        with self.server("a", workers) as a, self.server("b", workers) as b:
            post_path = self.path("/archives/{long_thread}/")
            post_id = self.landmarks["long_thread"]
            for server in (a, b):  # both instances hold the page in their caches
                _fetch(server.origin + post_path)
                _fetch(server.origin + post_path)
            title = f"改过的标题 {uuid.uuid4().hex[:6]}"
            django_run(
                self.env,
                "from blog.models import Post; "
                f"post = Post.objects.get(pk={post_id}); post.title = {title!r}; post.save()",
            )
            edit = {name: title in _fetch(s.origin + post_path) for name, s in (("a", a), ("b", b))}
            marker = f"待审评论{uuid.uuid4().hex[:6]}"
            comment_id = django_run(
                self.env,
                "from blog.comments.workflow import save_numbered; from blog.models import "
                f"Comment, Post; c = Comment(post=Post.objects.get(pk={post_id}), "
                f"author_name='读者', email='new@example.org', body={marker!r}); "
                "save_numbered(c); print(c.pk)",
            ).strip()
            held = not any(marker in _fetch(s.origin + post_path) for s in (a, b))
            django_run(
                self.env,
                "from blog.comments.workflow import approve; from blog.models import Comment; "
                f"approve(Comment.objects.filter(pk={comment_id}))",
            )
            approved = {
                name: marker in _fetch(s.origin + post_path) for name, s in (("a", a), ("b", b))
            }
            head = _head(b.origin + post_path)

            reads_post = self.landmarks["probe"]
            before = self.stored_reads(reads_post)
            per_instance = max(1, args.scale_connections // 2)
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                runs = list(
                    pool.map(
                        lambda s: self.beacon(
                            f"beacon on {s.origin}",
                            s.origin,
                            self.path("/archives/{probe}/read"),
                            per_instance,
                        ),
                        (a, b),
                    )
                )
            time.sleep(1)
            shown = int(
                django_run(
                    self.env,
                    f"from blog import readers; print(readers.current_count({reads_post}))",
                ).strip()
            )
            stored = self.stored_reads(reads_post)
            acked = sum(r.extra["counted"] for r in runs)
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                pages = list(
                    pool.map(
                        lambda s: wrk(
                            f"home on {s.origin}",
                            s.origin + "/",
                            per_instance,
                            args.seconds,
                            headers=BROWSER_HEADERS,
                        ),
                        (a, b),
                    )
                )
        self.scale = {
            "workers": workers,
            "edit_fresh": edit,
            "held_hidden": held,
            "approved_fresh": approved,
            "head": head,
            "acked": acked,
            "reads_a": runs[0].extra["counted"],
            "reads_b": runs[1].extra["counted"],
            "shown_before_flush": shown - before,
            "stored": stored - before,
            "lost": max(0, acked - (stored - before)),
            "beacon_errors": sum(r.errors for r in runs),
            "beacon_rps": sum(r.requests_per_second for r in runs),
            "home_rps": [p.requests_per_second for p in pages],
            "home_errors": sum(p.errors for p in pages),
            "connections": per_instance,
        }
        for key, value in self.scale.items():
            print(f"   {key}: {value}")

    def cleanup(self) -> None:
        if not self.args.keep:
            drop_postgres_database(self.args.database)
        if self.cache_url:
            delete_redis_keys(self.cache_url, self.prefix)
        for name in ("bench-post.html", "bench-post.html.gz"):
            (ROOT / "staticfiles" / name).unlink(missing_ok=True)


def _warm(url: str, headers: dict) -> bool:
    """Fetch ``url`` once (fills the caches); whether it answers 200."""
    try:
        _fetch(url, headers)
        return True
    except OSError:
        return False


def _fetch(url: str, headers: dict | None = None) -> str:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def _head(url: str) -> dict:
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=30) as response:
        return {
            "status": response.status,
            "bytes": len(response.read()),
            "etag": response.headers.get("ETag", ""),
        }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--small-posts", type=int, default=200, help="the first fill (flat cost)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument(
        "--connections", type=lambda s: [int(c) for c in s.split(",")], default=[1, 16, 64]
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="(floor, page) pairs per row; the median is kept"
    )
    parser.add_argument("--flat-connections", type=int, default=16)
    parser.add_argument("--scale-connections", type=int, default=64, help="over both instances")
    parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 2) * 2))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--only",
        type=lambda s: s.split(","),
        default=[],
        help="measure only pages whose name contains one of these words (the floor always)",
    )
    parser.add_argument("--no-flat", dest="flat", action="store_false")
    parser.add_argument("--no-scale-out", dest="scale_out", action="store_false")
    parser.add_argument("--no-edge", dest="edge", action="store_false", help="skip nginx rows")
    parser.add_argument(
        "--cache",
        choices=["redis", "local"],
        default="redis",
        help="redis (when it answers) or each process's local memory (one instance only)",
    )
    parser.add_argument("--database", default="blog_bench")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench does it)")

    bench = Bench(args)
    started = time.monotonic()
    try:
        bench.run()
    finally:
        bench.cleanup()
    RESULTS.mkdir(exist_ok=True)
    notes = [
        f"{args.posts:,} posts, {args.comments:,} comments; gunicorn {args.workers} gthread "
        f"workers x {args.threads} threads on {os.cpu_count()} cores, production settings, "
        f"PostgreSQL, cache: {'Redis (reads buffered there)' if bench.cache_url else 'local memory'}; "
        f"wrk {args.seconds:g} s per run, `Accept-Encoding: gzip` on every request; "
        "× floor = req/s over the floor's req/s measured just before, at the same concurrency; "
        f"each page row is the median of {args.repeat} (floor, page) pairs (runs: their ratios); "
        f"whole run {(time.monotonic() - started) / 60:.1f} min.",
    ]
    text = report.markdown(bench.results, bench.floor, "Page benchmark", notes)
    text += report.flat_section(bench.flat)
    text += report.edge_section(bench.edge_results)
    text += report.scale_section(bench.scale)
    text += report.targets_section(
        bench.results, bench.floor, bench.flat, bench.scale, CACHED_PAGES, READ_TARGETS
    )
    (RESULTS / "pages.md").write_text(text)
    (RESULTS / "pages.json").write_text(
        json.dumps(
            {
                "args": vars(args),
                "results": [vars(r) for r in bench.results],
                "flat": [
                    {"page": page, label_a: vars(a), label_b: vars(b)}
                    for page, label_a, a, label_b, b in bench.flat
                ],
                "scale": bench.scale,
                "edge": [vars(r) for r in bench.edge_results],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    report.chart(
        bench.results, bench.floor, RESULTS / "pages.png",
        "Page throughput relative to the framework floor",
    )  # fmt: skip
    print(text)
    print(f"== wrote {RESULTS / 'pages.md'}, pages.json and pages.png")


if __name__ == "__main__":
    main()
