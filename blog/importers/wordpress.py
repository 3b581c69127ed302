"""Read a WordPress export (WXR 1.0–1.2, the XML of Tools → Export) as a ``Source``.

The file is parsed with expat, streamed: a first pass reads the authors (``wp:author``), the
categories with their parents (``wp:category``, ``wp:category_parent``) and tags (``wp:tag``) and
counts the items and comments; ``posts`` and ``comments`` each stream the file again, holding one
``item`` at a time. Every record's ``where`` is "FILE line N" (where its element starts), and a
malformed file is refused by the first pass, with its line, before anything is written.

Items of type post and page are read: ``wp:post_id`` kept as the post's id, ``wp:post_name`` as
slug, ``wp:status`` (publish; future = scheduled; draft, pending, private; a password makes it
private; trash and auto-draft skipped), ``wp:post_date_gmt`` (a draft's "0000-00-00 00:00:00"
falls back to ``wp:post_date`` in the blog's TIME_ZONE), ``dc:creator``, categories and tags, and
the views of WP-PostViews and similar plugins (post meta ``views`` / ``post_views_count``) as
reader counts. Attachments, revisions, menu items and other internal types are skipped; other
custom types are skipped and reported.

Bodies (``content:encoded``) keep their HTML and become the blog's Markdown source (``body``),
rendered as the blog renders posts (raw HTML passes through), so that WordPress's own convention
holds (``body_source``): a blank line separates paragraphs, as in Markdown; a single line break
inside a paragraph, which WordPress's ``wpautop`` shows as ``<br />``, gets one (except around
block tags, in ``<pre>`` and in display math); a bare ``<p>…</p>`` on its own lines (the block
editor's paragraphs) becomes a Markdown paragraph, so the math in it is typeset. Math shortcodes
of WP-LaTeX and similar plugins, ``[latex]…[/latex]`` and ``$latex …$`` (its ``&s=…&bg=…&fg=…``
options dropped), become the blog's ``$…$``. TeX left inside other HTML blocks (``<div>``,
``<table>``) is passed through untypeset and reported, and so are the other common shortcodes
(``[caption]``, ``[gallery]``, ``[embed]``…), which stay as text.

Comments (``wp:comment``): bodies as Markdown (``comment_source``), threaded by ``wp:comment_parent``, ``wp:comment_approved`` 1 =
approved, 0 = pending, spam = spam, trash skipped; pingbacks and trackbacks skipped and reported.

Old addresses kept for redirects: ``/?p=N`` (and ``/?page_id=N`` for pages), the item's own
``<link>`` as the old site served it, and for posts the usual permalink structures
``/yyyy/mm/dd/slug/`` and ``/yyyy/mm/slug/`` (``/archives/N/`` is the post's address here).
"""

import codecs
import html
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat
from zoneinfo import ZoneInfo

from django.conf import settings

from blog.markup import post_parser

from .source import Source, SourceAuthor, SourceComment, SourceError, SourcePost, SourceTerm

WP = "{wp}"
NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "{content}",
    "http://purl.org/dc/elements/1.1/": "{dc}",
}
ZERO_DATE = "0000-00-00 00:00:00"
STATUS = {
    "publish": "published",
    "future": "published",
    "draft": "draft",
    "pending": "pending",
    "private": "private",
}
SKIPPED_STATUS = ("trash", "auto-draft")
INTERNAL_TYPES = {"attachment", "revision", "nav_menu_item", "custom_css", "customize_changeset"}
VIEW_KEYS = ("views", "post_views_count")
COMMENT_STATUS = {"1": "approved", "0": "pending", "spam": "spam"}
CHUNK = 1 << 16

