"""Search: substring matching for Chinese and Latin alike, ranked title > tag > body, with snippets.

Chinese is written without spaces, so instead of splitting text into words this module matches
every query term as a substring of the title, the tag names and the body text (``Post.search_text``:
plain text with TeX kept). Terms of three or more characters go through a trigram index
(SQLite FTS5 ``trigram``, PostgreSQL ``pg_trgm``; see ``blog.search_index``); shorter ones
("苏", "AI", "注意") fall back to a ``LIKE`` scan, which is still correct, only slower.

A post matches when it contains every term (each in any of the three places). Each term scores
100 if it is in the title, else 10 if it is in a tag name, else 1 (the body); posts are ranked by
their total, then newest first. Queries are data, never syntax: terms reach the database as bound
parameters, quoted as an FTS5 string where FTS5 is used, so ``"``, ``*``, ``NEAR(``, ``%`` and
``_`` are searched for literally.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from django.db import connection
from django.db.models import Case, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import markup
from .models import Comment, Post

MAX_QUERY_CHARS = 100
MAX_TERMS = 8
INDEXED_TERM_CHARS = 3  # trigram indexes need three characters
WEIGHT_TITLE, WEIGHT_TAG, WEIGHT_BODY = 100, 10, 1
SNIPPET_CHARS = 160
SNIPPET_FORMULA_CHARS = 80  # a longer formula without a match is elided, never cut
COMMENT_RESULTS = 10

# Whitespace and list punctuation separate terms; "double quotes" keep a phrase together.
_TERM = re.compile(r'"([^"]*)"?|“([^”]*)”?|([^\s,，、;；"“]+)')
_FORMULA = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]")


@dataclass(frozen=True)
class Query:
    """What the reader typed, cleaned: the terms searched and what was left out, to say so."""

    text: str
    terms: tuple[str, ...]
    truncated: bool = False
    dropped: tuple[str, ...] = ()

    def __bool__(self):
        return bool(self.terms)

    def __str__(self):
        return self.text

    @cached_property
    def pattern(self) -> re.Pattern:
        """Matches any term, case-insensitively, longest first (for highlighting)."""
        ordered = sorted(self.terms, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)

    @property
    def short_terms(self) -> list[str]:
        return [term for term in self.terms if len(term) < INDEXED_TERM_CHARS]


def parse_query(raw: str) -> Query:
    """Clean and split a query; never raises, whatever the input."""
    # Control characters (NUL included) become spaces; invisible format characters (zero-width
    # spaces, direction overrides) and unpaired surrogates are dropped.
    text = "".join(
        " " if category == "Cc" else "" if category in {"Cf", "Cs"} else char
        for char, category in ((char, unicodedata.category(char)) for char in raw)
    )
    text = re.sub(r"\s+", " ", text).strip()
    truncated = len(text) > MAX_QUERY_CHARS
    text = text[:MAX_QUERY_CHARS].strip()
    terms: list[str] = []
    for match in _TERM.finditer(text):
        term = " ".join(next(group for group in match.groups() if group is not None).split())
        if term and term.casefold() not in {t.casefold() for t in terms}:
            terms.append(term)
    return Query(
        text=text,
        terms=tuple(terms[:MAX_TERMS]),
        truncated=truncated,
        dropped=tuple(terms[MAX_TERMS:]),
    )


def ranked_post_ids(query: Query, posts=None) -> list[int]:
    """Ids of the public posts (or of ``posts``) matching every term, best first."""
    if not query:
        return []
    posts = Post.objects.published() if posts is None else posts
    score = Value(0)
    for term in query.terms:
        tagged = _tagged(term)
        posts = posts.filter(Q(pk__in=_text_matches(term)) | Q(pk__in=tagged))
        score += Case(
            When(title__icontains=term, then=Value(WEIGHT_TITLE)),
            When(pk__in=tagged, then=Value(WEIGHT_TAG)),
            default=Value(WEIGHT_BODY),
        )
    return list(
        posts.annotate(search_score=score)
        .order_by("-search_score", "-published_at", "-id")
        .values_list("pk", flat=True)
    )


def _tagged(term: str):
    return Post.tags.through.objects.filter(tag__name__icontains=term).values("post_id")


def _text_matches(term: str):
    """Ids of posts whose title or body contains ``term``, through the index when it can."""
    if connection.vendor == "sqlite" and len(term) >= INDEXED_TERM_CHARS:
        # An FTS5 string: double quotes doubled, so no character in it is query syntax.
        phrase = '"{}"'.format(term.replace('"', '""'))
        return RawSQL("SELECT rowid FROM blog_post_fts WHERE blog_post_fts MATCH %s", [phrase])
    if connection.vendor == "postgresql":
        # The expression of the GIN trigram indexes (blog.search_index), with LIKE's own
        # wildcards in the term escaped.
        pattern = f"%{connection.ops.prep_for_like_query(term)}%"
        return RawSQL(
            "SELECT id FROM blog_post WHERE blog_search_fold(title) LIKE upper(%s) "
            "OR blog_search_fold(search_text) LIKE upper(%s)",
            [pattern, pattern],
        )
    return Post.objects.filter(Q(title__icontains=term) | Q(search_text__icontains=term)).values(
        "pk"
    )


@dataclass
class Hit:
    post: Post
    title_html: SafeString
    snippet_html: SafeString
    tags: list  # (tag, highlighted name) pairs


def hits(post_ids: list[int], query: Query) -> list[Hit]:
    """One page of results in rank order, with highlighted titles, tags and snippets."""
    posts = (
        Post.objects.filter(pk__in=post_ids)
        .select_related("category")
        .prefetch_related("tags")
        .only("id", "title", "published_at", "search_text", "category__name", "category__slug")
    )
    by_id = {post.pk: post for post in posts}
    return [
        Hit(
            post=post,
            title_html=highlight(post.title, query),
            snippet_html=snippet(post.search_text, query),
            tags=[(tag, highlight(tag.name, query)) for tag in post.tags.all()],
        )
        for post in (by_id.get(pk) for pk in post_ids)
        if post is not None
    ]


def highlight(text: str, query: Query) -> SafeString:
    """``text`` HTML-escaped, with every occurrence of a term wrapped in ``<mark>``."""
    if not query or not text:
        return escape(text)
    out, last = [], 0
    for match in query.pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))


def snippet(text: str, query: Query, width: int = SNIPPET_CHARS) -> SafeString:
    """About ``width`` characters of ``text`` around the first match, highlighted.

    The window never starts or ends inside a formula: a formula at an edge is taken whole, or
    left out when it is long and holds no match. Formulas read as in every plain-text place
    (``markup.plain_formula``), except that the one holding the match is shown whole as TeX
    between dollars; nothing is typeset on the results page.
    """
    if not text:
        return mark_safe("")
    first = query.pattern.search(text) if query else None
    anchor = first.start() if first else 0
    start = max(0, anchor - width // 4)
    end = min(len(text), start + width)
    formulas = list(_FORMULA.finditer(text))
    for formula in formulas:
        keep = formula.start() <= anchor < formula.end() or _tex_length(formula) <= (
            SNIPPET_FORMULA_CHARS
        )
        if formula.start() < start < formula.end():
            start = formula.start() if keep else formula.end()
        if formula.start() < end < formula.end():
            end = formula.end() if keep else formula.start()
    if end <= start:  # a single long formula filled the window
        end = min(len(text), start + width)
    out = ["…" if start > 0 else ""]
    position = start
    for formula in formulas:
        if formula.end() <= start or formula.start() >= end:
            continue
        out.append(highlight(text[position : formula.start()], query))
        out.append(_formula_html(formula, query, formula.start() <= anchor < formula.end()))
        position = formula.end()
    out.append(highlight(text[position:end], query))
    out.append("…" if end < len(text) else "")
    return mark_safe("".join(out))


def _tex_length(formula: re.Match) -> int:
    return len(formula.group(1) if formula.group(1) is not None else formula.group(2))


def _formula_html(formula: re.Match, query: Query, holds_anchor: bool) -> str:
    inline = formula.group(1) is not None
    tex = formula.group(1) if inline else formula.group(2)
    shown = markup.plain_formula(tex, display=not inline, whole=holds_anchor)
    if not shown.startswith("$"):
        return escape(shown)
    return f'<span class="snippet-tex">{highlight(shown, query)}</span>'


@dataclass
class CommentHit:
    comment: object
    snippet_html: SafeString


def comment_hits(query: Query, limit: int = COMMENT_RESULTS) -> list[CommentHit]:
    """Approved comments on public posts containing every term, newest first (a separate group)."""
    if not query:
        return []
    comments = Comment.objects.public().select_related("post")
    for term in query.terms:
        comments = comments.filter(body__icontains=term)
    return [
        CommentHit(
            comment=comment,
            snippet_html=snippet(markup.search_text(markup.comment_tokens(comment.body)), query),
        )
        for comment in comments.order_by("-created_at")[:limit]
    ]
