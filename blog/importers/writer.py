"""Write a ``Source`` (``blog.importers.source``) into the blog: the one writer of every importer.

``write(source, ...)`` runs in one transaction: an error anywhere (a reader losing its database,
a broken row the blog refuses) rolls back everything, and ``dry_run`` runs the whole import and
rolls it back, so its report is exactly what a real run would do. Re-running updates what the
last run wrote instead of duplicating it: posts are found by their ``source_key`` (and, the first
time, by the id they keep), comments by theirs, authors by username, categories and tags by name.

Posts and comments are read from the source in batches and written with ``bulk_create`` /
``bulk_update``, so memory stays flat however many comments there are; post bodies go through
``render_posts`` and comment bodies through ``render_comments`` (the renderers, sanitiser and
MathJax batches of hand-written posts and comments), and the content generation moves once at the
end. Decisions, all reported with the source's ``where``:

- a kept id that belongs to a post not imported from this source: that post is left alone and the
  imported one gets a new id (its old /archives/<id>/ link then shows the other post);
- draft, private and pending posts become drafts; a page becomes a post with ``is_page`` (out of
  lists and feeds, at its old URL); a post in several categories keeps the first;
- a comment on a post missing from the source is skipped; a reply whose parent is missing becomes
  a top-level comment; an approved comment past the comment TeX limits is held for moderation;
- a post's old addresses (``SourcePost.old_paths``) become ``OldPath`` rows redirecting to it,
  exactly those the source lists now; one another post claimed first is reported and left to it;
- reader counts never go down (a re-run after the blog has counted reads here keeps the larger);
- an existing user keeps their password and details; imported users get unusable passwords.
"""

import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import batched
from pathlib import Path
from typing import Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from tqdm import tqdm

from blog import mathjax
from blog.comments.html import render as render_comment
from blog.comments.tex import comment_problem
from blog.db import free_slug, reset_sequences
from blog.models import (
    Authorship,
    Category,
    Comment,
    OldPath,
    Post,
    Series,
    Tag,
    render_comments,
    render_posts,
)
from caching.generation import content_changed

from . import series as series_detection
from .source import Source, SourceComment, SourcePost

POST_BATCH = 200
COMMENT_BATCH = 1000
UNTITLED = "无题"
KINDS = ("authors", "categories", "tags", "posts", "redirects", "comments", "series")
OUTCOMES = ("created", "updated", "unchanged", "skipped")

SeriesMode = Literal["off", "detect", "apply"]


@dataclass
class Report:
    """What an import did (or, dry, would do): counts per kind and outcome, every problem with
    its place in the source, the links to the old host's uploads left as they were, and the
    series found in the titles."""

    source: str
    dry_run: bool
    counts: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    problems: list[tuple[str, str]] = field(default_factory=list)
    kept_links: list[tuple[str, str]] = field(default_factory=list)
    media_files: int = 0
    series: list[series_detection.Detected] = field(default_factory=list)

    def problem(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def summary(self) -> list[str]:
        lines = []
        for kind in KINDS:
            counts = self.counts[kind]
            if counts.total():
                lines.append(
                    f"{kind}: "
                    + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o] or o != "skipped")
                )
        return lines

    def lines(self, verbosity: int = 1) -> list[str]:
        """The report as printed: counts, then (verbosity 1) up to 20 of each list, (2+) all."""
        limit = None if verbosity >= 2 else 20
        lines = [f"{'Dry run (nothing written)' if self.dry_run else 'Imported'}: {self.source}"]
        lines += self.summary()
        if self.media_files:
            verb = "would copy" if self.dry_run else "copied"
            lines.append(f"media: {verb} {self.media_files} file(s) from the old uploads folder")
        for title, items in (
            ("Problems", self.problems),
            ("Links to the old host's uploads kept as they are", self.kept_links),
        ):
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  {where}: {text}" for where, text in items[:limit]]
                if limit is not None and len(items) > limit:
                    lines.append(f"  … {len(items) - limit} more (-v 2 lists them all)")
        if self.series:
            lines.append(f"Series found in titles ({len(self.series)}):")
            for found in self.series:
                lines.append(f"  {found.title} ({found.numbering}, {len(found.parts)} parts)")
                lines += [f"    {n}: /archives/{pk}/ {title}" for n, pk, title in found.parts]
        return lines


