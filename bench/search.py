"""Search speed over a synthetic blog of 2,000 posts, with and without the trigram index.

    python -m bench.search                      # SQLite (a throwaway file database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/blog python -m bench.search
    python -m bench.search --posts 500 --repeat 5

Runs in a throwaway database (``<name>_bench_search`` on PostgreSQL, a temporary file on SQLite)
created by Django's test-database machinery and dropped afterwards; the configured database is
never touched. Prints a Markdown table: median milliseconds per query for

- ``indexed``: ``blog.search.ranked_post_ids`` as the site runs it (FTS5 trigram / pg_trgm GIN);
- ``no index``: the same ranking with plain ``icontains`` lookups that no index serves, i.e. what
  a naive ``LIKE`` search costs;
- ``page``: the whole ``/search/`` response (ranking, one page of hits with snippets, template).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager

QUERIES = [
    ("注意力", "3 CJK chars, common"),
    ("低秩近似", "4 CJK chars"),
    ("位置编码", "4 CJK chars"),
    ("幻方萤火", "4 CJK chars, one post"),
    ("MLA", "3 Latin chars"),
    ("RoPE", "Latin, mixed case"),
    ("softmax", "inside TeX"),
    ("注意力 softmax", "two terms"),
    ("量子引力弦论", "no hit"),
    ("注意", "2 chars: LIKE fallback"),
]

WORDS = [
    "矩阵",
    "向量",
    "梯度",
    "损失函数",
    "优化器",
    "概率",
    "分布",
    "期望",
    "方差",
    "采样",
    "训练",
    "推理",
    "模型",
    "参数",
    "网络",
    "层",
    "激活",
    "归一化",
    "残差",
    "卷积",
    "序列",
    "长度",
    "外推",
    "缓存",
    "显存",
    "计算量",
    "复杂度",
    "近似",
    "分解",
    "特征值",
    "奇异值",
    "正交",
    "投影",
    "随机",
    "变量",
    "积分",
    "微分",
    "极限",
    "收敛",
    "稳定",
    "噪声",
    "扩散",
    "生成",
    "文本",
    "语言",
    "词",
    "句子",
    "数据",
    "实验",
    "结果",
    "效果",
    "我们",
    "可以",
    "发现",
    "因此",
    "所以",
    "但是",
    "如果",
    "那么",
    "这个",
    "一个",
    "就是",
]
TERMS = {
    "注意力": 0.3,
    "低秩近似": 0.05,
    "位置编码": 0.1,
    "MLA": 0.03,
    "RoPE": 0.06,
    "Transformer": 0.2,
    "KV Cache": 0.05,
}


def make_body(rng: random.Random, index: int) -> str:
    paragraphs = []
    for _ in range(rng.randint(8, 16)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(40, 90))]
        for term, share in TERMS.items():
            if rng.random() < share / 4:
                words.insert(rng.randrange(len(words)), term)
        text = "".join(words) + "。"
        if rng.random() < 0.5:
            text += f" 记 $x_{{{rng.randint(1, 9)}}} = \\alpha y + \\beta$，"
        if rng.random() < 0.15:
            text += " 其中 $\\text{softmax}(QK^{\\top})$ 给出权重。"
        paragraphs.append(text)
        if rng.random() < 0.3:
            paragraphs.append(
                "$$\\begin{equation}\\mathcal{L} = -\\sum_{i=1}^{n} \\log p(x_i)"
                f" + \\lambda_{{{index}}} \\Vert \\theta \\Vert^2\\end{{equation}}$$"
            )
    if index == 7:
        paragraphs.insert(3, "这是幻方萤火集群上的实验。")
    return "\n\n".join(paragraphs) + "\n"


def build_corpus(n_posts: int, seed: int = 6) -> float:
    from django.utils import timezone

    from blog.models import Post, Tag

    rng = random.Random(seed)
    tags = Tag.objects.bulk_create(
        [Tag(name=f"标签{i}" if i % 3 else f"tag{i}", slug=f"t{i}") for i in range(100)]
    )
    started = time.perf_counter()
    posts = []
    now = timezone.now()
    for i in range(n_posts):
        title_term = rng.choice([*TERMS, "", "", "", ""])
        post = Post(
            title=f"文章{i}：{rng.choice(WORDS)}{title_term}{rng.choice(WORDS)}",
            body=make_body(rng, i),
            status=Post.Status.PUBLISHED,
            published_at=now - timezone.timedelta(days=n_posts - i),
        )
        post.render()
        posts.append(post)
    Post.objects.bulk_create(posts, batch_size=200)
    through = Post.tags.through
    links = [
        through(post_id=post.pk, tag_id=tag.pk)
        for post in Post.objects.only("id")
        for tag in rng.sample(tags, rng.randint(2, 4))
    ]
    through.objects.bulk_create(links, batch_size=1000)
    return time.perf_counter() - started


def median_ms(fn, repeat: int) -> float:
    fn()  # warm caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@contextmanager
def without_index():
    """The same search, ranking included, with plain ``icontains`` lookups that no index serves."""
    from django.db.models import Q

    from blog import search
    from blog.models import Post

    original = search._text_matches
    search._text_matches = lambda term: Post.objects.filter(
        Q(title__icontains=term) | Q(search_text__icontains=term)
    ).values("pk")
    try:
        yield
    finally:
        search._text_matches = original


def index_size(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_size_pretty(sum(pg_relation_size(indexname::regclass))) "
                "FROM pg_indexes WHERE indexname LIKE 'blog_post_%_trgm'"
            )
            return cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        page_size = cursor.fetchone()[0]
        cursor.execute("SELECT sum(length(block)) FROM blog_post_fts_data")
        return f"{(cursor.fetchone()[0] or 0) / 1e6:.1f} MB (FTS5 data; page size {page_size})"


def run(n_posts: int, repeat: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from blog import search
    from blog.models import Post

    settings.ALLOWED_HOSTS = ["*"]
    setup_test_environment()
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    tmpdir = None
    if connection.vendor == "sqlite":
        tmpdir = tempfile.TemporaryDirectory()
        test_settings["NAME"] = os.path.join(tmpdir.name, "bench.sqlite3")
    else:
        test_settings["NAME"] = f"{settings.DATABASES['default']['NAME']}_bench_search"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        build_seconds = build_corpus(n_posts)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        client = Client()
        print(f"## {connection.vendor} ({connection.display_name} {_server_version(connection)})")
        print()
        print(
            f"{Post.objects.count()} posts, {sum(len(p) for p in Post.objects.values_list('search_text', flat=True)) / 1e6:.1f} M characters "
            f"of search text; corpus built and indexed in {build_seconds:.1f} s; "
            f"index size {index_size(connection)}. Median of {repeat} runs, ms."
        )
        print()
        print("| query | what | hits | indexed | no index | page |")
        print("|---|---|---:|---:|---:|---:|")
        for q, what in QUERIES:
            query = search.parse_query(q)
            hits = len(search.ranked_post_ids(query))
            indexed = median_ms(lambda query=query: search.ranked_post_ids(query), repeat)
            with without_index():
                plain = median_ms(lambda query=query: search.ranked_post_ids(query), repeat)
            page = median_ms(lambda q=q: client.get("/search/", {"q": q}), repeat)
            print(f"| `{q}` | {what} | {hits} | {indexed:.1f} | {plain:.1f} | {page:.1f} |")
        post = (
            Post.objects.published()
            .prefetch_related("tags")
            .get(title__startswith=f"文章{n_posts // 2}：")
        )
        related = median_ms(lambda: list(Post.objects.published().related_to(post)[:10]), repeat)
        print()
        print(f"Related posts for one post (one query over all {n_posts}): {related:.1f} ms.")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if tmpdir:
            tmpdir.cleanup()


def _server_version(connection) -> str:
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    run(args.posts, args.repeat)


if __name__ == "__main__":
    main(sys.argv[1:])
