"""Every post as a Markdown file with YAML front matter: a portable, human-readable backup.

The front matter keys are the ones ``import_posts`` reads: ``id``, ``title``, ``date`` (ISO 8601
with the site's UTC offset), ``tags`` (names), ``category`` (name or null), ``series`` (title or
null), ``part`` (number or null); plus ``authors`` (usernames, byline order) and ``status``.
Strings are written as double-quoted JSON strings, which YAML reads as the same strings, so no
YAML library is needed to write and any YAML library reads them.
"""

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.db.models import Prefetch
from django.utils import timezone

from .models import Authorship, Post


def _scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)


def front_matter(post: Post) -> str:
    fields = {
        "id": post.pk,
        "title": post.title,
        "date": timezone.localtime(post.published_at).isoformat(),
        "tags": [tag.name for tag in post.tags.all()],
        "category": post.category.name if post.category else None,
        "series": post.series.title if post.series else None,
        "part": post.series_part,
        "authors": [author.username for author in post.ordered_authors()],
        "status": post.status,
    }
    lines = ["---"]
    for key, value in fields.items():
        if key == "date":
            lines.append(f"{key}: {value}")  # a YAML timestamp
        elif isinstance(value, list):
            lines.append(f"{key}: [{', '.join(_scalar(item) for item in value)}]")
        else:
            lines.append(f"{key}: {_scalar(value)}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def post_markdown(post: Post) -> str:
    body = post.body if post.body.endswith("\n") else post.body + "\n"
    return front_matter(post) + "\n" + body


def exported_posts() -> Iterator[tuple[str, str]]:
    """(file name, Markdown) for every post, drafts and scheduled included, in id order."""
    posts = (
        Post.objects.select_related("category", "series")
        .prefetch_related(
            "tags",
            Prefetch("authorship_set", queryset=Authorship.objects.select_related("author")),
        )
        .order_by("pk")
    )
    for post in posts.iterator(chunk_size=200):
        yield f"{post.pk}.md", post_markdown(post)


def export_markdown(destination: Path) -> int:
    """Write every post into a directory, or a .zip when ``destination`` ends in .zip."""
    count = 0
    if destination.suffix == ".zip":
        destination.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in exported_posts():
                archive.writestr(f"posts/{name}", text)
                count += 1
        return count
    destination.mkdir(parents=True, exist_ok=True)
    for name, text in exported_posts():
        (destination / name).write_text(text, encoding="utf-8")
        count += 1
    return count
