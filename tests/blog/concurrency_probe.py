"""Run as a separate process against a real database (DATABASE_URL): many threads post comments
on one post at once and the numbers they got are printed as JSON.

A subprocess because the in-memory SQLite test database uses SQLite's shared cache, whose table
locks fail at once instead of waiting; the site runs on a file with WAL and IMMEDIATE
transactions, and that is what this measures (PostgreSQL: its real row lock).
"""

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from blog.comments.workflow import save_numbered  # noqa: E402
from blog.models import Comment, Post  # noqa: E402


def main(threads: int, per_thread: int) -> None:
    call_command("migrate", verbosity=0)
    post = Post.objects.create(title="并发", body="x\n", status=Post.Status.PUBLISHED)

    def work(worker: int) -> list[int]:
        try:
            numbers = []
            for i in range(per_thread):
                comment = Comment(
                    post_id=post.pk,
                    author_name=f"并发{worker}-{i}",
                    email=f"c{worker}@example.org",
                    body="同时提交",
                    status=Comment.Status.APPROVED,
                )
                numbers.append(save_numbered(comment).number)
            return numbers
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = [n for numbers in pool.map(work, range(threads)) for n in numbers]
    stored = list(Comment.objects.filter(post=post).values_list("number", flat=True))
    print(json.dumps({"returned": results, "stored": stored}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