_COMMENT_TAGS = [
    (re.compile(rf"</?{tag}(?:\s[^>]*)?>", re.IGNORECASE), markdown)
    for tags, markdown in (
        (("strong", "b"), "**"),
        (("em", "i"), "*"),
        (("code",), "`"),
        (("del", "s", "strike"), "~~"),
        (("abbr", "acronym", "cite", "q"), ""),
    )
    for tag in tags
] + [
    (
        re.compile(r"<a\s[^>]*?href=([\"'])(.*?)\1[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL),
        # A link elsewhere than the web (an old "#comment-12" reply anchor) keeps its text.
        lambda m: f"[{m[3]}]({m[2]})" if re.match(r"https?://", m[2], re.IGNORECASE) else m[3],
    ),
]
_QUOTE = re.compile(r"<blockquote[^>]*>(.*?)</blockquote>", re.IGNORECASE | re.DOTALL)
_QUOTED_LINE = re.compile(r"^", re.MULTILINE)
_SHORTCODE = re.compile(r"\[(caption|gallery|embed|audio|video|playlist|code|sourcecode)\b")
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_LATEX_BLOCK = re.compile(r"\[latex(?:\s[^\]]*)?\](.*?)\[/latex\]", re.DOTALL | re.IGNORECASE)
_LATEX_DOLLAR = re.compile(r"\$latex[= ](.*?[^\\])\$", re.DOTALL)
_LATEX_OPTIONS = re.compile(r"(?:&(?:amp;)?(?:s|bg|fg)=[^&$]*)+$")
_PROTECTED = re.compile(
    r"<(pre|script|style|textarea)\b.*?</\1\s*>|\$\$.*?\$\$|\\\[.*?\\\]"
    r"|\\begin\{([a-z]+\*?)\}.*?\\end\{\2\}",
    re.DOTALL | re.IGNORECASE,
)
_BLOCK = (
    r"(?:address|article|aside|blockquote|caption|dd|div|dl|dt|figcaption|figure|footer|form"
    r"|h[1-6]|header|hr|li|ol|p|pre|section|table|tbody|td|tfoot|th|thead|tr|ul)"
)
_PARAGRAPH = re.compile(
    r"^[ \t]*<p>((?:(?!</?p[\s>]).)*?)</p>[ \t]*$", re.MULTILINE | re.DOTALL | re.IGNORECASE
)
_TEX = re.compile(r"\$|\\\(|\\\[|\\begin\{")
_VERBATIM = re.compile(r"\s*<(?:pre|script|style|textarea)\b", re.IGNORECASE)
_ENDS_BLOCK = re.compile(rf"(?:</?{_BLOCK}\b[^>]*>|<!--.*-->)\s*$", re.IGNORECASE)
_STARTS_BLOCK = re.compile(rf"\s*(?:</?{_BLOCK}\b|<!--)", re.IGNORECASE)


def open_wordpress(path: Path) -> Source:
    """The WordPress export at ``path`` as a Source; SourceError (with the line) if the file
    cannot be read or is not a well-formed WordPress export."""
    return _Reader(Path(path)).source()


def body_source(content: str) -> str:
    """A WordPress body (``content:encoded``) as the blog's Markdown source: math shortcodes as
    TeX, bare ``<p>`` blocks as Markdown paragraphs, single line breaks as ``<br />``."""
    body = convert_math(content.replace("\r\n", "\n").replace("\r", "\n"))
    body = _PARAGRAPH.sub(lambda match: f"\n{match[1].strip()}\n", body)
    return line_breaks(body.strip("\n"))


def tex_in_html(body: str) -> bool:
    """Whether TeX sits in an HTML block of ``body`` (not ``<pre>``), where the renderer passes
    it through untypeset."""
    if not _TEX.search(body):
        return False
    return any(
        token.type == "html_block"
        and _TEX.search(token.content)
        and not _VERBATIM.match(token.content)
        for token in post_parser().parse(body)
    )


def comment_source(content: str) -> str:
    """A WordPress comment as the Markdown of a new comment here: the tags WordPress lets
    commenters use (``<strong>``, ``<em>``, ``<code>``, ``<a href>``, ``<blockquote>``…) become
    their Markdown, and any other tag stays text (the comment renderer shows it escaped, as for
    a new comment). Math shortcodes become TeX."""
    text = convert_math(content.replace("\r\n", "\n").replace("\r", "\n"))
    for pattern, replacement in _COMMENT_TAGS:
        text = pattern.sub(replacement, text)
    text = _QUOTE.sub(lambda m: "\n\n" + _QUOTED_LINE.sub("> ", m[1].strip()) + "\n\n", text)
    return text.strip()


def convert_math(body: str) -> str:
    """``[latex]…[/latex]`` and ``$latex …$`` as the blog's inline ``$…$`` (entities decoded,
    WP-LaTeX's size and colour options dropped; an empty formula is removed)."""

    def inline(match) -> str:
        tex = html.unescape(match[1])
        tex = _LATEX_OPTIONS.sub("", tex)
        tex = " ".join(tex.split())
        return f"${tex}$" if tex else ""

    return _LATEX_DOLLAR.sub(inline, _LATEX_BLOCK.sub(inline, body))


def line_breaks(body: str) -> str:
    """WordPress's single line breaks inside a paragraph as ``<br />`` (what ``wpautop`` shows);
    blank lines stay paragraph breaks, and ``<pre>``, scripts and display math are left as is."""
    parts, last = [], 0
    for match in _PROTECTED.finditer(body):
        parts += [_break_lines(body[last : match.start()]), match[0]]
        last = match.end()
    parts.append(_break_lines(body[last:]))
    return "".join(parts)


def _break_lines(text: str) -> str:
    lines = text.split("\n")
    for i in range(len(lines) - 1):
        line, following = lines[i], lines[i + 1]
        if (
            line.strip()
            and following.strip()
            and not _ENDS_BLOCK.search(line)
            and not _STARTS_BLOCK.match(following)
        ):
            lines[i] = line + "<br />"
    return "\n".join(lines)


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        self.problems: list[tuple[str, str]] = []
        self.author_of_id: dict[str, str] = {}
        self.terms: set[str] = set()  # the keys of the categories and tags the export lists

    def where(self, line: int) -> str:
        return f"{self.path} line {line}"

    def elements(self, keep: set[str], counts: dict[str, int] | None = None):
        """Each element named in ``keep`` (built whole, then dropped), streaming the file;
        ``counts`` counts items and comments along the way."""
        found: list[_Element] = []
        builder: TreeBuilder | None = None
        depth = record_depth = 0  # record_depth: where the element being built starts

        def start(name, attributes):
            nonlocal builder, depth, record_depth
            tag, line = _tag(name), parser.CurrentLineNumber
            depth += 1
            if depth == 1 and tag != "rss":
                raise SourceError(
                    f"{self.where(line)}: <{tag}> is not a WordPress export "
                    "(an <rss> file from Tools → Export)"
                )
            if counts is not None and tag in counts:
                counts[tag] += 1
            if builder is None and tag in keep:
                builder, record_depth = TreeBuilder(element_factory=_Element), depth
            if builder is not None:
                element = builder.start(tag, {_tag(k): v for k, v in attributes.items()})
                element.line = line

        def end(name):
            nonlocal builder, depth
            depth -= 1
            if builder is not None:
                builder.end(_tag(name))
                if depth < record_depth:
                    found.append(builder.close())
                    builder = None

        def data(text):
            if builder is not None:
                builder.data(text)

        try:
            encoding = self.encoding()
            # expat reads UTF-8 itself (its errors then name the line); a legacy encoding it
            # lacks (GBK, Big5) is decoded by Python and fed to it as UTF-8.
            parser = expat.ParserCreate(None if encoding == "utf-8" else "utf-8", " ")
            parser.buffer_text = True
            parser.StartElementHandler = start
            parser.EndElementHandler = end
            parser.CharacterDataHandler = data
            with self.path.open("rb") as file:
                chunks = iter(lambda: file.read(CHUNK), b"")
                if encoding != "utf-8":
                    decoder = codecs.getincrementaldecoder(encoding)()
                    chunks = (decoder.decode(chunk).encode() for chunk in chunks)
                for chunk in chunks:
                    parser.Parse(chunk, False)
                    yield from found
                    found.clear()
                parser.Parse(b"", True)
                yield from found
        except expat.ExpatError as error:
            message = expat.errors.messages[error.code]
            raise SourceError(
                f"{self.where(error.lineno)}, column {error.offset + 1}: malformed XML ({message})"
            ) from error
        except UnicodeDecodeError as error:
            raise SourceError(f"{self.path}: not valid {encoding} text ({error.reason})") from error
        except OSError as error:
            raise SourceError(f"cannot read {self.path}: {error.strerror}") from error

    def encoding(self) -> str:
        """The encoding the file's XML declaration names ("utf-8" when none, or one expat reads
        itself); SourceError for one Python does not know."""
        with self.path.open("rb") as file:
            declared = _DECLARED_ENCODING.match(file.read(200))
        name = declared[1].decode("ascii") if declared else "utf-8"
        try:
            name = codecs.lookup(name).name
        except LookupError:
            raise SourceError(f"{self.path}: unknown encoding {name!r}") from None
        return "utf-8" if name in ("utf-8", "ascii", "iso8859-1", "utf-16") else name

    def source(self) -> Source:
        counts = {"item": 0, f"{WP}comment": 0}
        authors, terms, site = [], [], ""
        for element in self.elements(
            {f"{WP}author", f"{WP}category", f"{WP}tag", f"{WP}base_site_url"}, counts
        ):
            tag, where = element.tag, self.where(element.line)
            if tag == f"{WP}author":
                author = self.author(element, where)
                if author:
                    authors.append(author)
            elif tag == f"{WP}base_site_url":
                site = (element.text or "").strip().rstrip("/")
            else:
                term = self.term(tag, element, where)
                if term:
                    terms.append(term)
        self.terms = {term.key for term in terms}
        uploads = ["/wp-content/uploads/"]
        if "://" in site:
            host = site.split("://", 1)[1]
            uploads += [
                f"{scheme}{host}/wp-content/uploads/" for scheme in ("http://", "https://", "//")
            ]
        return Source(
            name="wordpress",
            location=str(self.path),
            authors=authors,
            terms=terms,
            posts=self.posts(),
            comments=self.comments(),
            post_count=counts["item"],
            comment_count=counts[f"{WP}comment"],
            problems=self.problems,
            uploads_urls=uploads,
        )

    def author(self, element, where) -> SourceAuthor | None:
        login = _text(element, "author_login").strip()
        if not login:
            self.problems.append((where, "author without a login: skipped"))
            return None
        self.author_of_id[_text(element, "author_id").strip()] = login
        return SourceAuthor(
            key=f"wordpress:author:{login}",
            username=login[:150],
            display_name=_text(element, "author_display_name").strip(),
            email=_text(element, "author_email").strip(),
            where=where,
        )

    def term(self, tag, element, where) -> SourceTerm | None:
        if tag == f"{WP}category":
            slug, name = _text(element, "category_nicename"), _text(element, "cat_name")
            parent = _text(element, "category_parent").strip()
            kind, description = "category", _text(element, "category_description")
        else:
            slug, name = _text(element, "tag_slug"), _text(element, "tag_name")
            parent, kind, description = "", "tag", _text(element, "tag_description")
        slug = unquote(slug.strip())
        if not slug:
            self.problems.append((where, f"{kind} without a slug: skipped"))
            return None
        return SourceTerm(
            key=f"wordpress:{kind}:{slug}",
            kind=kind,
            name=name.strip() or slug,
            slug=slug,
            description=description.strip(),
            parent_key=f"wordpress:category:{unquote(parent)}" if parent else None,
            where=where,
        )

    def posts(self) -> Iterator[SourcePost]:
        for item in self.elements({"item"}):
            post = self.post(item, self.where(item.line))
            if post:
                yield post

    def post(self, item: Element, where: str) -> SourcePost | None:
        kind, status = _text(item, "post_type").strip(), _text(item, "status").strip()
        post_id = _text(item, "post_id").strip()
        if kind in INTERNAL_TYPES:
            return None
        if kind not in ("post", "page"):
            self.problems.append((where, f"post type {kind!r}: skipped"))
            return None
        if not post_id.isdigit() or int(post_id) == 0:
            self.problems.append((where, f"post id {post_id!r} is not a number: skipped"))
            return None
        if status in SKIPPED_STATUS:
            self.problems.append((where, f"{status}: skipped"))
            return None
        state = STATUS.get(status)
        if state is None:
            self.problems.append((where, f"status {status!r}: read as a draft"))
            state = "draft"
        if _text(item, "post_password") and state == "published":
            self.problems.append((where, "password-protected: read as private"))
            state = "private"
        published_at = self.moment(item, "post_date", where, quiet=state != "published")
        if published_at is None:
            self.problems.append((where, "no post_date: skipped"))
            return None
        modified_at = self.moment(item, "post_modified", where, quiet=True)
        slug = unquote(_text(item, "post_name").strip())
        categories, tags = [], []
        for category in item.findall("category"):
            domain = category.get("domain")
            nicename = unquote(category.get("nicename", "").strip())
            if domain not in ("category", "post_tag") or not nicename:
                continue
            key = f"wordpress:{'category' if domain == 'category' else 'tag'}:{nicename}"
            if key not in self.terms:
                self.problems.append((where, f"{domain} {nicename!r} not in the export: dropped"))
                continue
            (categories if domain == "category" else tags).append(key)
        creator = _text(item, "{dc}creator").strip()
        body = body_source(_text(item, "{content}encoded"))
        if tex_in_html(body):
            self.problems.append((where, "TeX inside an HTML block is not typeset: check it"))
        for shortcode in dict.fromkeys(_SHORTCODE.findall(body)):
            self.problems.append((where, f"[{shortcode}] shortcode kept as text: check it"))
        return SourcePost(
            key=f"wordpress:post:{post_id}",
            id=int(post_id),
            title=html.unescape(_text(item, "title")),
            body=body,
            body_format="markdown",
            status=state,
            kind=kind,
            slug=slug,
            published_at=published_at,
            modified_at=modified_at,
            author_keys=[f"wordpress:author:{creator}"] if creator else [],
            category_keys=categories,
            tag_keys=tags,
            reader_count=self.views(item, where),
            comments_open=_text(item, "comment_status").strip() == "open",
            old_paths=self.old_paths(item, kind, int(post_id), slug),
            where=where,
        )

    def old_paths(self, item, kind: str, post_id: int, slug: str) -> list[str]:
        paths = [f"/?p={post_id}"]
        if kind == "page":
            paths.append(f"/?page_id={post_id}")
        link = urlsplit(_text(item, "link").strip())
        if link.path:
            paths.append(link.path + (f"?{link.query}" if link.query else ""))
        local = _text(item, "post_date").strip()
        if kind == "post" and slug and local and local != ZERO_DATE:
            year, month, day = local[:4], local[5:7], local[8:10]
            paths += [f"/{year}/{month}/{day}/{slug}/", f"/{year}/{month}/{slug}/"]
        return list(dict.fromkeys(paths))

    def views(self, item, where) -> int:
        count = 0
        for meta in item.findall(f"{WP}postmeta"):
            if _text(meta, "meta_key").strip() not in VIEW_KEYS:
                continue
            value = _text(meta, "meta_value").strip()
            if value.isdigit():
                count = max(count, int(value))
            else:
                self.problems.append((where, f"views {value!r} is not a count: ignored"))
        return count

    def moment(self, element, name: str, where: str, *, quiet: bool) -> datetime | None:
        """``wp:<name>_gmt`` as UTC, else ``wp:<name>`` in the blog's time zone (reported
        unless ``quiet``: drafts have no GMT date), else None."""
        for field, zone in ((f"{name}_gmt", "UTC"), (name, settings.TIME_ZONE)):
            value = _text(element, field).strip()
            if not value or value == ZERO_DATE:
                continue
            try:
                moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                self.problems.append((where, f"{field} {value!r} is not a date"))
                continue
            if zone != "UTC" and not quiet:
                self.problems.append((where, f"no {name}_gmt: {name} read in {zone}"))
            return moment.replace(tzinfo=ZoneInfo(zone))
        return None

    def comments(self) -> Iterator[SourceComment]:
        for item in self.elements({"item"}):
            post_id = _text(item, "post_id").strip()
            for element in item.findall(f"{WP}comment"):
                comment = self.comment(element, post_id, self.where(element.line))
                if comment:
                    yield comment

    def comment(self, element, post_id: str, where: str) -> SourceComment | None:
        comment_id = _text(element, "comment_id").strip()
        kind = _text(element, "comment_type").strip() or "comment"
        approved = _text(element, "comment_approved").strip()
        if kind != "comment":
            self.problems.append((where, f"{kind}: skipped"))
            return None
        if approved == "trash":
            self.problems.append((where, "trashed comment: skipped"))
            return None
        if approved not in COMMENT_STATUS:
            self.problems.append((where, f"approval {approved!r}: read as pending"))
        created_at = self.moment(element, "comment_date", where, quiet=False)
        if created_at is None:
            self.problems.append((where, "no comment_date: skipped"))
            return None
        parent = _text(element, "comment_parent").strip()
        user = self.author_of_id.get(_text(element, "comment_user_id").strip())
        return SourceComment(
            key=f"wordpress:comment:{comment_id}",
            post_key=f"wordpress:post:{post_id}",
            author_name=html.unescape(_text(element, "comment_author")),
            body=comment_source(_text(element, "comment_content")),
            created_at=created_at,
            status=COMMENT_STATUS.get(approved, "pending"),
            parent_key=f"wordpress:comment:{parent}" if parent not in ("", "0") else None,
            email=_text(element, "comment_author_email"),
            website=_text(element, "comment_author_url"),
            author_key=f"wordpress:author:{user}" if user else None,
            where=where,
        )


class _Element(Element):
    """An element that knows the line it starts on (``line``)."""


def _tag(name: str) -> str:
    """expat's "URI local" as "{wp}local", "{content}local"…, or the bare local name."""
    uri, _, local = name.rpartition(" ")
    if not uri:
        return local
    if uri.startswith("http://wordpress.org/export/") and "excerpt" not in uri:
        return f"{WP}{local}"
    return f"{NAMESPACES.get(uri, '{' + uri + '}')}{local}"


def _text(element: Element, name: str) -> str:
    """The text of child ``name`` (``wp:`` unless another prefix is given), or ""."""
    tag = name if name.startswith("{") or name in ("title", "link") else f"{WP}{name}"
    return element.findtext(tag) or ""
