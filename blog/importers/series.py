"""Series written as title prefixes, the kexue.fm way: "Transformer升级之路：3、从Performer到线性
Attention" (arabic numbering) and "“熵”不起：从熵、最大熵原理到最大熵模型（三）" (Chinese numbering).

``detect`` groups posts by the text before the first colon when the title carries a part number;
a group of two or more parts is a series. ``apply`` creates the series and numbers the posts;
titles are kept as they are.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from blog.db import free_slug
from blog.models import CHINESE_NUMERALS, Post, Series

ARABIC = re.compile(r"^(?P<series>[^：:]+?)\s*[：:]\s*(?P<n>[0-9]{1,3})\s*[、.．]")
CHINESE = re.compile(
    r"^(?P<series>[^：:]+?)\s*[：:].*[（(](?P<n>[一二三四五六七八九十]{1,3})[）)]\s*$"
)


@dataclass
class Detected:
    title: str
    numbering: str  # Series.Numbering
    parts: list[tuple[int, int, str]] = field(default_factory=list)  # (part, post id, title)


def chinese_number(text: str) -> int:
    """一 -> 1, 十 -> 10, 十二 -> 12, 二十三 -> 23 (the inverse of ``chinese_numeral``)."""
    tens, _, ones = text.rpartition("十")
    if "十" not in text:
        return CHINESE_NUMERALS.index(text)
    return (CHINESE_NUMERALS.index(tens) if tens else 1) * 10 + (
        CHINESE_NUMERALS.index(ones) if ones else 0
    )


def detect(posts, problem) -> list[Detected]:
    """The series found in the titles of ``posts`` (a queryset), parts in order; a part number
    given twice is reported through ``problem(where, message)`` and its later post left out."""
    groups: dict[tuple[str, str], dict[int, tuple[int, str]]] = defaultdict(dict)
    for pk, title in posts.order_by("published_at", "pk").values_list("pk", "title"):
        if match := ARABIC.match(title):
            key, number = (match["series"], Series.Numbering.ARABIC), int(match["n"])
        elif match := CHINESE.match(title):
            key = (match["series"], Series.Numbering.CHINESE)
            try:
                number = chinese_number(match["n"])
            except ValueError:
                continue
        else:
            continue
        if number in groups[key]:
            problem(
                f"/archives/{pk}/",
                f"part {number} of “{key[0]}” is also /archives/{groups[key][number][0]}/: "
                "left out of the series",
            )
            continue
        groups[key][number] = (pk, title)
    return [
        Detected(title, numbering, [(n, pk, t) for n, (pk, t) in sorted(parts.items())])
        for (title, numbering), parts in sorted(groups.items())
        if len(parts) >= 2
    ]


def apply(found: list[Detected], report) -> None:
    """Create the detected series (or reuse one of the same title) and put their parts in them;
    a post already in another series, or a part number already taken, is reported and left."""
    for detected in found:
        series = Series.objects.filter(title=detected.title).first()
        if series is None:
            # bulk_create sends no signal: the import moves the content generation once.
            (series,) = Series.objects.bulk_create(
                [
                    Series(
                        title=detected.title,
                        slug=free_slug(Series, detected.title),
                        numbering=detected.numbering,
                    )
                ]
            )
            report.counts["series"]["created"] += 1
        else:
            report.counts["series"]["unchanged"] += 1
        taken = dict(series.posts.values_list("series_part", "pk"))
        for number, pk, _ in detected.parts:
            post = Post.objects.only("series_id", "series_part").get(pk=pk)
            if post.series_id == series.pk and post.series_part == number:
                continue
            if post.series_id and post.series_id != series.pk:
                report.problem(f"/archives/{pk}/", f"already in series {post.series_id}: left")
            elif taken.get(number, pk) != pk:
                report.problem(f"/archives/{pk}/", f"part {number} of “{series}” is taken: left")
            else:
                Post.objects.filter(pk=pk).update(series=series, series_part=number)
