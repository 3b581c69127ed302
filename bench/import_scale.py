"""A kexue.fm-sized Typecho blog and larger, imported: `python -m bench.import_scale`.

Generates a Typecho database in MariaDB (127.0.0.1:3306, root; multi-row INSERTs) with
``--posts`` posts and ``--comments`` comments (a third of them replies, one in ten with TeX, post
bodies of ~2 KB Markdown with math), then imports it with ``import_typecho``'s writer into a fresh
blog database (SQLite file, or PostgreSQL with ``--database postgres``) in a child process that
samples its own RSS. The baseline, taken in the same run, is a tenth of the size: time per record
should stay the same (the import is linear) and the RSS at the end should equal the RSS after the
first tenth of the comments (memory flat). ``--typeset`` turns server MathJax on (Node).
docs/import.md has figures.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.importers.typecho_db import TypechoDB

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/"

PARAGRAPH = (
    "注意力机制的核心是按相似度加权求和，其中 $q_i$ 与 $k_j$ 的内积决定了权重，"
    "再经过 softmax 归一化。我们在此基础上讨论位置编码如何影响外推能力。"
)
BODY = (
    "<!--markdown-->"
    + "\n\n".join([PARAGRAPH] * 3)
    + "\n\n$$\\begin{equation}a_{i,j} = \\frac{e^{q_i\\cdot k_j}}{\\sum_j e^{q_i\\cdot k_j}}"
    "\\end{equation}$$\n\n<!--more-->\n\n## 推导\n\n" + "\n\n".join([PARAGRAPH] * 6)
)

CHILD = r"""
import json, os, sys, time
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from bench.harness import MemorySampler
from blog.importers import writer
from blog.importers.typecho import open_typecho
from blog.models import Comment, Post

call_command("migrate", verbosity=0)
if os.environ["BENCH_TYPESET"] == "1":
    settings.BLOG_MATHJAX_NODE = "node"
memory = MemorySampler(every=0.25)

def log(line):
    memory.count += 1

start = time.perf_counter()
with open_typecho(sys.argv[1]) as source:
    total = source.post_count + source.comment_count
    report = writer.write(source, log=log)
elapsed = time.perf_counter() - start
posts = report.counts["posts"].total()
print(json.dumps({
    "seconds": round(elapsed, 1),
    "records": memory.count,
    "rate": round(memory.count / elapsed),
    **memory.figures(tenth=posts + (total - posts) // 10),
    "posts": dict(report.counts["posts"]),
    "comments": dict(report.counts["comments"]),
    "problems": len(report.problems),
    "math_posts": Post.objects.filter(has_math=True).count(),
    "typeset_posts": Post.objects.filter(math_typeset=True).count(),
    "typeset_comments": Comment.objects.filter(math_typeset=True).count(),
}))
"""


def generate(posts: int, comments: int, seed: int = 16) -> TypechoDB:
    rng = random.Random(seed)
    database = TypechoDB("mariadb")
    start = 1_300_000_000
    database.insert("options", [{"name": "siteUrl", "user": 0, "value": "https://kexue.fm"}])
    database.insert("users", [{"uid": 1, "name": "sujianlin", "screenName": "苏剑林"}])
    database.insert(
        "metas",
        [{"mid": m, "name": f"分类{m}", "slug": f"c{m}", "type": "category"} for m in range(1, 11)]
        + [{"mid": m, "name": f"标签{m}", "slug": f"t{m}", "type": "tag"} for m in range(11, 211)],
    )
    rows, relations = [], []
    for cid in range(1, posts + 1):
        rows.append(
            {
                "cid": cid,
                "title": f"Transformer升级之路：{cid}、第{cid}篇"
                if cid % 50 == 0
                else f"文章{cid}",
                "slug": str(cid),
                "created": start + cid * 3600,
                "modified": start + cid * 3600,
                "text": BODY,
                "authorId": 1,
                "type": "post",
                "status": "publish",
                "allowComment": "1",
                "views": rng.randrange(100_000),
            }
        )
        relations.append({"cid": cid, "mid": 1 + cid % 10})
        relations += [{"cid": cid, "mid": m} for m in rng.sample(range(11, 211), 3)]
        if len(rows) == 2000:
            database.insert("contents", rows)
            rows = []
    database.insert("contents", rows)
    database.insert("relationships", relations)
    rows, per_post = [], {}
    for coid in range(1, comments + 1):
        cid = rng.randrange(1, posts + 1)
        earlier = per_post.setdefault(cid, [])
        parent = rng.choice(earlier) if earlier and rng.random() < 0.33 else 0
        earlier.append(coid)
        rows.append(
            {
                "coid": coid,
                "cid": cid,
                "created": start + posts * 3600 + coid * 60,
                "author": f"读者{coid % 5000}",
                "mail": f"r{coid % 5000}@example.com",
                "url": "",
                "text": "请问 $\\alpha_i$ 怎么求？"
                if coid % 10 == 0
                else "感谢分享，受益匪浅。" * 3,
                "type": "comment",
                "status": "approved" if coid % 20 else "waiting",
                "parent": parent,
            }
        )
        if len(rows) == 5000:
            database.insert("comments", rows)
            rows = []
    database.insert("comments", rows)
    return database


def import_into(typecho: TypechoDB, engine: str, typeset: bool) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        if engine == "postgres":
            url = PG_URL + "blog_import_bench"
            _postgres(
                "DROP DATABASE IF EXISTS blog_import_bench; CREATE DATABASE blog_import_bench"
            )
        else:
            url = f"sqlite:///{directory}/blog.sqlite3"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DJANGO_MEDIA_ROOT": directory,
            "BENCH_TYPESET": "1" if typeset else "0",
        }
        result = subprocess.run(
            [sys.executable, "-c", CHILD, typecho.url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if engine == "postgres":
            _postgres("DROP DATABASE IF EXISTS blog_import_bench")
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _postgres(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL + "postgres", autocommit=True) as connection:
        for statement in sql.split(";"):
            connection.execute(statement)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--typeset", action="store_true", help="Server MathJax on (Node).")
    args = parser.parse_args()
    results = {}
    for name, factor in (("baseline (1/10)", 10), ("full", 1)):
        posts, comments = args.posts // factor, args.comments // factor
        start = time.perf_counter()
        typecho = generate(posts, comments)
        generated = time.perf_counter() - start
        try:
            result = import_into(typecho, args.database, args.typeset)
        finally:
            typecho.drop()
        results[name] = result
        print(
            f"{name}: {posts} posts, {comments} comments (generated in {generated:.0f} s) -> "
            f"{args.database}, typesetting {'on' if args.typeset else 'off'}: "
            f"{result['seconds']} s, {result['rate']} records/s, RSS {result['rss_tenth_mib']} MiB "
            f"after 10% of comments, {result['rss_end_mib']} MiB at the end, peak "
            f"{result['peak_mib']} MiB; {result['typeset_posts']} of {result['math_posts']} posts "
            f"with math and {result['typeset_comments']} comments typeset on the server; "
            f"{result['problems']} problems reported"
        )
    base, full = results["baseline (1/10)"], results["full"]
    print(
        f"full / baseline: {full['seconds'] / base['seconds']:.1f}x the time for 10x the records "
        f"(rate {full['rate'] / base['rate']:.2f}x); peak RSS {full['peak_mib'] / base['peak_mib']:.2f}x; "
        f"RSS end / after 10%: {full['rss_end_mib'] / full['rss_tenth_mib']:.2f}"
    )


if __name__ == "__main__":
    main()
