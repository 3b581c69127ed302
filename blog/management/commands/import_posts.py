"""import_posts: move an existing blog in from Markdown files with YAML front matter."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import frontmatter
import yaml
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from frontmatter.default_handlers import YAMLHandler

from blog.db import free_slug, reset_sequences
from blog.models import Authorship, Category, Post, Series, Tag

SUFFIXES = {".md", ".markdown"}
KNOWN_KEYS = {
    "title",
    "date",
    "tags",
    "category",
    "series",
    "part",
    "id",
    "key",
    "status",
    "author",
    "authors",
    "comments_open",
}
HELP = """\
Import Markdown files with YAML front matter as posts. PATHs are files or directories (searched
recursively for *.md and *.markdown).

Front matter: title and date (YYYY-MM-DD or YYYY-MM-DD HH:MM, site time zone) are required;
tags (a list or "a, b"), category (a name), series (a title) with part (1, 2, ...), author or
authors (usernames), status (published or draft, default published), comments_open, id (keep
an old numeric permalink /archives/<id>/) and key (a stable name for the file) are optional.

Re-running updates instead of duplicating: a file is the post with its `id` if it has one, else
the post imported before under the same key (its `key`, or its path relative to the directory
given on the command line). All files are checked first; any malformed file is reported with its
path and line and nothing is written, unless --skip-invalid imports the valid ones. The import
is one transaction; --dry-run runs it and rolls it back.
"""


class _Loader(yaml.SafeLoader):
    """Safe YAML where dates stay strings: a bad date is then our error message with its line."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Handler(YAMLHandler):
    def load(self, fm, **kwargs):
        return yaml.load(fm, Loader=_Loader)


class FileError(Exception):
    def __init__(self, message, line=1):
        super().__init__(message)
        self.line = line


@dataclass
class Entry:
    """One parsed, validated file."""

    path: Path
    key: str
    title: str
    body: str
    published_at: datetime
    status: str
    post_id: int | None = None
    tags: list[str] = field(default_factory=list)
    category: str = ""
    series: str = ""
    part: int | None = None
    authors: list[str] = field(default_factory=list)
    comments_open: bool = True


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--dry-run", action="store_true", help="Import, report, roll back.")
        parser.add_argument(
            "--author",
            help="Username for files that name no author (default: the first superuser).",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid files and report the others instead of importing nothing.",
        )

    def handle(self, *args, paths, dry_run, author, skip_invalid, verbosity, **options):
        self.verbosity = verbosity
        files = self.collect(paths)
        if not files:
            raise CommandError("No .md or .markdown files found.")
        entries, errors = [], []
        for path, key in files:
            try:
                entries.append(parse_file(path, key))
            except FileError as exc:
                errors.append(f"{path}:{exc.line}: {exc}")
        errors += duplicate_errors(entries)
        if errors and not skip_invalid:
            raise CommandError(f"{len(errors)} problem(s), nothing imported:\n" + "\n".join(errors))
        default_author = self.default_author(author)
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        with transaction.atomic():
            for entry in entries:
                try:
                    with transaction.atomic():
                        outcome, post = import_entry(entry, default_author)
                except (FileError, IntegrityError) as exc:
                    line = getattr(exc, "line", 1)
                    errors.append(f"{entry.path}:{line}: {exc}")
                    continue
                counts[outcome] += 1
                if verbosity >= 2:
                    self.stdout.write(f"{outcome:>9}  {entry.path} -> {post.get_absolute_url()}")
            if errors and not skip_invalid:
                transaction.set_rollback(True)
                raise CommandError(
                    f"{len(errors)} problem(s), nothing imported:\n" + "\n".join(errors)
                )
            if dry_run:
                transaction.set_rollback(True)
        if not dry_run:
            reset_sequences(Post)
        for error in errors:
            self.stderr.write(f"skipped {error}")
        if verbosity >= 1:
            verb = "Would import" if dry_run else "Imported"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{verb} {sum(counts.values())} of {len(files)} file(s): "
                    f"{counts['created']} created, {counts['updated']} updated, "
                    f"{counts['unchanged']} unchanged"
                    + (f", {len(errors)} skipped." if errors else ".")
                )
            )

    def collect(self, paths) -> list[tuple[Path, str]]:
        """(file, key) pairs; the key is the path relative to the directory named."""
        files = []
        for root in paths:
            if root.is_dir():
                for path in sorted(root.rglob("*")):
                    if path.suffix.lower() in SUFFIXES and path.is_file():
                        files.append((path, path.relative_to(root).as_posix()))
            elif root.is_file():
                files.append((root, root.name))
            else:
                raise CommandError(f"{root}: no such file or directory.")
        return files

    def default_author(self, username):
        User = get_user_model()
        if username:
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist as exc:
                raise CommandError(f"--author {username}: no such user.") from exc
        user = User.objects.filter(is_superuser=True).order_by("pk").first()
        if user is None:
            raise CommandError("No superuser to credit as author: pass --author USERNAME.")
        return user


