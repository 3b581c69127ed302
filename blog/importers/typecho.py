"""Read a Typecho 1.x database (MySQL/MariaDB or SQLite) as a ``Source``.

Tables (``typecho_`` prefix by default): ``users`` → authors; ``metas`` (with ``parent`` when the
schema has it) → categories and tags; ``contents`` of type post, page, post_draft and page_draft
→ posts, a body starting with ``<!--markdown-->`` read as Markdown and any other kept as HTML,
with the ``views`` column (a views plugin's) as reader counts when the table has one;
``relationships`` → their categories and tags; ``comments`` of type comment → comments, threaded
by ``parent``. Dates are Unix times (UTC).

Skipped and reported: trackbacks and pingbacks (the blog has none), unsaved drafts of published
posts (``post_draft`` rows with a parent: the published post is imported), and rows whose date is
not a time. Password-protected posts are read as private (the writer makes them drafts).

Text is read as the bytes stored (``SET NAMES binary`` on MySQL/MariaDB, bytes from SQLite) and decoded as
UTF-8; text that is not UTF-8 (old GBK blogs) is decoded as GB18030, and failing that with U+FFFD
for the bad bytes, and each such field is reported. MySQL rows are streamed (an unbuffered
cursor), so a large blog is never held in memory.
"""

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dj_database_url
import pymysql
import pymysql.cursors

from .source import Source, SourceAuthor, SourceComment, SourceError, SourcePost, SourceTerm

MARKDOWN_MARK = "<!--markdown-->"
POST_TYPES = ("post", "page", "post_draft", "page_draft")
COMMENT_STATUS = {"approved": "approved", "waiting": "pending", "spam": "spam"}


@contextmanager
def open_typecho(url: str, prefix: str = "typecho_") -> Iterator[Source]:
    """The Typecho database at ``url`` (``mysql://user:password@host:port/name`` or
    ``sqlite:///path``) as a Source, its connection open for the ``with`` block."""
    if not prefix.replace("_", "").isalnum() and prefix:
        raise SourceError(f"table prefix {prefix!r}: letters, digits and _ only")
    config = dj_database_url.parse(url)
    engine = config["ENGINE"].rsplit(".", 1)[-1]
    try:
        if engine == "sqlite3":
            path = Path(config["NAME"])
            if not path.is_file():
                raise SourceError(f"{path}: no such SQLite file")
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            connection.text_factory = bytes
            location = str(path)
        elif engine == "mysql":
            connection = pymysql.connect(
                host=config["HOST"] or "localhost",
                port=int(config["PORT"] or 3306),
                user=config["USER"],
                password=config["PASSWORD"],
                database=config["NAME"],
                charset="utf8mb4",
                use_unicode=False,
                init_command="SET NAMES binary",
            )
            location = f"mysql://{config['HOST']}:{config['PORT'] or 3306}/{config['NAME']}"
        else:
            raise SourceError(f"{url.split(':', 1)[0]}: use a mysql:// or sqlite:/// URL")
    except (sqlite3.Error, pymysql.Error) as error:
        raise SourceError(f"cannot open {url.split('@')[-1]}: {error}") from error
    with closing(connection):
        reader = _Reader(connection, prefix, engine == "mysql", location)
        try:
            yield reader.source()
        except (sqlite3.Error, pymysql.Error) as error:
            raise SourceError(f"reading {location}: {error}") from error


