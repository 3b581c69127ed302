"""Reads and tallies, apart from the content they count: how many reads each post had per day,
and the batches of buffered reads moved into the database (blog/readers/ writes both). Models of
the blog app, imported by blog/models.py; they refer to posts by name, so this module imports no
content model."""

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReadDayQuerySet(models.QuerySet):
    def add(self, post_id: int, day, reads: int = 1) -> None:
        """Add ``reads`` to the post's tally for ``day``: an upsert done with database arithmetic.

        The common case is one UPDATE. The first read of a day inserts the row; when two requests
        race to insert it, the loser's INSERT fails on the unique constraint (inside a savepoint)
        and it falls back to the UPDATE, so no read is lost and no row is doubled.
        """
        rows = self.filter(post_id=post_id, day=day)
        if rows.update(count=F("count") + reads):
            return
        try:
            with transaction.atomic():
                self.create(post_id=post_id, day=day, count=reads)
        except IntegrityError:
            rows.update(count=F("count") + reads)

    def since(self, day):
        return self.filter(day__gte=day)


class ReadDay(models.Model):
    """How many reads a post had on one day (site time zone): the trend and the 30-day ranking."""

    post = models.ForeignKey(
        "blog.Post", on_delete=models.CASCADE, related_name="read_days", verbose_name=_("post")
    )
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("reads"), default=0)

    objects = ReadDayQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "post"]
        verbose_name = _("daily reads")
        verbose_name_plural = _("daily reads")
        indexes = [models.Index(fields=["day"], name="readday_day")]
        constraints = [models.UniqueConstraint(fields=["post", "day"], name="unique_read_day")]

    def __str__(self):
        return f"{self.post_id} · {self.day}: {self.count}"


class ReadBatch(models.Model):
    """A batch of buffered reads moved from Redis into the database.

    Written in the same transaction as the increments it carries, so a flush that is retried after
    dying between its database commit and its Redis cleanup applies nothing twice.
    """

    batch = models.CharField(_("batch"), max_length=32, unique=True)
    reads = models.PositiveIntegerField(_("reads"), default=0)
    flushed_at = models.DateTimeField(_("flushed"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-flushed_at"]
        verbose_name = _("flushed read batch")
        verbose_name_plural = _("flushed read batches")

    def __str__(self):
        return f"{self.batch}: {self.reads}"
