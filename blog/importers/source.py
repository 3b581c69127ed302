"""What an importer reads from another blog, independent of the engine it came from.

A reader (``typecho.py``, ``wordpress.py``) turns its source into a ``Source``: authors and terms
as small lists, posts and comments as iterators (streamed: a kexue.fm-sized blog has tens of
thousands of comments). Every record has a ``key`` stable across runs (e.g. ``"typecho:cid:12"``,
always starting with the source's ``name`` and a colon: series detection looks for those posts),
which is how re-running an import updates what it wrote before instead of duplicating it, and a
``where`` naming its place in the source for reports ("typecho_contents cid=12",
"export.xml line 340").
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


class SourceError(Exception):
    """The source cannot be opened or read (a database, a malformed file): the message says why
    and where."""


@dataclass
class SourceAuthor:
    key: str
    username: str
    display_name: str = ""
    email: str = ""
    homepage: str = ""
    where: str = ""


@dataclass
class SourceTerm:
    """A category (which may have a parent category) or a tag."""

    key: str
    kind: Literal["category", "tag"]
    name: str
    slug: str = ""
    description: str = ""
    parent_key: str | None = None
    where: str = ""


@dataclass
class SourcePost:
    key: str
    title: str
    body: str
    # "markdown": the blog's Markdown + TeX; "html": kept as HTML (the renderer passes raw HTML).
    body_format: Literal["markdown", "html"]
    status: Literal["published", "draft", "private", "pending"]
    published_at: datetime  # aware; a future date on a published post = scheduled
    kind: Literal["post", "page"] = "post"
    # The id to keep, so that /archives/<id>/ still works (Typecho's cid); None = any new id.
    id: int | None = None
    slug: str = ""
    modified_at: datetime | None = None
    author_keys: list[str] = field(default_factory=list)
    category_keys: list[str] = field(default_factory=list)
    tag_keys: list[str] = field(default_factory=list)
    reader_count: int = 0
    comments_open: bool = True
    # Paths (with query string where it matters, e.g. "/?p=12") of the old site that should
    # redirect to the new permalink.
    old_paths: list[str] = field(default_factory=list)
    where: str = ""


@dataclass
class SourceComment:
    key: str
    post_key: str
    author_name: str
    body: str
    created_at: datetime  # aware
    status: Literal["approved", "pending", "spam"]
    parent_key: str | None = None
    email: str = ""
    website: str = ""
    # The key of the SourceAuthor who wrote it, when the old blog knew it was its own staff.
    author_key: str | None = None
    where: str = ""


@dataclass
class Source:
    """One blog to import. ``posts`` and ``comments`` may be iterated once each, in that order;
    ``post_count`` and ``comment_count`` (exact or estimated) size the progress bar."""

    name: str  # "typecho", "wordpress"
    location: str  # what was opened, for the report (a URL without password, a file path)
    authors: list[SourceAuthor]
    terms: list[SourceTerm]
    posts: Iterable[SourcePost]
    comments: Iterable[SourceComment]
    post_count: int | None = None
    comment_count: int | None = None
    # Where the old blog served its uploads ("https://kexue.fm/usr/uploads/", "/usr/uploads/"):
    # links starting with one of these are rewritten for --media-dir, or else listed.
    uploads_urls: list[str] = field(default_factory=list)
    # Problems found while reading (an unreadable row, a bad date): (where, message). The
    # writer reports them with its own; a reader skips such a record rather than guessing.
    problems: list[tuple[str, str]] = field(default_factory=list)