class _Reader:
    def __init__(self, connection, prefix: str, mysql: bool, location: str):
        self.connection, self.prefix, self.mysql = connection, prefix, mysql
        self.location = location
        self.problems: list[tuple[str, str]] = []
        if mysql:
            with connection.cursor() as cursor:
                # A streamed read waits while the writer works on a batch; keep the server patient.
                cursor.execute("SET SESSION net_write_timeout = 3600")

    def table(self, name: str) -> str:
        return f"`{self.prefix}{name}`"

    def rows(self, sql: str, params=(), *, stream: bool = False):
        if self.mysql:
            cursor_class = pymysql.cursors.SSCursor if stream else pymysql.cursors.Cursor
            with self.connection.cursor(cursor_class) as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                yield from cursor
        else:
            cursor = self.connection.execute(sql, params)
            yield from cursor
            cursor.close()

    def columns(self, name: str) -> set[str]:
        try:
            if self.mysql:
                with self.connection.cursor() as cursor:
                    cursor.execute(f"SELECT * FROM {self.table(name)} LIMIT 0")
                    description = cursor.description
            else:
                description = self.connection.execute(
                    f"SELECT * FROM {self.table(name)} LIMIT 0"
                ).description
        except (sqlite3.Error, pymysql.Error) as error:
            raise SourceError(
                f"no table {self.prefix}{name} in {self.location} (is the prefix right?)"
            ) from error
        return {_text(column[0]) for column in description}

    def text(self, value, where: str, what: str) -> str:
        """A text column as str: UTF-8, else GB18030, else UTF-8 with U+FFFD; reported."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            pass
        try:
            decoded = value.decode("gb18030")
            self.problems.append((where, f"{what} is not UTF-8: read as GB18030"))
        except UnicodeDecodeError:
            decoded = value.decode("utf-8", errors="replace")
            self.problems.append((where, f"{what} is not UTF-8: bad bytes replaced with �"))
        return decoded

    def moment(self, value, where: str) -> datetime | None:
        try:
            seconds = int(value or 0)
        except (TypeError, ValueError):
            seconds = 0
        if seconds <= 0:
            self.problems.append((where, f"no date ({_text(value)!r}): skipped"))
            return None
        return datetime.fromtimestamp(seconds, UTC)

    def count(self, sql: str) -> int:
        return int(next(self.rows(sql))[0])

    def source(self) -> Source:
        for name in ("users", "metas", "relationships", "comments"):
            self.columns(name)
        content_columns = self.columns("contents")
        self.has_views = "views" in content_columns
        types = ", ".join(f"'{t}'" for t in POST_TYPES)
        site = "".join(
            self.text(value, "options", "siteUrl")
            for (value,) in self.rows(
                f"SELECT value FROM {self.table('options')} WHERE name = 'siteUrl' AND user = 0"
            )
        ).rstrip("/")
        uploads = ["/usr/uploads/"]
        if "://" in site:
            host = site.split("://", 1)[1]
            uploads += [f"{scheme}{host}/usr/uploads/" for scheme in ("http://", "https://", "//")]
        return Source(
            name="typecho",
            location=self.location,
            authors=self.authors(),
            terms=self.terms(),
            posts=self.posts(),
            comments=self.comments(),
            post_count=self.count(
                f"SELECT COUNT(*) FROM {self.table('contents')} WHERE type IN ({types})"
            ),
            comment_count=self.count(f"SELECT COUNT(*) FROM {self.table('comments')}"),
            problems=self.problems,
            uploads_urls=uploads,
        )

    def authors(self) -> list[SourceAuthor]:
        authors = []
        for uid, name, mail, url, screen_name in self.rows(
            f"SELECT uid, name, mail, url, screenName FROM {self.table('users')} ORDER BY uid"
        ):
            where = f"{self.prefix}users uid={uid}"
            username = self.text(name, where, "name").strip()
            if not username:
                self.problems.append((where, "no user name: skipped"))
                continue
            authors.append(
                SourceAuthor(
                    key=f"typecho:uid:{uid}",
                    username=username[:150],
                    display_name=self.text(screen_name, where, "screenName"),
                    email=self.text(mail, where, "mail"),
                    homepage=self.text(url, where, "url"),
                    where=where,
                )
            )
        return authors

    def terms(self) -> list[SourceTerm]:
        has_parent = "parent" in self.columns("metas")
        parent = "parent" if has_parent else "0"
        terms = []
        for mid, name, slug, kind, description, parent_id in self.rows(
            f"SELECT mid, name, slug, type, description, {parent} FROM {self.table('metas')} "
            "WHERE type IN ('category', 'tag') ORDER BY mid"
        ):
            where = f"{self.prefix}metas mid={mid}"
            terms.append(
                SourceTerm(
                    key=f"typecho:mid:{mid}",
                    kind=_text(kind),
                    name=self.text(name, where, "name"),
                    slug=self.text(slug, where, "slug"),
                    description=self.text(description, where, "description"),
                    parent_key=f"typecho:mid:{parent_id}" if int(parent_id or 0) else None,
                    where=where,
                )
            )
        return terms

    def posts(self) -> Iterator[SourcePost]:
        terms = defaultdict(list)
        for cid, mid in self.rows(
            f"SELECT cid, mid FROM {self.table('relationships')} ORDER BY cid, mid"
        ):
            terms[int(cid)].append(f"typecho:mid:{mid}")
        kinds = {
            f"typecho:mid:{mid}": _text(kind)
            for mid, kind in self.rows(f"SELECT mid, type FROM {self.table('metas')}")
        }
        views = "views" if self.has_views else "0"
        types = ", ".join(f"'{t}'" for t in POST_TYPES)
        for row in self.rows(
            "SELECT cid, title, slug, created, modified, text, authorId, type, status, password, "
            f"allowComment, parent, {views} FROM {self.table('contents')} "
            f"WHERE type IN ({types}) ORDER BY cid",
            stream=True,
        ):
            cid, title, slug, created, modified, text, author, kind, status, password = row[:10]
            allow_comment, parent, view_count = row[10:]
            where = f"{self.prefix}contents cid={cid}"
            kind, status = _text(kind), _text(status)
            if kind.endswith("_draft") and int(parent or 0):
                self.problems.append(
                    (where, f"unsaved draft of cid={parent}: skipped (the saved post is imported)")
                )
                continue
            published_at = self.moment(created, where)
            if published_at is None:
                continue
            body = self.text(text, where, "text")
            markdown = body.startswith(MARKDOWN_MARK)
            if kind.endswith("_draft"):
                state = "draft"
            elif password:
                state = "private"
                self.problems.append((where, "password-protected: read as private"))
            else:
                state = {"publish": "published", "private": "private", "waiting": "pending"}.get(
                    status, "draft"
                )
                if status not in ("publish", "private", "waiting"):
                    self.problems.append((where, f"status {status!r}: read as a draft"))
            keys = terms.get(int(cid), [])
            yield SourcePost(
                key=f"typecho:cid:{cid}",
                id=int(cid),
                title=self.text(title, where, "title"),
                body=body.removeprefix(MARKDOWN_MARK).lstrip("\r\n"),
                body_format="markdown" if markdown else "html",
                status=state,
                kind="page" if kind.startswith("page") else "post",
                slug=self.text(slug, where, "slug"),
                published_at=published_at,
                modified_at=self.moment(modified, where) if int(modified or 0) else None,
                author_keys=[f"typecho:uid:{author}"] if int(author or 0) else [],
                category_keys=[k for k in keys if kinds.get(k) == "category"],
                tag_keys=[k for k in keys if kinds.get(k) == "tag"],
                reader_count=max(int(view_count or 0), 0),
                comments_open=_text(allow_comment) == "1",
                where=where,
            )

    def comments(self) -> Iterator[SourceComment]:
        for row in self.rows(
            "SELECT coid, cid, created, author, authorId, mail, url, text, type, status, parent "
            f"FROM {self.table('comments')} ORDER BY coid",
            stream=True,
        ):
            coid, cid, created, author, author_id, mail, url, text, kind, status, parent = row
            where = f"{self.prefix}comments coid={coid}"
            kind, status = _text(kind), _text(status)
            if kind != "comment":
                self.problems.append((where, f"{kind or 'untyped'}: skipped"))
                continue
            created_at = self.moment(created, where)
            if created_at is None:
                continue
            if status not in COMMENT_STATUS:
                self.problems.append((where, f"status {status!r}: read as pending"))
            yield SourceComment(
                key=f"typecho:coid:{coid}",
                post_key=f"typecho:cid:{cid}",
                author_name=self.text(author, where, "author"),
                body=self.text(text, where, "text"),
                created_at=created_at,
                status=COMMENT_STATUS.get(status, "pending"),
                parent_key=f"typecho:coid:{parent}" if int(parent or 0) else None,
                email=self.text(mail, where, "mail"),
                website=self.text(url, where, "url"),
                author_key=f"typecho:uid:{author_id}" if int(author_id or 0) else None,
                where=where,
            )


def _text(value) -> str:
    """A short ASCII column (type, status, flags) as str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)
