"""One small formatter per output format, all taking a ``Citation`` and returning plain text."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from .record import MONTHS, Citation, Person, has_cjk

BIBTEX_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# Plain-text styles -------------------------------------------------------------------------


def _kexue_date(day: date) -> str:
    return f"{MONTHS[day.month - 1][:3]}. {day:%d}, {day.year}"


def kexue(c: Citation) -> str:
    """科学空间's own style: 苏剑林. (May. 13, 2024). 《题名》[Blog post]. Retrieved from URL;
    a revised post reads (May. 13, 2024, updated Jun. 01, 2024)."""
    when = _kexue_date(c.issued)
    if c.is_range:
        when += f" – {_kexue_date(c.issued_end)}"
    if c.revised:
        when += f", updated {_kexue_date(c.revised)}"
    kind = "Blog post" if c.kind == "post" else "Blog series"
    names = ", ".join(p.name for p in c.authors)
    by = f"{names}. " if names else ""
    return f"{by}({when}). 《{c.title}》[{kind}]. Retrieved from {c.url}"


def _gbt_name(person: Person) -> str:
    """GB/T 7714 writes Chinese names whole and Latin ones as "SU J"."""
    structured = person.structured
    if structured is None:
        return person.name
    initials = person.initials(dots=False)
    return f"{structured[0].upper()} {initials}".strip()


def gbt7714(c: Citation) -> str:
    """GB/T 7714-2015 electronic resource: 作者. 题名[EB/OL]. (发布或更新日期)[引用日期]. URL.
    The parenthesised date is the revision date of a revised work."""
    names = [_gbt_name(p) for p in c.authors]
    if len(names) > 3:
        names = [*names[:3], "等" if c.language.startswith("zh") else "et al"]
    by = f"{', '.join(names)}. " if names else ""
    when = (c.revised or c.latest).isoformat()
    return f"{by}{c.title}[EB/OL]. ({when})[{c.accessed.isoformat()}]. {c.url}."


def _apa_name(person: Person) -> str:
    family, _given = person.family_given
    if not family:
        return person.name
    initials = person.initials()
    return f"{family}, {initials}" if initials else family


def _apa_names(people: tuple[Person, ...]) -> str:
    names = [_apa_name(p) for p in people]
    if len(names) > 20:
        return ", ".join(names[:19]) + ", . . . " + names[-1]
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]}, & {names[1]}"
    return ", ".join(names[:-1]) + ", & " + names[-1]


def _sentence(text: str) -> str:
    """Text closed by a full stop unless it already ends with one (or ? ! 。 ？ ！)."""
    return text if text.endswith((".", "?", "!", "。", "？", "！")) else text + "."


def apa(c: Citation) -> str:
    """APA 7 blog post: Su, J. (2024, May 13). Title. Scientific Spaces. URL"""
    if c.is_range:
        when = f"{c.issued.year}–{c.issued_end.year}"
        if c.issued.year == c.issued_end.year:
            when = str(c.issued.year)
    else:
        when = f"{c.issued.year}, {MONTHS[c.issued.month - 1]} {c.issued.day}"
    title = _sentence(c.title if c.kind == "post" else f"{c.title} [Blog series]")
    source = f"{_sentence(c.container_latin)} {c.url}"
    if not c.authors:  # APA: a work without an author is cited by its title
        return f"{title} ({when}). {source}"
    return f"{_sentence(_apa_names(c.authors))} ({when}). {title} {source}"


# BibTeX and biblatex -----------------------------------------------------------------------

# Unbalanced braces break BibTeX's and biber's parsers even when escaped as \{, so braces (and
# the other characters with no plain escape) become text commands.
_BIB_SPECIALS = {
    "\\": r"{\textbackslash}",
    "{": r"{\textbraceleft}",
    "}": r"{\textbraceright}",
    "~": r"{\textasciitilde}",
    "^": r"{\textasciicircum}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
}
_BIB_TOKEN = re.compile(r"[A-Za-z0-9]+|.", re.DOTALL)


def bib_text(text: str, *, protect_case: bool = True) -> str:
    """A BibTeX field value for ``text``: specials escaped, words with capitals kept as typed.

    Styles that change case (APA, many journal styles) would print "Transformer" as
    "transformer" and "MLA" as "mla"; braces around such words stop that.
    """
    out = []
    for token in _BIB_TOKEN.findall(text):
        if token in _BIB_SPECIALS:
            out.append(_BIB_SPECIALS[token])
        elif protect_case and token.isascii() and any(ch.isupper() for ch in token):
            out.append(f"{{{token}}}")
        else:
            out.append(token)
    return "".join(out)


def _bib_name(person: Person) -> str:
    """One name of an author list: "Family, Given" for a Latin byline, else the name as one unit."""
    structured = person.structured
    if structured:
        family, given = (bib_text(part, protect_case=False) for part in structured)
        if " " in family:
            family = f"{{{family}}}"
        if re.search(r"\band\b", given, re.IGNORECASE):
            given = f"{{{given}}}"
        return f"{family}, {given}" if given else family
    name = bib_text(person.name, protect_case=False)
    # A name with a comma, an "and" or spaces must not be split by BibTeX's name parser.
    if has_cjk(person.name) and not re.search(r"[\s,]", person.name):
        return name
    return f"{{{name}}}"


def _bib_authors(c: Citation) -> list[tuple[str, str]]:
    """The ``author`` field, left out for a work without an author."""
    if not c.authors:
        return []
    return [("author", "{" + " and ".join(_bib_name(p) for p in c.authors) + "}")]


def _bib_url(url: str, *, in_argument: bool = False) -> str:
    """A URL for a .bib file: braces and backslashes percent-encoded so the entry stays
    parseable; inside \\url{} in another field (``howpublished``) % and # are escaped too."""
    url = url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")
    return url.replace("%", r"\%").replace("#", r"\#") if in_argument else url


