"""A large WordPress export, read and imported: `python -m bench.import_wordpress`.

Writes a WXR file with ``--posts`` posts and ``--comments`` comments (the shapes of
bench.import_scale: ~2 KB bodies with math, a third of the comments replies, one in ten with TeX),
then, in a child process that samples its own RSS, imports it with ``import_wordpress``'s reader
and the shared writer into a fresh SQLite blog database (``--read-only``: the reader's passes
alone, no database). The baseline, taken in the same run, is a tenth of the size: the time per
record should stay the same and the RSS at the end should equal the RSS after the first tenth of
the comments (the file is streamed, one ``<item>`` at a time). "Records" are what the writer
reports one by one: authors, categories, posts, their old addresses (redirects) and comments. docs/import.md has figures.
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
from xml.sax.saxutils import escape

from bench.import_scale import PARAGRAPH

ROOT = Path(__file__).resolve().parent.parent
BODY = (
    "\n\n".join([PARAGRAPH] * 3)
    + "\n\n[latex]a_{i,j} = \\frac{e^{q_i\\cdot k_j}}{\\sum_j e^{q_i\\cdot k_j}}[/latex]"
    + "\n\n<!--more-->\n\n<h2>推导</h2>\n\n"
    + "\n\n".join([PARAGRAPH] * 6)
)

CHILD = r"""
import json, os, sys, time
from pathlib import Path
import django
django.setup()
from bench.harness import MemorySampler
from blog.importers.wordpress import open_wordpress

memory = MemorySampler()  # counts the comments
records = [0]  # written, of every kind

def log(line):
    records[0] += 1
    memory.count += " comment " in line

read_only = os.environ["BENCH_READ_ONLY"] == "1"
if not read_only:
    from django.core.management import call_command
    from blog.importers import writer
    call_command("migrate", verbosity=0)
start = time.perf_counter()
source = open_wordpress(Path(sys.argv[1]))
if read_only:
    for record in source.posts:
        log(" post ")
    for record in source.comments:
        log(" comment ")
else:
    writer.write(source, log=log)
elapsed = time.perf_counter() - start
print(json.dumps({
    "seconds": round(elapsed, 1),
    "records": records[0],
    "rate": round(records[0] / elapsed),
    **memory.figures(tenth=source.comment_count // 10),
}))
"""


def generate(path: Path, posts: int, comments: int, seed: int = 16) -> None:
    """Write a WXR 1.2 file, one item at a time (comments spread over the posts at random)."""
    rng = random.Random(seed)
    per_post: dict[int, list[int]] = {}
    for coid in range(1, comments + 1):
        per_post.setdefault(rng.randrange(1, posts + 1), []).append(coid)
    body = escape(BODY)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<wp:base_site_url>https://blog.example.com</wp:base_site_url>\n"
            "<wp:author><wp:author_id>1</wp:author_id><wp:author_login>admin</wp:author_login>"
            "<wp:author_display_name>博主</wp:author_display_name></wp:author>\n"
        )
        for n in range(1, 11):
            out.write(
                f"<wp:category><wp:category_nicename>c{n}</wp:category_nicename>"
                f"<wp:cat_name>分类{n}</wp:cat_name></wp:category>\n"
            )
        for post_id in range(1, posts + 1):
            date = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(1_300_000_000 + post_id * 3600))
            out.write(
                f"<item><title>文章{post_id}</title>"
                f"<link>https://blog.example.com/archives/{post_id}</link>"
                f"<dc:creator>admin</dc:creator><content:encoded>{body}</content:encoded>"
                f"<wp:post_id>{post_id}</wp:post_id><wp:post_date>{date}</wp:post_date>"
                f"<wp:post_date_gmt>{date}</wp:post_date_gmt><wp:post_name>p{post_id}"
                "</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
                "<wp:comment_status>open</wp:comment_status>"
                f'<category domain="category" nicename="c{1 + post_id % 10}">x</category>'
                "<wp:postmeta><wp:meta_key>views</wp:meta_key>"
                f"<wp:meta_value>{rng.randrange(100_000)}</wp:meta_value></wp:postmeta>\n"
            )
            earlier: list[int] = []
            for coid in per_post.get(post_id, []):
                parent = rng.choice(earlier) if earlier and rng.random() < 0.33 else 0
                earlier.append(coid)
                text = "请问 $\\alpha_i$ 怎么求？" if coid % 10 == 0 else "感谢分享，受益匪浅。" * 3
                out.write(
                    f"<wp:comment><wp:comment_id>{coid}</wp:comment_id>"
                    f"<wp:comment_author>读者{coid % 5000}</wp:comment_author>"
                    f"<wp:comment_author_email>r{coid % 5000}@example.com"
                    f"</wp:comment_author_email><wp:comment_date_gmt>{date}"
                    f"</wp:comment_date_gmt><wp:comment_content>{escape(text)}"
                    "</wp:comment_content><wp:comment_approved>"
                    f"{'1' if coid % 20 else '0'}</wp:comment_approved>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n"
                )
            out.write("</item>\n")
        out.write("</channel>\n</rss>\n")


def run(path: Path, read_only: bool) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{directory}/blog.sqlite3",
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DJANGO_MEDIA_ROOT": directory,
            "BENCH_READ_ONLY": "1" if read_only else "0",
        }
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--read-only", action="store_true", help="The reader alone, no writes.")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        for name, factor in (("baseline (1/10)", 10), ("full", 1)):
            posts, comments = args.posts // factor, args.comments // factor
            path = Path(directory) / f"export-{factor}.xml"
            generate(path, posts, comments)
            result = results[name] = run(path, args.read_only)
            print(
                f"{name}: {posts} posts, {comments} comments, {path.stat().st_size >> 20} MiB "
                f"of WXR, {'read' if args.read_only else 'imported into SQLite'}: "
                f"{result['seconds']} s, {result['rate']} records/s, RSS "
                f"{result['rss_tenth_mib']} MiB after 10% of the comments, {result['rss_end_mib']} MiB at the "
                f"end, peak {result['peak_mib']} MiB"
            )
    base, full = results["baseline (1/10)"], results["full"]
    print(
        f"full / baseline: {full['seconds'] / base['seconds']:.1f}x the time for 10x the records "
        f"(rate {full['rate'] / base['rate']:.2f}x); peak RSS "
        f"{full['peak_mib'] / base['peak_mib']:.2f}x; RSS end / after 10% of the comments: "
        f"{full['rss_end_mib'] / full['rss_tenth_mib']:.2f}"
    )


if __name__ == "__main__":
    main()