def parse_file(path: Path, key: str) -> Entry:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise FileError("not UTF-8 text", line) from exc
    except OSError as exc:
        raise FileError(f"cannot read: {exc.strerror}") from exc
    if not re.match(r"-{3,}\s*\n", text):
        raise FileError("no front matter: the file must start with a '---' line")
    try:
        post = frontmatter.loads(text, handler=_Handler())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1  # YAML line 0 is the rest of the opening "---" line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FileError(f"front matter is not valid YAML: {problem}", line) from exc
    meta = post.metadata
    if not isinstance(meta, dict) or not meta:
        raise FileError("front matter is empty or not a mapping of keys to values")

    def line_of(name):
        for number, line in enumerate(text.splitlines()[1:], start=2):
            if re.match(rf"\s*{re.escape(name)}\s*:", line):
                return number
        return 1

    def fail(name, message):
        raise FileError(f"{name}: {message}", line_of(name))

    unknown = sorted(set(map(str, meta)) - KNOWN_KEYS)
    if unknown:
        fail(unknown[0], f"unknown key (known: {', '.join(sorted(KNOWN_KEYS))})")
    title = meta.get("title")
    if not isinstance(title, str | int | float) or not str(title).strip():
        raise FileError("title: required", line_of("title"))
    if "date" not in meta:
        raise FileError("date: required (YYYY-MM-DD or YYYY-MM-DD HH:MM)")
    published_at = parse_moment(meta["date"])
    if published_at is None:
        fail("date", f"not a date: {meta['date']!r} (use YYYY-MM-DD or YYYY-MM-DD HH:MM)")
    entry = Entry(
        path=path,
        key=str(meta.get("key") or key)[:255],
        title=str(title).strip()[:300],
        body=post.content.strip() + "\n",
        published_at=published_at,
        status=str(meta.get("status", Post.Status.PUBLISHED)),
    )
    if entry.status not in Post.Status.values:
        fail("status", f"must be one of {', '.join(Post.Status.values)}")
    if "id" in meta:
        if not isinstance(meta["id"], int) or isinstance(meta["id"], bool) or meta["id"] < 1:
            fail("id", "must be a positive whole number (the old permalink id)")
        entry.post_id = meta["id"]
    entry.tags = names(meta.get("tags"), lambda message: fail("tags", message))
    for name in ("category", "series"):
        value = meta.get(name)
        if value is not None and not isinstance(value, str | int | float):
            fail(name, "must be a single name")
        setattr(entry, name, str(value or "").strip())
    part = meta.get("part")
    if part is not None and (not isinstance(part, int) or isinstance(part, bool) or part < 1):
        fail("part", "must be a whole number from 1")
    if bool(entry.series) != (part is not None):
        fail("part" if part is not None else "series", "series and part go together")
    entry.part = part
    entry.authors = names(meta.get("authors", meta.get("author")), lambda m: fail("authors", m))
    comments_open = meta.get("comments_open", True)
    if not isinstance(comments_open, bool):
        fail("comments_open", "must be true or false")
    entry.comments_open = comments_open
    return entry


