"""The citation record of a post or a series, built from objects the view already loaded."""

import re
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from blog.models import License

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass(frozen=True)
class Person:
    """An author as the byline prints it (苏剑林) and as English citations write it."""

    name: str
    latin: str = ""  # "Su, Jianlin"

    @property
    def family_given(self) -> tuple[str, str]:
        """("Su", "Jianlin") from "Su, Jianlin" (or "Jianlin Su"); ("", "") without a Latin name."""
        latin = self.latin.strip()
        if "," in latin:
            family, given = latin.split(",", 1)
            return family.strip(), given.strip()
        if " " in latin:
            given, family = latin.rsplit(" ", 1)
            return family.strip(), given.strip()
        return latin, ""

    @property
    def structured(self) -> tuple[str, str] | None:
        """(family, given) where data formats should split the name: a Latin-script byline.

        A Chinese byline stays whole (splitting 欧阳修 needs knowledge we do not have), which
        reference managers keep as a single-field name.
        """
        family, given = self.family_given
        if family and not has_cjk(self.name):
            return family, given
        return None

    def in_latin(self) -> "Person":
        """The person cited by the Latin name ("Su, Jianlin" as the name), if there is one."""
        return replace(self, name=self.latin) if self.latin.strip() else self

    def initials(self, *, dots: bool = True) -> str:
        """ "Jianlin" -> "J.", "Jian-Lin" -> "J.-L.", "Mary Ann" -> "M. A." (no dots: "J", "JL")."""
        given = self.family_given[1]
        words = [w for w in given.split() if w]
        if dots:
            return " ".join("-".join(f"{p[0]}." for p in w.split("-") if p) for w in words)
        return "".join(p[0] for w in words for p in w.split("-") if p)


@dataclass(frozen=True)
class Citation:
    key: str  # "kexuefm-10091": BibTeX key, RIS ID, CSL id, file name
    kind: str  # "post" or "series"
    title: str
    authors: tuple[Person, ...]
    issued_at: datetime
    updated_at: datetime  # the latest revision note's date (Post.revised_at), not plain edits
    url: str
    accessed: date
    container: str
    container_latin: str
    language: str
    issued_end_at: datetime | None = None  # a series: its latest part
    abstract: str = ""
    exports: tuple[tuple[str, str], ...] = ()  # (extension, download URL path)
    latin_names: bool = False  # authors cited by their Latin names (``in_latin()``)
    license: License | None = None

    @property
    def issued(self) -> date:
        return timezone.localdate(self.issued_at)

    @property
    def issued_end(self) -> date | None:
        return timezone.localdate(self.issued_end_at) if self.issued_end_at else None

    @property
    def updated(self) -> date:
        return timezone.localdate(self.updated_at)

    @property
    def latest(self) -> date:
        return self.issued_end or self.issued

    @property
    def revised(self) -> date | None:
        """The version date: the day of the latest revision note, when later than the (last)
        publication day; None for a work never revised (or revised on the day it appeared)."""
        return self.updated if self.updated > self.latest else None

    @property
    def is_range(self) -> bool:
        return self.issued_end is not None and self.issued_end != self.issued

    @property
    def has_latin_variant(self) -> bool:
        """Whether some author has a Latin name besides the one the byline prints."""
        return any(p.in_latin().name != p.name for p in self.authors)

    def in_latin(self) -> "Citation":
        """The same record with every author cited by the Latin name (e.g. for pdfLaTeX)."""
        return replace(self, authors=tuple(p.in_latin() for p in self.authors), latin_names=True)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _person(user) -> Person:
    return Person(name=_clean(user.public_name), latin=_clean(user.latin_name))


def _language(title: str) -> str:
    return "zh-CN" if has_cjk(title) else "en"


# Download extensions, each served at cite.<ext> (see ``formats.EXPORTS``).
EXTENSIONS = ("bib", "ris", "json")


def _exports(name: str, arg) -> tuple[tuple[str, str], ...]:
    return tuple((ext, reverse(f"blog:{name}_cite_{ext}", args=[arg])) for ext in EXTENSIONS)


def for_post(post) -> Citation:
    """The record of one post; authors come from the prefetch made by ``for_cards()``."""
    return Citation(
        key=f"kexuefm-{post.pk}",
        kind="post",
        title=_clean(post.title),
        authors=tuple(_person(author) for author in post.ordered_authors()),
        issued_at=post.published_at,
        updated_at=post.revised_at.replace(microsecond=0),
        url=settings.SITE_URL + post.get_absolute_url(),
        accessed=timezone.localdate(),
        container=settings.SITE_NAME,
        container_latin=settings.SITE_TITLE_EN,
        language=_language(post.title),
        abstract=post.excerpt,
        exports=_exports("post", post.pk),
        license=post.license,
    )


def for_series(series, parts) -> Citation | None:
    """The record of a whole series from its public parts (loaded with ``for_cards()``)."""
    if not parts:
        return None
    authors: dict[Person, None] = {}
    for part in parts:
        authors.update(dict.fromkeys(_person(author) for author in part.ordered_authors()))
    published = sorted(part.published_at for part in parts)
    return Citation(
        key=f"kexuefm-series-{series.pk}",
        kind="series",
        title=_clean(series.title),
        authors=tuple(authors),
        issued_at=published[0],
        issued_end_at=published[-1],
        updated_at=max(*(part.revised_at for part in parts), published[-1]).replace(microsecond=0),
        url=settings.SITE_URL + series.get_absolute_url(),
        accessed=timezone.localdate(),
        container=settings.SITE_NAME,
        container_latin=settings.SITE_TITLE_EN,
        language=_language(series.title),
        abstract=_clean(series.description),
        exports=_exports("series", series.slug),
    )
