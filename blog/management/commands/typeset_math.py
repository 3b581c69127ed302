"""Typeset the math of every post and approved comment on the server (blog/mathjax.py).

Run it once Node is available on a site whose math was left to the browser, and after upgrading
MathJax or changing its configuration. Each post is rendered from its source again, so running it
twice changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from blog import mathjax
from blog.models import Comment, Post
from caching.generation import content_changed


class Command(BaseCommand):
    help = "Typeset the math of every post and approved comment with MathJax in Node."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be typeset; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        if mathjax.node() is None:
            raise CommandError(
                "Node or MathJax's npm packages are missing (BLOG_MATHJAX_NODE, `make install`)."
            )
        posts = Post.objects.filter(has_math=True).order_by("pk")
        comments = Comment.objects.approved().filter(has_math=True).order_by("pk")
        jobs = [
            ("posts", posts, ["body_html", "teaser_html", "toc_html", "math_typeset"]),
            ("comments", comments, ["body_html", "math_typeset"]),
        ]
        failed = 0
        for name, queryset, fields in jobs:
            total = queryset.count()
            if dry_run:
                self.stdout.write(f"{total} {name} with math would be typeset.")
                continue
            for done, item in enumerate(queryset.iterator(chunk_size=100), 1):
                item.save(update_fields=fields)
                failed += not item.math_typeset
                if options["verbosity"] >= 1 and (done % 10 == 0 or done == total):
                    self.stdout.write(f"{name}: {done}/{total}")
        if dry_run:
            return
        content_changed()
        if failed:
            raise CommandError(f"{failed} could not be typeset; see the log.")
        self.stdout.write(self.style.SUCCESS("Every formula is typeset."))