def parse_moment(value) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
            if moment is None and (day := parse_date(value.strip())):
                moment = datetime(day.year, day.month, day.day)
        except ValueError:  # well-formed but impossible, e.g. 2024-02-30
            return None
    else:
        return None
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def names(value, fail) -> list[str]:
    """A YAML list or a comma-separated string of names, deduplicated, order kept."""
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[,，]", value)
    elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        items = [str(v) for v in value]
    else:
        fail("must be a list of names or a comma-separated string")
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def duplicate_errors(entries: list[Entry]) -> list[str]:
    errors, seen_ids, seen_keys = [], {}, {}
    for entry in entries:
        if entry.post_id is not None:
            if entry.post_id in seen_ids:
                errors.append(
                    f"{entry.path}:1: id {entry.post_id} also in {seen_ids[entry.post_id]}"
                )
            seen_ids[entry.post_id] = entry.path
        if entry.key in seen_keys:
            errors.append(f"{entry.path}:1: key {entry.key!r} also in {seen_keys[entry.key]}")
        seen_keys[entry.key] = entry.path
    return errors


def import_entry(entry: Entry, default_author) -> tuple[str, Post]:
    """Create or update the post a file stands for; ("created" | "updated" | "unchanged", post)."""
    if entry.post_id is not None:
        post = Post.objects.filter(pk=entry.post_id).first()
        holder = Post.objects.filter(source_key=entry.key).exclude(pk=entry.post_id).first()
        if holder:
            raise FileError(
                f"id: {entry.post_id}, but this file was imported before as post {holder.pk} "
                "(a post's id cannot change; remove the id or delete that post)"
            )
    else:
        post = Post.objects.filter(source_key=entry.key).first()
    created = post is None
    if created:
        post = Post(pk=entry.post_id)
    authors = resolve_authors(entry, default_author)
    category = taxonomy(Category, "name", entry.category) if entry.category else None
    series = taxonomy(Series, "title", entry.series) if entry.series else None
    tags = [taxonomy(Tag, "name", name) for name in entry.tags]
    if series and (
        holder := Post.objects.filter(series=series, series_part=entry.part)
        .exclude(pk=post.pk)
        .first()
    ):
        raise FileError(f"part {entry.part} of series {series} is already post {holder.pk}")
    wanted = {
        "title": entry.title,
        "body": entry.body,
        "published_at": entry.published_at,
        "status": entry.status,
        "category_id": category.pk if category else None,
        "series_id": series.pk if series else None,
        "series_part": entry.part,
        "comments_open": entry.comments_open,
        "source_key": entry.key,
    }
    if (
        not created
        and all(getattr(post, name) == value for name, value in wanted.items())
        and (
            [t.pk for t in post.tags.order_by("pk")] == sorted(t.pk for t in tags)
            and [a.pk for a in post.ordered_authors()] == [a.pk for a in authors]
        )
    ):
        return "unchanged", post
    for name, value in wanted.items():
        setattr(post, name, value)
    post.save(force_insert=created)
    post.tags.set(tags)
    if [a.pk for a in post.ordered_authors()] != [a.pk for a in authors]:
        Authorship.objects.filter(post=post).delete()
        Authorship.objects.bulk_create(
            Authorship(post=post, author=author, order=order)
            for order, author in enumerate(authors)
        )
    return ("created" if created else "updated"), post


def resolve_authors(entry: Entry, default_author) -> list:
    if not entry.authors:
        return [default_author]
    users = {
        user.username: user for user in get_user_model().objects.filter(username__in=entry.authors)
    }
    missing = [name for name in entry.authors if name not in users]
    if missing:
        raise FileError(f"authors: no user named {', '.join(missing)}")
    return [users[name] for name in entry.authors]


def taxonomy(model, field_name: str, name: str):
    """The category, tag or series of that name, created with a free slug if new."""
    existing = model.objects.filter(**{field_name: name}).first()
    if existing:
        return existing
    return model.objects.create(**{field_name: name, "slug": free_slug(model, name)})
