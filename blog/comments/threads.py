"""The comment thread of a post as a tree, and split into pages of top-level threads.

The thread shows a post's approved comments in number order. A *root* is a comment shown at the
top level: one whose parent is not shown (none, or held, spam, deleted). Every other comment is
shown inside its parent's top-level thread, so a page of ``per_page`` roots holds those roots and
all their replies. New comments only add roots at the end, so a comment's page does not change as
the thread grows (moderating an older root can move later ones by a place).

What a page costs does not depend on the size of the thread: one COUNT for the number of pages
(the views cache it until the content changes), the ids of the page's roots (an index range) and
then their subtrees, found by a recursive query walking ``parent_id`` down from those roots.
Finding the page of one comment walks its ancestors up the same way, then counts the roots up to
its own. SQLite and PostgreSQL both run ``WITH RECURSIVE`` as written here.

Nothing here imports models at import time (``blog.models`` imports this module).
"""

from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models.expressions import RawSQL


class ThreadPaginator(Paginator):
    """Pages of top-level threads: ``object_list`` is the roots, in number order."""

    def __init__(self, comments, per_page: int, max_depth: int):
        super().__init__(comments.roots().order_by("number"), per_page)
        self.comments, self.max_depth = comments, max_depth

    def _get_page(self, *args, **kwargs):
        return ThreadPage(*args, **kwargs)


class ThreadPage(Page):
    """One page; ``threads`` (its roots with their replies) is fetched when first used."""

    @cached_property
    def threads(self) -> list:
        root_ids = list(self.object_list.values_list("pk", flat=True))
        if not root_ids:
            return []
        comments = self.paginator.comments.filter(pk__in=_subtrees(root_ids, self.paginator))
        ids = set(root_ids)
        # A reply whose parent is hidden is a root of its own (maybe of a later page): drop it.
        return [root for root in tree(comments, self.paginator.max_depth) if root.pk in ids]

    def numbers(self):
        """Page numbers for a pager: the first, the last and those near this one, with gaps."""
        return self.paginator.get_elided_page_range(self.number, on_each_side=2, on_ends=1)


def tree(comments, max_depth: int) -> list:
    """The top-level comments in number order, each with ``.children`` filled (one query).

    Replies nest ``max_depth`` levels deep; a reply to a comment at the last level is shown
    beside it, at that level, and names the comment it answers (``.reply_to``). A reply whose
    parent is not among ``comments`` is shown at the top level.
    """
    comments = list(comments.order_by("number"))
    by_id = {comment.pk: comment for comment in comments}
    roots = []
    for comment in comments:
        comment.children = []
        comment.reply_to = None
        parent = by_id.get(comment.parent_id)
        if parent is None:
            comment.depth, comment.container = 0, None
            roots.append(comment)
        elif parent.depth < max_depth:
            comment.depth, comment.container = parent.depth + 1, parent
            parent.children.append(comment)
        else:
            comment.depth, comment.container = parent.depth, parent.container
            comment.reply_to = parent
            siblings = parent.container.children if parent.container else roots
            siblings.append(comment)
    return roots


def page_of(comments, comment, per_page: int) -> int:
    """The number of the page of ``comments`` (a post's shown comments) that shows ``comment``."""
    chain = comments.filter(pk__in=_ancestors(comment.pk, comments)).order_by()
    shown = dict(chain.values_list("pk", "parent_id"))
    root = comment.pk
    for _ in range(len(shown)):  # up while the parent is shown, as tree() nests them
        if shown.get(root) not in shown:
            break
        root = shown[root]
    root_number = comments.filter(pk=root).order_by().values("number")
    rank = comments.roots().filter(number__lte=root_number).count()
    return max(1, (rank - 1) // per_page + 1)


def _subtrees(root_ids: list[int], paginator) -> RawSQL:
    """The ids of ``root_ids`` and of every reply below them, whatever its status.

    ``UNION`` (not ``UNION ALL``) keeps the walk finite even if the data held a cycle."""
    table, pk, parent = _names(paginator.comments.model)
    placeholders = ", ".join(["%s"] * len(root_ids))
    return RawSQL(
        f"WITH RECURSIVE subtree(id) AS ("
        f"SELECT {pk} FROM {table} WHERE {pk} IN ({placeholders}) "
        f"UNION SELECT c.{pk} FROM {table} c JOIN subtree s ON c.{parent} = s.id"
        f") SELECT id FROM subtree",
        root_ids,
    )


def _ancestors(comment_id: int, comments) -> RawSQL:
    """The ids of comment ``comment_id`` and of every comment above it, whatever their status."""
    table, pk, parent = _names(comments.model)
    return RawSQL(
        f"WITH RECURSIVE ancestors(id, parent_id) AS ("
        f"SELECT {pk}, {parent} FROM {table} WHERE {pk} = %s "
        f"UNION SELECT c.{pk}, c.{parent} FROM {table} c JOIN ancestors a ON c.{pk} = a.parent_id"
        f") SELECT id FROM ancestors",
        [comment_id],
    )


def _names(model) -> tuple[str, str, str]:
    """The table, primary key and parent columns, quoted."""
    quote, meta = connection.ops.quote_name, model._meta
    return quote(meta.db_table), quote(meta.pk.column), quote(meta.get_field("parent").column)
