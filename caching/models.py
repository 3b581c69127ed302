from django.db import models


class Generation(models.Model):
    """The content generation: one row, written in the same transaction as every change to public
    content (caching.generation)."""

    value = models.BigIntegerField(help_text="Nanoseconds since the epoch at the last change.")
    due = models.BigIntegerField(
        default=0, help_text="When the next change without a save is due (ns; 0: none)."
    )

    def __str__(self):
        return str(self.value)
