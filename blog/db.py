"""Database chores shared by the commands that import and restore rows."""

from django.core.management.color import no_style
from django.db import connection
from django.utils.text import slugify


def reset_sequences(*models) -> None:
    """Move each model's id sequence past the highest id (PostgreSQL; a no-op elsewhere).

    Rows loaded with explicit ids (kexue.fm permalinks, imports, restores) skip the sequence, so
    without this the next new row would collide with them.
    """
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def free_slug(model, text: str) -> str:
    """A slug for ``text`` that no row of ``model`` has yet ("name", "name-2", …)."""
    base = slugify(text, allow_unicode=True)[:90] or model._meta.model_name
    slug, n = base, 1
    while model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug
