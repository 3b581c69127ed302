"""Citations (引用): one record per post or series, and one small function per output format.

``record`` builds the record (CSL-JSON shaped: title, ordered authors with Chinese and Latin
names, issued and updated dates, canonical URL from ``SITE_URL``, container, accessed date) from
objects the view already loaded, so it costs no queries. ``formats`` turns it into kexue-style
text, GB/T 7714-2015, APA 7, biblatex, BibTeX, RIS and CSL-JSON; ``metadata`` into the Highwire
tags, COinS and JSON-LD that reference managers and Google Scholar read. docs/citations.md
explains each choice.
"""

from .formats import (
    EXPORTS,
    FORMATS,
    apa,
    bib_text,
    biblatex,
    bibtex,
    csl_item,
    csl_json,
    download_name,
    export,
    gbt7714,
    kexue,
    rendered_formats,
    ris,
)
from .metadata import coins, highwire, json_ld
from .record import Citation, Person, for_post, for_series

__all__ = [
    "EXPORTS",
    "FORMATS",
    "Citation",
    "Person",
    "apa",
    "bib_text",
    "biblatex",
    "bibtex",
    "coins",
    "csl_item",
    "csl_json",
    "download_name",
    "export",
    "for_post",
    "for_series",
    "gbt7714",
    "highwire",
    "json_ld",
    "kexue",
    "rendered_formats",
    "ris",
]
