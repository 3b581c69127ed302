"""A realistic synthetic blog: long math-heavy posts, series, tags, categories (and comments)."""

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from blog.models import Authorship, Category, Comment, Post, Series, Tag
from caching.generation import content_changed

PARAGRAPH = r"""在数学上，多头注意力等价于多个独立的单头注意力的拼接，假设输入的（行）向量序列为$\boldsymbol{x}_1,\boldsymbol{x}_2,\cdots,\boldsymbol{x}_l$，其中$\boldsymbol{x}_i\in\mathbb{R}^d$，第@N@步的推导如下。

$$\begin{equation}\boldsymbol{o}_t^{(@N@)} = \frac{\sum_{i\leq t}\exp\left(\boldsymbol{q}_t^{(@N@)} \boldsymbol{k}_i^{(@N@)}{}^{\top}\right)\boldsymbol{v}_i^{(@N@)}}{\sum_{i\leq t}\exp\left(\boldsymbol{q}_t^{(@N@)} \boldsymbol{k}_i^{(@N@)}{}^{\top}\right)}\label{eq:@LABEL@}\end{equation}$$

由式$\eqref{eq:@LABEL@}$可知，
\begin{align}
a_@N@ &= b_@N@ + \cancel{c} \\[5pt]
\text{中文} &= \sum_{k=1}^{@N@} k^2
\end{align}

"""


def body(seed: int, paragraphs: int = 12) -> str:
    parts = [f"第{seed}篇的引言，介绍一些背景知识，并提出本文要讨论的问题。\n\n<!--more-->\n\n"]
    for n in range(paragraphs):
        parts.append(f"## 第{n + 1}节\n\n")
        parts.append(PARAGRAPH.replace("@N@", str(n)).replace("@LABEL@", f"s{seed}-{n}"))
    parts.append("```python\nimport numpy as np\nprint(np.linalg.svd(np.eye(3)))\n```\n")
    return "".join(parts)


BENCH_SERIES_PARTS = 12  # series s0: its parts are posts 10, 20, ..., 120, all in the first 200
LONG_THREAD = 500


