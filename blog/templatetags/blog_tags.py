from django import template
from django.utils import timezone

from blog import models

register = template.Library()

# kexue.fm's date badge reads "13 May" on the Chinese site too, so it is not localised.
MONTH_ABBR = (
    "",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


@register.inclusion_tag("includes/date_badge.html")
def date_badge(moment, year=False):
    """Day and month; with ``year`` also the year (lists whose posts span years, e.g. a series)."""
    local = timezone.localtime(moment)
    return {
        "day": local.day,
        "month": MONTH_ABBR[local.month],
        "year": local.year if year else None,
        "moment": moment,
    }


@register.simple_tag(takes_context=True)
def page_url(context, number):
    """The URL of page ``number`` of the current list, keeping other query parameters."""
    request = context["request"]
    query = request.GET.copy()
    query["page"] = number
    return f"{request.path}?{query.urlencode()}"


@register.simple_tag
def comment_page_url(post, number):
    """The URL of page ``number`` of ``post``'s comments (page 1 is the post's own URL)."""
    return models.comment_page_url(post.pk, number)


@register.filter
def last_part_number(parts):
    """A series' length as its readers count it: the highest part number published so far."""
    return max((part.series_part for part in parts), default=0)
