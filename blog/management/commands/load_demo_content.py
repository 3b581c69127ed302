import json
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from blog.db import reset_sequences
from blog.models import Authorship, Category, Post, Series, Tag

DEFAULT_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo_content.json"
# The demo posts are the seed pages' teasers: each ends with this note, so a reader knows the text
# stops on purpose and where the whole post is.
EXCERPT_NOTE = (
    "\n\n---\n\n"
    "> **【摘录】** 这是演示内容，只收录了原文开头的一部分。"
    "全文请读科学空间上的原文：<{source}>\n"
)


class Command(BaseCommand):
    help = (
        "Load the demo blog built from the kexue.fm seed pages (authors, categories, tags, series, "
        "posts; each post ends with a note that it is an excerpt of its original). Idempotent: running it again updates the same rows instead of adding new ones; "
        "reader counts already above the demo figure are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="JSON file to load.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report, change nothing."
        )

    def handle(self, *args, file, dry_run, verbosity, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        with transaction.atomic():
            counts = self.load(data, verbosity)
            if dry_run:
                transaction.set_rollback(True)
        reset_sequences(Post)
        verb = "Would load" if dry_run else "Loaded"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {counts['posts']} posts, {counts['series']} series, "
                f"{counts['categories']} categories, {counts['tags']} tags, "
                f"{counts['authors']} authors."
            )
        )

    def load(self, data, verbosity=1) -> dict:
        User = get_user_model()
        authors = {}
        for item in data["authors"]:
            user, created = User.objects.update_or_create(
                username=item["username"],
                defaults={
                    "display_name": item["display_name"],
                    "latin_name": item.get("latin_name", ""),
                    "homepage": item.get("homepage", ""),
                    "email": item.get("email", ""),
                    "is_staff": item.get("is_staff", False),
                    "is_superuser": item.get("is_staff", False),
                },
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            authors[user.username] = user
        categories = {
            item["slug"]: Category.objects.update_or_create(
                slug=item["slug"],
                defaults={"name": item["name"], "description": item.get("description", "")},
            )[0]
            for item in data["categories"]
        }
        tags = {
            item["slug"]: Tag.objects.update_or_create(
                slug=item["slug"], defaults={"name": item["name"]}
            )[0]
            for item in data["tags"]
        }
        tags_by_name = {tag.name: tag for tag in tags.values()}
        series = {
            item["slug"]: Series.objects.update_or_create(
                slug=item["slug"],
                defaults={
                    "title": item["title"],
                    "numbering": item.get("numbering", Series.Numbering.ARABIC),
                    "description": item.get("description", ""),
                },
            )[0]
            for item in data["series"]
        }
        for item in data["posts"]:
            post = Post.objects.filter(pk=item["id"]).first() or Post(pk=item["id"])
            post.title = item["title"]
            post.body = item["body"]
            if item.get("source"):
                post.body = post.body.rstrip("\n") + EXCERPT_NOTE.format(source=item["source"])
            post.status = Post.Status.PUBLISHED
            post.published_at = datetime.fromisoformat(item["published_at"])
            post.category = categories.get(item.get("category"))
            post.series = series.get(item.get("series"))
            post.series_part = item.get("series_part") if post.series else None
            post.save()
            # The demo figure is the starting total; reads counted since then are kept.
            Post.objects.filter(pk=post.pk, reader_count__lt=item.get("reader_count", 0)).update(
                reader_count=item.get("reader_count", 0)
            )
            post.tags.set(tags.get(name) or tags_by_name[name] for name in item.get("tags", []))
            Authorship.objects.filter(post=post).delete()
            Authorship.objects.bulk_create(
                Authorship(post=post, author=authors[username], order=order)
                for order, username in enumerate(item["authors"])
            )
            if verbosity >= 2:
                self.stdout.write(f"  {post.pk}: {post.title}")
        return {
            "posts": len(data["posts"]),
            "series": len(series),
            "categories": len(categories),
            "tags": len(tags),
            "authors": len(authors),
        }
