"""Browsing by date: the month-range filter on lists and the neighbours of a month page.

The filter reads ``?from=YYYY-MM&to=YYYY-MM`` (either bound may be left out; both months are
included), as sent by the two ``<input type="month">`` fields of ``includes/date_filter
.html``. Months are calendar months in the site's time zone. A malformed or reversed range is not
an error page: the list is shown unfiltered with a message saying what was wrong.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Post

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class MonthRange:
    raw_from: str = ""
    raw_to: str = ""
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive: the first moment after the "to" month
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params) -> "MonthRange":
        raw_from, raw_to = params.get("from", "")[:20], params.get("to", "")[:20]
        errors = []
        start = _month_start(raw_from, errors)
        to_month = _month_start(raw_to, errors)
        end = _next_month(to_month) if to_month else None
        if start and end and start >= end:
            errors.append(_("The start month is after the end month."))
        if errors:
            return cls(raw_from, raw_to, errors=errors)
        return cls(raw_from, raw_to, start, end)

    def __bool__(self):
        return bool(self.start or self.end)

    def apply(self, posts):
        if self.start:
            posts = posts.filter(published_at__gte=self.start)
        if self.end:
            posts = posts.filter(published_at__lt=self.end)
        return posts


def _month_start(raw: str, errors: list[str]) -> datetime | None:
    if not raw.strip():
        return None
    match = _MONTH.match(raw)
    if not match or not 1 <= int(match[2]) <= 12 or not 1000 <= int(match[1]) <= 9998:
        errors.append(_("“%(value)s” is not a month: write it as YYYY-MM.") % {"value": raw})
        return None
    return timezone.make_aware(datetime(int(match[1]), int(match[2]), 1))


def _next_month(moment: datetime) -> datetime:
    if moment.month == 12:
        return moment.replace(year=moment.year + 1, month=1)
    return moment.replace(month=moment.month + 1)


def month_neighbours(
    year: int, month: int
) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """(year, month) of the nearest earlier and later months that have public posts."""
    start = timezone.make_aware(datetime(year, month, 1))
    end = _next_month(start)
    public = Post.objects.published()
    dates = public.values_list("published_at", flat=True)
    earlier = dates.filter(published_at__lt=start).order_by("-published_at").first()
    later = dates.filter(published_at__gte=end).order_by("published_at").first()
    return _month_of(earlier), _month_of(later)


def _month_of(moment):
    if moment is None:
        return None
    local = timezone.localtime(moment)
    return local.year, local.month