def write(
    source: Source,
    *,
    dry_run: bool = False,
    media_dir: Path | None = None,
    series: SeriesMode = "off",
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> Report:
    """Import ``source``; ``log`` receives one line per record written (verbosity 3)."""
    report = Report(source=source.location, dry_run=dry_run)
    writer = _Writer(source, report, media_dir, progress, log or (lambda line: None))
    with transaction.atomic():
        writer.run()
        report.problems[:0] = source.problems  # the reader's, found while streaming
        if series != "off":
            report.series = series_detection.detect(
                Post.objects.filter(source_key__startswith=f"{source.name}:"), report.problem
            )
            if series == "apply":
                series_detection.apply(report.series, report)
        if dry_run:
            transaction.set_rollback(True)
        else:
            reset_sequences(Post, Comment, Category, Tag, Series, get_user_model())
            content_changed()
    if media_dir and not dry_run:
        shutil.copytree(media_dir, Path(settings.MEDIA_ROOT) / source.name, dirs_exist_ok=True)
    return report


class _Writer:
    def __init__(self, source, report, media_dir, progress, log):
        self.source, self.report, self.log = source, report, log
        self.progress = progress
        self.media = _Media(source, media_dir, report)
        self.users: dict[str, int] = {}
        self.categories: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.posts: dict[str, int] = {}  # source key -> post id (one int per post, not per comment)
        self.old_paths: dict[str, int] = {}  # old address -> post id, as claimed in this run
        self.orphans: list[tuple[int, str, str]] = []  # (comment id, parent key, where)
        self.renumbered: list[SourcePost] = []  # posts whose id belongs to another post here

    def run(self):
        self.write_authors()
        self.write_terms()
        with self.bar(self.source.post_count, "posts") as bar:
            for batch in batched(self.source.posts, POST_BATCH):
                self.write_posts(list(batch))
                bar.update(len(batch))
            # Posts whose id is taken here get new ids once every kept id is in (a new id from
            # the sequence could otherwise be one a later batch keeps).
            if self.renumbered:
                reset_sequences(Post)
            for batch in batched(self.renumbered, POST_BATCH):
                self.write_posts(list(batch), renumber=True)
        with self.bar(self.source.comment_count, "comments") as bar:
            for batch in batched(self.source.comments, COMMENT_BATCH):
                self.write_comments(list(batch))
                bar.update(len(batch))
        self.settle_orphans()

    def bar(self, total, unit):
        return tqdm(total=total, unit=f" {unit}", disable=not self.progress, dynamic_ncols=True)

    def count(self, kind: str, outcome: str, where: str) -> None:
        self.report.counts[kind][outcome] += 1
        self.log(f"{outcome:>9} {kind[:-1]}  {where}")

    # Authors and terms: a few rows, one at a time.

    def write_authors(self):
        User = get_user_model()
        for author in self.source.authors:
            user = User.objects.filter(username=author.username).first()
            if user is None:
                user = User(
                    username=author.username,
                    display_name=author.display_name[:100],
                    email=author.email,
                    homepage=author.homepage[:200],
                )
                user.set_unusable_password()
                (user,) = User.objects.bulk_create([user])  # no signal: one generation move
                self.count("authors", "created", author.where)
            else:
                self.count("authors", "unchanged", author.where)
            self.users[author.key] = user.pk

    def write_terms(self):
        terms = {term.key: term for term in self.source.terms}
        # Parents before children, whatever order the source lists them in.
        for term in sorted(terms.values(), key=lambda t: _depth(t, terms)):
            if term.kind == "category":
                parent_id = self.categories.get(term.parent_key) if term.parent_key else None
                if term.parent_key and parent_id is None:
                    self.report.problem(
                        term.where, f"parent {term.parent_key} not found: top level"
                    )
                row, outcome = _taxonomy(
                    Category,
                    term.name,
                    term.slug,
                    description=term.description,
                    parent_id=parent_id,
                )
                self.categories[term.key] = row.pk
                self.count("categories", outcome, term.where)
            else:
                row, outcome = _taxonomy(Tag, term.name, term.slug)
                self.tags[term.key] = row.pk
                self.count("tags", outcome, term.where)

    # Posts: a batch at a time.

    def write_posts(self, batch: list[SourcePost], renumber: bool = False):
        by_key = {
            p.source_key: p for p in Post.objects.filter(source_key__in=[s.key for s in batch])
        }
        by_id = Post.objects.in_bulk([s.id for s in batch if s.id])
        existing = [p.pk for p in by_key.values()]
        tags_of, authors_of = defaultdict(list), defaultdict(list)
        for post_id, tag_id in Post.tags.through.objects.filter(post_id__in=existing).values_list(
            "post_id", "tag_id"
        ):
            tags_of[post_id].append(tag_id)
        for post_id, author_id in (
            Authorship.objects.filter(post_id__in=existing)
            .order_by("order", "id")
            .values_list("post_id", "author_id")
        ):
            authors_of[post_id].append(author_id)
        created, updated, rendered, links = [], [], [], {}
        placed: dict[str, SourcePost] = {}  # this batch's posts by key, the first of each key
        for item in batch:
            if item.key in self.posts or item.key in placed:
                self.report.problem(item.where, f"{item.key} appears twice in the source: skipped")
                self.count("posts", "skipped", item.where)
                continue
            placed[item.key] = item
            post = by_key.get(item.key)
            if post is None:
                holder = by_id.get(item.id) if item.id else None
                if holder is not None and not renumber:
                    self.report.problem(
                        item.where,
                        f"id {item.id} is already post “{holder.title}” here (not from this "
                        "source): that post is kept, this one gets a new id",
                    )
                    self.renumbered.append(item)
                    continue
                post = Post(pk=None if holder else item.id)
            wanted = self.wanted_post(item, post)
            tags = sorted({self.tags[k] for k in item.tag_keys if k in self.tags})
            authors = list(
                dict.fromkeys(self.users[k] for k in item.author_keys if k in self.users)
            )
            if len(authors) < len(item.author_keys):
                self.report.problem(item.where, "author not in the source: left out of the byline")
            is_new = post._state.adding
            same = not is_new and (
                all(getattr(post, name) == value for name, value in wanted.items())
                and sorted(tags_of[post.pk]) == tags
                and authors_of[post.pk] == authors
            )
            if same:
                self.count("posts", "unchanged", item.where)
                self.posts[item.key] = post.pk
                continue
            body_changed = is_new or post.body != wanted["body"]
            for name, value in wanted.items():
                setattr(post, name, value)
            if body_changed:
                rendered.append(post)
            (created if is_new else updated).append(post)
            links[id(post)] = (item, tags, authors)
        render_posts(rendered)
        if mathjax.node():
            for post in rendered:
                if post.has_math and not post.math_typeset:
                    where = links[id(post)][0].where
                    self.report.problem(
                        where, "MathJax failed (see the log): math left to the browser"
                    )
        Post.objects.bulk_create(created)
        # bulk_create stamped created_at/updated_at with now: the source's dates replace them.
        for post in created:
            item = links[id(post)][0]
            post.created_at = item.published_at
            post.updated_at = item.modified_at or item.published_at
        Post.objects.bulk_update(created, ["created_at", "updated_at"])
        fields = [
            f.name
            for f in Post._meta.concrete_fields
            if not f.primary_key and f.name not in {"created_at"}
        ]
        Post.objects.bulk_update(updated, fields)
        changed = [*created, *updated]
        Post.tags.through.objects.filter(post__in=[p.pk for p in updated]).delete()
        Authorship.objects.filter(post__in=[p.pk for p in updated]).delete()
        Post.tags.through.objects.bulk_create(
            Post.tags.through(post_id=p.pk, tag_id=t) for p in changed for t in links[id(p)][1]
        )
        Authorship.objects.bulk_create(
            Authorship(post_id=p.pk, author_id=a, order=n)
            for p in changed
            for n, a in enumerate(links[id(p)][2])
        )
        new = {id(post) for post in created}
        for post in changed:
            item = links[id(post)][0]
            self.posts[item.key] = post.pk
            self.count("posts", "created" if id(post) in new else "updated", item.where)
        # Posts set aside for a new id get their old addresses when they are written.
        self.write_old_paths([(self.posts[k], i) for k, i in placed.items() if k in self.posts])

    def write_old_paths(self, placed: list[tuple[int, SourcePost]]):
        """Each post's old addresses (``OldPath``), exactly those the source lists now: one the
        post's own address here is left out, one another post claimed earlier in this run is
        reported and left to it, and one of an earlier import moves to the post listing it now."""
        wanted: dict[str, tuple[int, str]] = {}
        for post_id, item in placed:
            own = OldPath.normalize(reverse("blog:post_detail", args=[post_id]))
            for address in item.old_paths:
                path = OldPath.normalize(address)
                claimed = self.old_paths.get(path)
                if path == own or claimed == post_id:
                    continue
                if path[:1] != "/" or path == "/" or len(path) > OldPath.path.field.max_length:
                    self.report.problem(item.where, f"old address {address!r} unusable: ignored")
                elif claimed is not None:
                    self.report.problem(
                        item.where,
                        f"old address {path} already leads to /archives/{claimed}/: ignored",
                    )
                else:
                    wanted[path] = (post_id, item.where)
                    self.old_paths[path] = post_id
        ids = [post_id for post_id, _ in placed]
        existing = dict(
            OldPath.objects.filter(Q(post_id__in=ids) | Q(path__in=wanted)).values_list(
                "path", "post_id"
            )
        )
        stale = [path for path, post_id in existing.items() if path not in wanted]
        OldPath.objects.filter(path__in=stale).delete()
        moved = []
        for path, (post_id, where) in wanted.items():
            if path not in existing:
                outcome = "created"
            elif existing[path] == post_id:
                outcome = "unchanged"
            else:
                outcome = "updated"
                moved.append(path)
                self.report.problem(
                    where, f"old address {path} led to /archives/{existing[path]}/: moved here"
                )
            self.count("redirects", outcome, where)
        OldPath.objects.filter(path__in=moved).delete()
        OldPath.objects.bulk_create(
            OldPath(path=path, post_id=wanted[path][0])
            for path in wanted
            if path not in existing or path in moved
        )

    def wanted_post(self, item: SourcePost, post: Post) -> dict:
        title = item.title.strip()
        if not title:
            title = UNTITLED
            self.report.problem(item.where, f"empty title: “{UNTITLED}”")
        if item.status != "published":
            self.report.problem(item.where, f"{item.status} post: imported as a draft")
        if item.body_format == "html" and "$" in item.body:
            self.report.problem(
                item.where, "HTML body with $: TeX inside HTML blocks is not typeset, check it"
            )
        categories = [self.categories[k] for k in item.category_keys if k in self.categories]
        if len(categories) > 1:
            self.report.problem(
                item.where, f"in {len(categories)} categories: the first is kept (a post has one)"
            )
        return {
            "title": title[:300],
            "body": self.media.rewrite(item.body, item.where),
            "status": Post.Status.PUBLISHED if item.status == "published" else Post.Status.DRAFT,
            "published_at": item.published_at,
            "category_id": categories[0] if categories else None,
            "comments_open": item.comments_open,
            "is_page": item.kind == "page",
            "source_key": item.key,
            "updated_at": item.modified_at or item.published_at,
            "reader_count": max(item.reader_count, post.reader_count),
        }

    # Comments: a batch at a time; the post ids are known, parents are looked up per batch.

    def write_comments(self, batch: list[SourceComment]):
        by_key = {
            c.source_key: c for c in Comment.objects.filter(source_key__in=[c.key for c in batch])
        }
        parent_keys = {c.parent_key for c in batch if c.parent_key}
        parents = dict(
            Comment.objects.filter(source_key__in=parent_keys).values_list("source_key", "pk")
        )
        numbers = dict(
            Comment.objects.filter(post_id__in={self.posts.get(c.post_key) for c in batch})
            .values("post_id")
            .annotate(last=Max("number"))
            .values_list("post_id", "last")
        )
        created, updated, later_parents = [], [], []
        where, keys = {item.key: item.where for item in batch}, set()
        for item in batch:
            post_id = self.posts.get(item.post_key)
            if post_id is None or item.key in keys:
                problem = (
                    f"on {item.post_key}, not in the source"
                    if post_id is None
                    else f"{item.key} appears twice in the source"
                )
                self.report.problem(item.where, f"{problem}: skipped")
                self.count("comments", "skipped", item.where)
                continue
            keys.add(item.key)
            comment = by_key.get(item.key) or Comment(post_id=post_id)
            wanted = self.wanted_comment(item, post_id)
            parent_id = parents.get(item.parent_key) if item.parent_key else None
            if comment.pk and parent_id is not None:
                wanted["parent_id"] = parent_id
            if comment.pk and all(getattr(comment, k) == v for k, v in wanted.items()):
                self.count("comments", "unchanged", item.where)
                if item.parent_key and parent_id is None:
                    self.orphans.append((comment.pk, item.parent_key, item.where))
                continue
            for name, value in wanted.items():
                setattr(comment, name, value)
            if comment.pk is None:
                numbers[post_id] = comment.number = numbers.get(post_id, 0) + 1
                comment.parent_id = parent_id
                created.append(comment)
            else:
                updated.append(comment)
            if item.parent_key and parent_id is None:
                later_parents.append((comment, item))
        changed = [*created, *updated]
        render_comments(changed)
        Comment.objects.bulk_create(created)
        fields = [
            f.name
            for f in Comment._meta.concrete_fields
            if not f.primary_key and f.name != "number"
        ]
        Comment.objects.bulk_update(updated, fields)
        new = {id(comment) for comment in created}
        for comment in changed:
            self.count(
                "comments",
                "created" if id(comment) in new else "updated",
                where[comment.source_key],
            )
        # Parents later in this batch exist now; the rest may come in a later batch.
        keys = {item.parent_key for _, item in later_parents}
        found = dict(Comment.objects.filter(source_key__in=keys).values_list("source_key", "pk"))
        resolved = []
        for comment, item in later_parents:
            if item.parent_key in found:
                comment.parent_id = found[item.parent_key]
                resolved.append(comment)
            else:
                self.orphans.append((comment.pk, item.parent_key, item.where))
        Comment.objects.bulk_update(resolved, ["parent_id"])

    def wanted_comment(self, item: SourceComment, post_id: int) -> dict:
        user_id = self.users.get(item.author_key) if item.author_key else None
        name = item.author_name.strip() or "匿名"
        if len(name) > 60:
            self.report.problem(item.where, "name longer than 60 characters: shortened")
        website = item.website.strip()
        if website and not re.match(r"https?://", website, re.IGNORECASE):
            self.report.problem(item.where, f"website {website!r} is not an http(s) URL: dropped")
            website = ""
        status = item.status
        # As a new comment past the TeX limits is refused, an imported one is held for a look.
        if status == "approved" and ("$" in item.body or "\\" in item.body):
            problem = comment_problem(render_comment(item.body).html)
            if problem:
                self.report.problem(item.where, f"held for moderation: {problem}")
                status = "pending"
        return {
            "post_id": post_id,
            "author_name": name[:60],
            "email": item.email.strip()[:254],
            "website": website[:200],
            "body": item.body,
            "status": status,
            "created_at": item.created_at,
            "approved_at": item.created_at if status == "approved" else None,
            "user_id": user_id,
            "is_staff_reply": user_id is not None,
            "source_key": item.key,
        }

    def settle_orphans(self):
        """Replies whose parent came after them in the source get it now; the rest stay at the top."""
        keys = {key for _, key, _ in self.orphans}
        found = dict(Comment.objects.filter(source_key__in=keys).values_list("source_key", "pk"))
        resolved = []
        for pk, key, where in self.orphans:
            if key in found:
                resolved.append(Comment(pk=pk, parent_id=found[key]))
            else:
                self.report.problem(where, f"reply to {key}, not in the source: shown at top level")
        Comment.objects.bulk_update(resolved, ["parent_id"])


class _Media:
    """Links to the old host's uploads: rewritten to MEDIA_URL/<source>/… for files present in
    ``--media-dir`` (copied there after the import), else kept and listed in the report."""

    def __init__(self, source: Source, media_dir: Path | None, report: Report):
        self.media_dir, self.report = media_dir, report
        self.url = f"{settings.MEDIA_URL}{source.name}/"
        # A root-relative prefix ("/usr/uploads/") only where a URL starts, not inside another
        # host's URL.
        prefixes = [
            f"(?<![\\w.:/-]){re.escape(p)}"
            if p.startswith("/") and not p.startswith("//")
            else re.escape(p)
            for p in sorted(set(source.uploads_urls), key=len, reverse=True)
        ]
        self.pattern = (
            re.compile("(?:" + "|".join(prefixes) + r")(?P<path>[^\s\"'<>()\[\]]+)")
            if prefixes
            else None
        )
        if media_dir:
            report.media_files = sum(1 for p in media_dir.rglob("*") if p.is_file())

    def rewrite(self, body: str, where: str) -> str:
        if self.pattern is None:
            return body

        def replace(match):
            path = match["path"]
            if self.media_dir and (self.media_dir / path).is_file():
                return self.url + path
            if self.media_dir:
                self.report.problem(where, f"{match[0]}: not in the media folder, link kept")
            else:
                self.report.kept_links.append((where, match[0]))
            return match[0]

        return self.pattern.sub(replace, body)


def _taxonomy(model, name: str, slug: str, **fields):
    """The category or tag named ``name`` (created with a free slug), and what was done.
    Written without signals: the import moves the content generation once, at the end."""
    name = name.strip()[:100] or model._meta.model_name
    row = model.objects.filter(name=name).first()
    if row is None:
        (row,) = model.objects.bulk_create(
            [model(name=name, slug=free_slug(model, slug or name), **fields)]
        )
        return row, "created"
    if all(getattr(row, k) == v for k, v in fields.items()):
        return row, "unchanged"
    model.objects.filter(pk=row.pk).update(**fields)
    return row, "updated"


def _depth(term, terms) -> int:
    depth, seen = 0, set()
    while term.parent_key in terms and term.key not in seen:
        seen.add(term.key)
        term, depth = terms[term.parent_key], depth + 1
    return depth
