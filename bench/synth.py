"""A realistic synthetic blog: long math-heavy posts, series, tags, categories (and comments)."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from blog.models import Authorship, Category, Comment, Post, Series, Tag

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


@transaction.atomic
def build(posts: int = 2000, series: int = 30, comments: int = 50_000, seed: int = 7) -> dict:
    rng = random.Random(seed)
    author, _ = User.objects.get_or_create(
        username="sujianlin", defaults={"display_name": "苏剑林", "latin_name": "Su, Jianlin"}
    )
    categories = Category.objects.bulk_create(
        Category(name=f"分类{i}", slug=f"c{i}") for i in range(8)
    )
    tags = Tag.objects.bulk_create(Tag(name=f"标签{i}", slug=f"t{i}") for i in range(60))
    all_series = Series.objects.bulk_create(
        Series(title=f"系列{i}之路", slug=f"s{i}") for i in range(series)
    )
    start = timezone.now() - timedelta(days=posts)
    rendered = {}
    objects = []
    parts = {s.pk: 0 for s in all_series}
    for i in range(posts):
        post = Post(
            title=f"合成文章{i}：从MHA、MQA、GQA到MLA",
            body=body(i % 50, paragraphs=12),
            status=Post.Status.PUBLISHED,
            published_at=start + timedelta(days=i, hours=rng.randrange(24)),
            category=rng.choice(categories),
            reader_count=rng.randrange(100_000),
        )
        if rng.random() < 0.4:
            chosen = rng.choice(all_series)
            parts[chosen.pk] += 1
            post.series, post.series_part = chosen, parts[chosen.pk]
        # 50 distinct bodies: render each once (rendering is a save-time cost, not measured here).
        if post.body not in rendered:
            post.render()
            rendered[post.body] = post
        else:
            source = rendered[post.body]
            for field in ("body_html", "teaser_html", "excerpt", "has_math", "has_more"):
                setattr(post, field, getattr(source, field))
        objects.append(post)
    Post.objects.bulk_create(objects, batch_size=500)
    objects = list(Post.objects.order_by("id"))
    Authorship.objects.bulk_create(Authorship(post=p, author=author) for p in objects)
    through = Post.tags.through
    through.objects.bulk_create(
        through(post_id=p.pk, tag_id=t.pk) for p in objects for t in rng.sample(tags, 3)
    )
    made = {"posts": len(objects), "series": series, "comments": 0}
    if comments:
        made["comments"] = _comments(objects, comments, rng)
    return made


COMMENT_BODIES = [
    "好文章！请问式中的 $\\alpha$ 应该怎么取？",
    "按照 $$\\sum_{i=1}^n x_i^2$$ 推下去，结论似乎还要加一个条件。",
    "感谢分享，MLA 的推导很清楚。",
    "如果把 $\\boldsymbol{W}_k$ 换成低秩近似，效果会怎样？",
]


def _comments(posts, total, rng) -> int:
    """``total`` approved comments; the newest post gets a 500-comment thread (the long page)."""
    rendered = {}
    for text in COMMENT_BODIES:
        rendered[text] = Comment(body=text)
        rendered[text].render()
    counts = {post.pk: 0 for post in posts}
    newest = posts[-1]
    batch = []
    for i in range(total):
        post = newest if i < 500 else rng.choice(posts)
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