def _bib_entry(entry_type: str, key: str, fields: list[tuple[str, str]]) -> str:
    body = "".join(f"  {name} = {value},\n" for name, value in fields)
    return f"@{entry_type}{{{key},\n{body}}}\n"


def biblatex(c: Citation) -> str:
    """biblatex ``@online`` with an ISO ``date``, a plain ``url`` and ``urldate`` (biber-clean);
    a revised work's revision date is its ``version``."""
    when = c.issued.isoformat()
    if c.is_range:
        when += "/" + c.issued_end.isoformat()
    version = [("version", f"{{{c.revised.isoformat()}}}")] if c.revised else []
    return _bib_entry(
        "online",
        c.key,
        [
            *_bib_authors(c),
            ("title", f"{{{bib_text(c.title)}}}"),
            ("date", f"{{{when}}}"),
            *version,
            ("organization", f"{{{bib_text(c.container, protect_case=False)}}}"),
            ("url", f"{{{_bib_url(c.url)}}}"),
            ("urldate", f"{{{c.accessed.isoformat()}}}"),
        ],
    )


def bibtex(c: Citation) -> str:
    """Portable BibTeX ``@misc`` for classic .bst styles: the URL in ``howpublished``."""
    fields = [*_bib_authors(c), ("title", f"{{{bib_text(c.title)}}}")]
    if c.is_range:
        fields.append(("year", f"{{{c.issued.year}--{c.issued_end.year}}}"))
    else:
        fields += [("year", f"{{{c.issued.year}}}"), ("month", BIBTEX_MONTHS[c.issued.month - 1])]
    note = f"{c.container}, {c.issued.isoformat()}"
    if c.is_range:
        note += f" to {c.issued_end.isoformat()}"
    if c.revised:
        note += f", updated {c.revised.isoformat()}"
    fields += [
        ("howpublished", f"{{\\url{{{_bib_url(c.url, in_argument=True)}}}}}"),
        ("note", f"{{{bib_text(note, protect_case=False)}. Accessed {c.accessed.isoformat()}}}"),
    ]
    return _bib_entry("misc", c.key, fields)


# Data formats ------------------------------------------------------------------------------


def ris_name(person: Person) -> str:
    structured = person.structured
    return f"{structured[0]}, {structured[1]}".rstrip(", ") if structured else person.name


def ris(c: Citation) -> str:
    """RIS as Zotero, EndNote and Mendeley import it (``TY  - BLOG``; a series is ``ELEC``)."""
    lines = [("TY", "BLOG" if c.kind == "post" else "ELEC"), ("ID", c.key)]
    lines += [("AU", ris_name(p)) for p in c.authors]
    lines += [
        ("TI", c.title),
        ("T2", c.container),
        ("PY", str(c.issued.year)),
        ("DA", c.issued.strftime("%Y/%m/%d")),
        ("UR", c.url),
        ("Y2", c.accessed.strftime("%Y/%m/%d")),
        ("LA", c.language),
        ("ER", ""),
    ]
    return "".join(f"{tag}  - {value}\n" for tag, value in lines)


def _date_parts(day: date) -> list[int]:
    return [day.year, day.month, day.day]


