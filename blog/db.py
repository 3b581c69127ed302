"""Database chores shared by the commands that write rows with explicit ids."""

from django.core.management.color import no_style
from django.db import connection


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