@transaction.atomic
def build(
    posts: int = 2000,
    comments: int = 50_000,
    series: int = 30,
    seed: int = 7,
    start: int = 0,
    stop: int | None = None,
) -> dict:
    """Posts ``start``..``stop - 1`` (all by default) of a blog of ``posts`` posts, one a day up to
    now, with their share of ``comments``; ``build(stop=200)`` then ``build(start=200)`` make
    the same blog as ``build()``, so a benchmark can measure it small, then grown.

    Landmarks (their ids are returned):

    - ``series``: series ``s0``, parts 1-12 = posts 10, 20, ..., 120 (complete once 200 exist);
    - ``probe``: post 120, the last part of s0 (comments only go to the posts of their stage);
    - ``long_thread``: the newest post, with a 500-comment thread;
    - ``quiet``: the post before it, with the same kind of body, no series and no comments.
    """
    stop = posts if stop is None else stop
    rng = random.Random(seed * 1_000_003 + start)
    author, _ = User.objects.get_or_create(
        username="sujianlin", defaults={"display_name": "苏剑林", "latin_name": "Su, Jianlin"}
    )
    categories = _ensure(Category, [Category(name=f"分类{i}", slug=f"c{i}") for i in range(8)])
    tags = _ensure(Tag, [Tag(name=f"标签{i}", slug=f"t{i}") for i in range(60)])
    all_series = _ensure(
        Series, [Series(title=f"系列{i}之路", slug=f"s{i}") for i in range(series)]
    )
    bench_series, other_series = all_series[0], all_series[1:]
    first_day = timezone.now() - timedelta(days=posts)
    rendered = {}
    objects = []
    quiet, newest = posts - 2, posts - 1
    parts = dict(
        Post.objects.filter(series__isnull=False)
        .values_list("series")
        .annotate(last=Max("series_part"))
    )
    for i in range(start, stop):
        post = Post(
            title=f"合成文章{i}：从MHA、MQA、GQA到MLA",
            body=body(i % 50, paragraphs=12),
            status=Post.Status.PUBLISHED,
            published_at=first_day + timedelta(days=i, hours=rng.randrange(24)),
            category=rng.choice(categories),
            reader_count=rng.randrange(100_000),
        )
        if i % 10 == 0 and 0 < i // 10 <= BENCH_SERIES_PARTS:
            post.series, post.series_part = bench_series, i // 10
        elif i < quiet and rng.random() < 0.4:
            chosen = rng.choice(other_series)
            parts[chosen.pk] = parts.get(chosen.pk, 0) + 1
            post.series, post.series_part = chosen, parts[chosen.pk]
        # 50 distinct bodies: render each once (rendering is a save-time cost, not measured here).
        if post.body not in rendered:
            post.render()
            rendered[post.body] = post
        else:
            source = rendered[post.body]
            for field in ("body_html", "teaser_html", "excerpt", "search_text", "has_math"):
                setattr(post, field, getattr(source, field))
            post.has_more = source.has_more
        objects.append(post)
    Post.objects.bulk_create(objects, batch_size=500)
    objects = list(Post.objects.filter(title__in=[p.title for p in objects]).order_by("id"))
    Authorship.objects.bulk_create(Authorship(post=p, author=author) for p in objects)
    through = Post.tags.through
    through.objects.bulk_create(
        through(post_id=p.pk, tag_id=t.pk) for p in objects for t in rng.sample(tags, 3)
    )
    made = {"posts": Post.objects.count(), "series": series}
    share = comments * (stop - start) // posts
    if share:
        by_index = dict(zip(range(start, stop), objects, strict=True))
        targets = [p for i, p in by_index.items() if i not in (quiet, newest)]
        long_thread = by_index.get(newest)
        made["comments_added"] = _comments(targets, share, rng, long_thread)
    made["comments"] = Comment.objects.count()
    landmarks = {"probe": 120, "long_thread": newest, "quiet": quiet}
    for name, index in landmarks.items():
        made[name] = (
            Post.objects.filter(title__startswith=f"合成文章{index}：")
            .values_list("pk", flat=True)
            .first()
        )
    made["series_slug"] = bench_series.slug
    content_changed()  # bulk_create sends no signals: cached pages and fragments go stale here
    return made


def _ensure(model, objects):
    """The rows ``objects`` describe (by slug), created the first time."""
    existing = {row.slug: row for row in model.objects.all()}
    missing = [o for o in objects if o.slug not in existing]
    model.objects.bulk_create(missing)
    existing = {row.slug: row for row in model.objects.all()}
    return [existing[o.slug] for o in objects]


COMMENT_BODIES = [
    "好文章！请问式中的 $\\alpha$ 应该怎么取？",
    "按照 $$\\sum_{i=1}^n x_i^2$$ 推下去，结论似乎还要加一个条件。",
    "感谢分享，MLA 的推导很清楚。",
    "如果把 $\\boldsymbol{W}_k$ 换成低秩近似，效果会怎样？",
]


def _comments(posts, total, rng, long_thread=None) -> int:
    """``total`` approved comments over ``posts``; ``long_thread`` gets the first 500."""
    rendered = {}
    for text in COMMENT_BODIES:
        rendered[text] = Comment(body=text)
        rendered[text].render()
    counts = {post.pk: 0 for post in [*posts, *([long_thread] if long_thread else [])]}
    batch = []
    for i in range(total):
        post = long_thread if long_thread and i < LONG_THREAD else rng.choice(posts)
        counts[post.pk] += 1
        text = COMMENT_BODIES[i % len(COMMENT_BODIES)]
        source = rendered[text]
        batch.append(
            Comment(
                post=post,
                number=counts[post.pk],
                author_name=f"读者{i}",
                email=f"reader{i}@example.org",
                body=text,
                body_html=source.body_html,
                excerpt=source.excerpt,
                has_math=source.has_math,
                status=Comment.Status.APPROVED,
                approved_at=timezone.now(),
            )
        )
    Comment.objects.bulk_create(batch, batch_size=2000)
    return total