def _csl_name(person: Person) -> dict:
    structured = person.structured
    if structured:
        return {"family": structured[0], "given": structured[1]}
    return {"literal": person.name}


def csl_item(c: Citation) -> dict:
    issued = [_date_parts(c.issued)]
    if c.is_range:
        issued.append(_date_parts(c.issued_end))
    return {
        "id": c.key,
        "type": "post-weblog" if c.kind == "post" else "webpage",
        "title": c.title,
        "author": [_csl_name(p) for p in c.authors],
        "container-title": c.container,
        "issued": {"date-parts": issued},
        "accessed": {"date-parts": [_date_parts(c.accessed)]},
        **({"version": c.revised.isoformat()} if c.revised else {}),
        "URL": c.url,
        "language": c.language,
        **({"license": c.license.url} if c.license else {}),
    }


# A JSON string cannot hold a raw newline, so these only match pretty-printed number lists.
_NUMBER_LIST = re.compile(r"\[\n\s*(\d+(?:,\n\s*\d+)*)\n\s*\]")
_LIST_OF_LISTS = re.compile(r"\[\n\s*(\[[\d, ]*\](?:,\n\s*\[[\d, ]*\])*)\n\s*\]")


def csl_json(c: Citation) -> str:
    """A CSL-JSON file: a list holding one ``post-weblog`` item, dates on one line each."""
    text = json.dumps([csl_item(c)], ensure_ascii=False, indent=2)
    text = _NUMBER_LIST.sub(lambda m: "[" + re.sub(r",\n\s*", ", ", m[1]) + "]", text)
    text = _LIST_OF_LISTS.sub(lambda m: "[" + re.sub(r",\n\s*\[", ", [", m[1]) + "]", text)
    return text + "\n"


# What pages offer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    slug: str
    label: str
    render: Callable[[Citation], str]
    ext: str = ""  # downloadable as cite.<ext>
    query: str = ""  # ... with this query string


FORMATS = (
    Format("kexue", _("Plain text (kexue.fm style)"), kexue),
    Format("gbt7714", "GB/T 7714-2015", gbt7714),
    Format("apa", "APA 7", apa),
    Format("biblatex", "BibLaTeX", biblatex, "bib"),
    Format("bibtex", "BibTeX", bibtex, "bib", "?style=bibtex"),
    Format("ris", "RIS", ris, "ris"),
    Format("csl-json", "CSL-JSON", csl_json, "json"),
)

# Downloads: extension -> (content type, {style: formatter}); the first style is the default.
EXPORTS = {
    "bib": ("application/x-bibtex", {"biblatex": biblatex, "bibtex": bibtex}),
    "ris": ("application/x-research-info-systems", {"ris": ris}),
    "json": ("application/vnd.citationstyles.csl+json", {"csl-json": csl_json}),
}


def download_name(c: Citation, ext: str, style: str = "") -> str:
    """The file name of a download: the style is part of it where an extension has several
    (kexuefm-1-biblatex.bib, kexuefm-1-bibtex.bib), and so are Latin names (…-latin.bib)."""
    styles = EXPORTS[ext][1]
    name = f"{c.key}-{style or next(iter(styles))}" if len(styles) > 1 else c.key
    return f"{name}{'-latin' if c.latin_names else ''}.{ext}"


def rendered_formats(c: Citation) -> list[dict]:
    """Every format's text and download, for the citation panel; ``latin`` holds the same with
    the authors' Latin names when some author has one (the panel lets the reader choose)."""
    urls = dict(c.exports)
    latin = c.in_latin() if c.has_latin_variant else None

    def variant(record: Citation, f: Format) -> dict:
        query = f.query
        if record.latin_names:
            query += ("&" if query else "?") + "names=latin"
        return {
            "text": f.render(record),
            "download": urls[f.ext] + query if f.ext in urls else "",
            "filename": download_name(record, f.ext, f.query.partition("=")[2]) if f.ext else "",
        }

    return [
        {
            "slug": f.slug,
            "label": f.label,
            "ext": f.ext,
            **variant(c, f),
            "latin": variant(latin, f) if latin else None,
        }
        for f in FORMATS
    ]


def export(c: Citation, ext: str, style: str | None = None) -> tuple[str, str] | None:
    """(text, content type) of a download, or None for a style that does not exist."""
    content_type, styles = EXPORTS[ext]
    render = styles.get(style) if style else next(iter(styles.values()))
    return (render(c), f"{content_type}; charset=utf-8") if render else None
