"""Citations: every format for a post and a series, downloads, head metadata, and escaping.

BibTeX output is parsed back with bibtexparser (v2) and pybtex in strict mode and decoded from
LaTeX with pylatexenc; RIS with rispy; CSL-JSON, COinS and JSON-LD with the standard library.
"""

import json
import re
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import bibtexparser
import pybtex.errors
import pytest
import rispy
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pybtex.database import parse_string as pybtex_parse
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from blog import citations
from blog.models import Post
from tests.factories import PostFactory, SeriesFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE = "缓存与效果的极限拉扯：从MHA、MQA、GQA到MLA"
URL = "https://kexue.test/archives/10091/"


@pytest.fixture
def today(time_machine):
    """The accessed date of every citation in a test: 2 January 2025 in the site's time zone."""
    time_machine.move_to(datetime(2025, 1, 2, 9, 30, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def post(today):
    return PostFactory(
        id=10091,
        title=TITLE,
        published_at=datetime(2024, 5, 13, 10, 0, tzinfo=SHANGHAI),
    )


def citation_of(post_id: int) -> citations.Citation:
    """The record as a view builds it: from a post loaded with ``for_cards()``."""
    return citations.for_post(Post.objects.for_cards().prefetch_related("tags").get(pk=post_id))


# --- the kexue.fm example, in every format -------------------------------------------------


def test_kexue_style_matches_the_original_site(post):
    assert citations.kexue(citation_of(post.pk)) == (
        f"苏剑林. (May. 13, 2024). 《{TITLE}》[Blog post]. Retrieved from {URL}"
    )


def test_gbt7714_is_an_electronic_resource_with_publication_and_access_dates(post):
    assert citations.gbt7714(citation_of(post.pk)) == (
        f"苏剑林. {TITLE}[EB/OL]. (2024-05-13)[2025-01-02]. {URL}."
    )


def test_apa7_uses_the_latin_name_and_english_site_name(post):
    assert citations.apa(citation_of(post.pk)) == (
        f"Su, J. (2024, May 13). {TITLE}. Scientific Spaces. {URL}"
    )


def test_biblatex_online_has_iso_date_plain_url_and_urldate(post):
    assert citations.biblatex(citation_of(post.pk)) == (
        "@online{kexuefm-10091,\n"
        "  author = {苏剑林},\n"
        "  title = {缓存与效果的极限拉扯：从{MHA}、{MQA}、{GQA}到{MLA}},\n"
        "  date = {2024-05-13},\n"
        "  organization = {科学空间|Scientific Spaces},\n"
        f"  url = {{{URL}}},\n"
        "  urldate = {2025-01-02},\n"
        "}\n"
    )


def test_portable_bibtex_misc_puts_the_url_in_howpublished(post):
    assert citations.bibtex(citation_of(post.pk)) == (
        "@misc{kexuefm-10091,\n"
        "  author = {苏剑林},\n"
        "  title = {缓存与效果的极限拉扯：从{MHA}、{MQA}、{GQA}到{MLA}},\n"
        "  year = {2024},\n"
        "  month = may,\n"
        f"  howpublished = {{\\url{{{URL}}}}},\n"
        "  note = {科学空间|Scientific Spaces, 2024-05-13. Accessed 2025-01-02},\n"
        "}\n"
    )


def test_ris_is_a_blog_post(post):
    assert citations.ris(citation_of(post.pk)) == (
        "TY  - BLOG\n"
        "ID  - kexuefm-10091\n"
        "AU  - 苏剑林\n"
        f"TI  - {TITLE}\n"
        "T2  - 科学空间|Scientific Spaces\n"
        "PY  - 2024\n"
        "DA  - 2024/05/13\n"
        f"UR  - {URL}\n"
        "Y2  - 2025/01/02\n"
        "LA  - zh-CN\n"
        "ER  - \n"
    )


def test_csl_json_is_a_post_weblog_item(post):
    assert json.loads(citations.csl_json(citation_of(post.pk))) == [
        {
            "id": "kexuefm-10091",
            "type": "post-weblog",
            "title": TITLE,
            "author": [{"literal": "苏剑林"}],
            "container-title": "科学空间|Scientific Spaces",
            "issued": {"date-parts": [[2024, 5, 13]]},
            "accessed": {"date-parts": [[2025, 1, 2]]},
            "URL": URL,
            "language": "zh-CN",
            "license": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
        }
    ]


def test_dates_are_those_of_the_site_time_zone(today):
    # 20:00 UTC on 12 May is 04:00 on 13 May in Shanghai: readers there see the 13th.
    post = PostFactory(published_at=datetime(2024, 5, 12, 20, 0, tzinfo=ZoneInfo("UTC")))
    assert "(2024-05-13)" in citations.gbt7714(citation_of(post.pk))


def test_accessed_date_is_today(post, time_machine):
    time_machine.move_to(datetime(2026, 3, 4, 23, 59, tzinfo=SHANGHAI), tick=False)
    citation = citation_of(post.pk)
    assert "urldate = {2026-03-04}" in citations.biblatex(citation)
    assert "[2026-03-04]" in citations.gbt7714(citation)
    assert "Y2  - 2026/03/04" in citations.ris(citation)


def test_url_comes_from_site_url_not_the_request_host(client, post, settings):
    settings.SITE_URL = "https://kexue.fm"
    response = client.get(post.get_absolute_url() + "cite.ris", HTTP_HOST="evil.example")
    assert "UR  - https://kexue.fm/archives/10091/" in response.content.decode()
    assert "evil.example" not in response.content.decode()


# --- several authors, Latin bylines ----------------------------------------------------------


def _authors(*specs):
    return [
        UserFactory(username=f"author{i}", display_name=name, latin_name=latin)
        for i, (name, latin) in enumerate(specs)
    ]


def test_several_authors_keep_byline_order_in_every_format(today):
    authors = _authors(("苏剑林", "Su, Jianlin"), ("张三", "Zhang, San"), ("李四", "Li, Si"))
    post = PostFactory(title="多作者", authors=authors)
    c = citation_of(post.pk)
    assert citations.kexue(c).startswith("苏剑林, 张三, 李四. (")
    assert citations.apa(c).startswith("Su, J., Zhang, S., & Li, S. (")
    assert "author = {苏剑林 and 张三 and 李四}" in citations.biblatex(c)
    assert re.findall(r"^AU  - (.*)$", citations.ris(c), re.M) == ["苏剑林", "张三", "李四"]
    assert citations.gbt7714(c).startswith("苏剑林, 张三, 李四. 多作者[EB/OL]")


def test_gbt7714_lists_three_authors_then_deng(today):
    names = [("甲", ""), ("乙", ""), ("丙", ""), ("丁", "")]
    post = PostFactory(title="四人合写", authors=_authors(*names))
    assert citations.gbt7714(citation_of(post.pk)).startswith("甲, 乙, 丙, 等. 四人合写[EB/OL]")


def test_apa_two_authors_use_an_ampersand(today):
    post = PostFactory(authors=_authors(("苏剑林", "Su, Jianlin"), ("张三", "Zhang, San")))
    assert citations.apa(citation_of(post.pk)).startswith("Su, J., & Zhang, S. (")


def test_a_latin_byline_is_split_into_family_and_given_names(today):
    post = PostFactory(
        title="Notes on Attention",
        authors=_authors(("Mary-Ann de la Cruz", "de la Cruz, Mary-Ann")),
    )
    c = citation_of(post.pk)
    assert citations.csl_item(c)["author"] == [{"family": "de la Cruz", "given": "Mary-Ann"}]
    assert "author = {{de la Cruz}, Mary-Ann}" in citations.biblatex(c)
    assert "AU  - de la Cruz, Mary-Ann" in citations.ris(c)
    assert citations.gbt7714(c).startswith("DE LA CRUZ MA. Notes on Attention[EB/OL]")
    assert citations.apa(c).startswith("de la Cruz, M.-A. (")
    assert citations.csl_item(c)["language"] == "en"


def test_an_author_without_latin_name_is_cited_by_display_name(today):
    post = PostFactory(authors=_authors(("王五", "")))
    assert citations.apa(citation_of(post.pk)).startswith("王五. (")


def test_a_post_without_authors_is_cited_by_its_title_in_every_format(client, post):
    """The admin refuses to remove a post's last author, but the ORM can (``authors.clear()``):
    the post and its citations still render, as a work without an author."""
    post.authors.clear()
    c = citation_of(post.pk)
    assert citations.kexue(c) == f"(May. 13, 2024). 《{TITLE}》[Blog post]. Retrieved from {URL}"
    assert citations.gbt7714(c) == f"{TITLE}[EB/OL]. (2024-05-13)[2025-01-02]. {URL}."
    assert citations.apa(c) == f"{TITLE}. (2024, May 13). Scientific Spaces. {URL}"
    for formatter in (citations.biblatex, citations.bibtex):
        [entry] = bibtexparser.parse_string(formatter(c)).entries
        assert "author" not in entry.fields_dict and entry.key == c.key
    assert "AU  -" not in citations.ris(c)
    assert json.loads(citations.csl_json(c))[0]["author"] == []
    for url in (post.get_absolute_url(), *(path for _ext, path in c.exports)):
        assert client.get(url).status_code == 200


# --- escaping: parse every output back ------------------------------------------------------

NASTY_TITLES = [
    r"100% {unbalanced & more_under #1 $5 ~tilde ^caret \backslash",
    "}{ reversed braces }, note = {injected",
    "中文标题：全角标点，“引号”、（括号）！？——《书名号》【方括号】",
    "Attention Is All You Need? {RoPE} & ALiBi",
    r"\end{document} %comment @misc{evil, title={x}}",
    "Transformer升级之路：2、博采众长的旋转式位置编码",
    "line\nbreak\tand  spaces",
]
NASTY_AUTHORS = [
    ("苏剑林", "Su, Jianlin"),
    ("张三, 李四 and 王五", ""),
    ("Tom & Jerry_{x}", "Tom & Jerry_{x}, Ann ~^ Bee"),
    ("Smith and Wesson", "Smith and Wesson, Tom"),
    (r"O'Brien \ Seán", ""),
]


def _latex_to_text():
    db = get_default_latex_context_db()
    db.add_context_category(
        "text-symbols",
        prepend=True,
        macros=[
            MacroTextSpec("textbraceleft", "{"),
            MacroTextSpec("textbraceright", "}"),
            MacroTextSpec("textasciicircum", "^"),
            MacroTextSpec("textasciitilde", "~"),
            MacroTextSpec("textbackslash", "\\"),
        ],
    )
    converter = LatexNodes2Text(latex_context=db, math_mode="verbatim", strict_latex_spaces=True)
    return converter.latex_to_text


decode = _latex_to_text()


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture
def nasty_post(today, request):
    title = request.param
    return PostFactory(
        title=title,
        authors=_authors(*NASTY_AUTHORS),
        published_at=datetime(2024, 5, 13, 10, 0, tzinfo=SHANGHAI),
    )


@pytest.fixture
def strict_pybtex():
    pybtex.errors.set_strict_mode(True)
    yield
    pybtex.errors.set_strict_mode(False)


def _expected_names(c: citations.Citation) -> list[str]:
    return [f"{p.structured[0]}, {p.structured[1]}" if p.structured else p.name for p in c.authors]


@pytest.mark.parametrize("nasty_post", NASTY_TITLES, indirect=True)
@pytest.mark.parametrize("formatter", [citations.biblatex, citations.bibtex])
def test_bibtex_output_parses_back_with_bibtexparser(nasty_post, formatter):
    c = citation_of(nasty_post.pk)
    library = bibtexparser.parse_string(formatter(c))
    assert library.failed_blocks == []
    assert len(library.entries) == 1
    entry = library.entries[0]
    assert entry.key == c.key
    assert decode(entry["title"]) == _normalised(nasty_post.title)
    assert set(entry.fields_dict) >= {"author", "title"}
    # The author list splits into exactly the authors, whatever their names hold.
    assert len(re.split(r"\s+and\s+(?![^{]*\})", entry["author"])) == len(NASTY_AUTHORS)


@pytest.mark.parametrize("nasty_post", NASTY_TITLES, indirect=True)
@pytest.mark.parametrize("formatter", [citations.biblatex, citations.bibtex])
def test_bibtex_output_parses_back_with_strict_pybtex(nasty_post, formatter, strict_pybtex):
    c = citation_of(nasty_post.pk)
    data = pybtex_parse(formatter(c), "bibtex")
    entry = data.entries[c.key]
    assert decode(entry.fields["title"]) == _normalised(nasty_post.title)
    people = entry.persons["author"]
    names = []
    for person in people:
        family = decode(" ".join(person.prelast_names + person.last_names))
        given = decode(" ".join(person.first_names + person.middle_names))
        names.append(f"{family}, {given}" if given else family)
    assert names == _expected_names(c)
    if formatter is citations.biblatex:
        assert entry.fields["url"] == c.url
        assert entry.fields["urldate"] == "2025-01-02"
        assert decode(entry.fields["organization"]) == "科学空间|Scientific Spaces"
    else:
        assert entry.fields["month"] == "May"  # the `may` macro, resolved by pybtex
        url = re.fullmatch(r"\\url\{(.*)\}", entry.fields["howpublished"])[1]
        assert url.replace("\\%", "%").replace("\\#", "#") == c.url


@pytest.mark.parametrize("nasty_post", NASTY_TITLES, indirect=True)
def test_ris_parses_back_with_rispy(nasty_post):
    c = citation_of(nasty_post.pk)
    [entry] = rispy.loads(citations.ris(c))
    assert entry["type_of_reference"] == "BLOG"
    assert entry["title"] == _normalised(nasty_post.title)
    assert entry["authors"] == _expected_names(c)
    assert entry["secondary_title"] == "科学空间|Scientific Spaces"
    assert entry["urls"] == [c.url]
    assert entry["date"] == nasty_post.published_at.astimezone(SHANGHAI).strftime("%Y/%m/%d")
    assert entry["access_date"] == "2025/01/02"


@pytest.mark.parametrize("nasty_post", NASTY_TITLES, indirect=True)
def test_csl_json_parses_back(nasty_post):
    c = citation_of(nasty_post.pk)
    [item] = json.loads(citations.csl_json(c))
    assert item["title"] == _normalised(nasty_post.title)
    assert item["URL"] == c.url
    names = [a.get("literal") or f"{a['family']}, {a['given']}" for a in item["author"]]
    assert names == _expected_names(c)


def test_bib_text_escapes_every_latex_special():
    assert citations.bib_text("{}%&_#$~^\\") == (
        r"{\textbraceleft}{\textbraceright}\%\&\_\#\$"
        r"{\textasciitilde}{\textasciicircum}{\textbackslash}"
    )


def test_bib_text_protects_capitals_but_not_lowercase_or_chinese():
    assert citations.bib_text("Transformer升级之路 via RoPE and attention") == (
        "{Transformer}升级之路 via {RoPE} and attention"
    )


def test_a_unicode_series_url_is_escaped_inside_url_macro(today):
    series = SeriesFactory(slug="低秩近似之路", title="低秩近似之路")
    PostFactory(series=series, series_part=1)
    parts = list(Post.objects.published().filter(series=series).for_cards())
    c = citations.for_series(series, parts)
    assert "%E4%BD%8E" in c.url
    assert f"howpublished = {{\\url{{{c.url.replace('%', chr(92) + '%')}}}}}" in (
        citations.bibtex(c)
    )
    assert f"url = {{{c.url}}}" in citations.biblatex(c)


# --- a whole series ---------------------------------------------------------------------------


@pytest.fixture
def series(today):
    series = SeriesFactory(title="Transformer升级之路", slug="transformer-upgrade")
    su, zhang = _authors(("苏剑林", "Su, Jianlin"), ("张三", "Zhang, San"))
    PostFactory(
        series=series,
        series_part=2,
        authors=[su, zhang],
        published_at=datetime(2024, 5, 13, 10, tzinfo=SHANGHAI),
    )
    PostFactory(
        series=series,
        series_part=1,
        authors=[su],
        published_at=datetime(2021, 3, 8, 10, tzinfo=SHANGHAI),
    )
    return series


def series_citation(series):
    parts = list(Post.objects.published().filter(series=series).for_cards().order_by("series_part"))
    return citations.for_series(series, parts)


def test_series_citation_spans_its_parts_dates_and_authors(series):
    c = series_citation(series)
    url = "https://kexue.test/series/transformer-upgrade/"
    assert c.key == f"kexuefm-series-{series.pk}"
    assert citations.kexue(c) == (
        f"苏剑林, 张三. (Mar. 08, 2021 – May. 13, 2024). 《Transformer升级之路》[Blog series]. "
        f"Retrieved from {url}"
    )
    assert citations.apa(c) == (
        f"Su, J., & Zhang, S. (2021–2024). Transformer升级之路 [Blog series]. "
        f"Scientific Spaces. {url}"
    )
    assert citations.gbt7714(c) == (
        f"苏剑林, 张三. Transformer升级之路[EB/OL]. (2024-05-13)[2025-01-02]. {url}."
    )
    assert "date = {2021-03-08/2024-05-13}" in citations.biblatex(c)
    assert "year = {2021--2024}" in citations.bibtex(c) and "month" not in citations.bibtex(c)
    item = citations.csl_item(c)
    assert item["issued"] == {"date-parts": [[2021, 3, 8], [2024, 5, 13]]}
    assert item["type"] == "webpage"
    assert citations.ris(c).startswith("TY  - ELEC\n")


def test_series_outputs_parse_back(series, strict_pybtex):
    c = series_citation(series)
    for formatter in (citations.biblatex, citations.bibtex):
        assert bibtexparser.parse_string(formatter(c)).failed_blocks == []
        assert decode(pybtex_parse(formatter(c), "bibtex").entries[c.key].fields["title"]) == (
            "Transformer升级之路"
        )
    [entry] = rispy.loads(citations.ris(c))
    assert entry["title"] == "Transformer升级之路"


def test_series_page_offers_the_series_citation_panel(client, series):
    html = client.get(series.get_absolute_url()).content.decode()
    page = Page(html)
    c = series_citation(series)
    assert page.pre["cite-biblatex"] == citations.biblatex(c)
    assert page.pre["cite-kexue"] == citations.kexue(c)
    assert 'href="/series/transformer-upgrade/cite.bib"' in html
    assert "引用本系列" in html


def test_series_page_without_public_parts_has_no_citation(client, today):
    SeriesFactory(slug="empty")
    response = client.get("/series/empty/")
    assert response.status_code == 200
    assert 'id="cite"' not in response.content.decode()
    assert client.get("/series/empty/cite.bib").status_code == 404


# --- downloads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "content_type", "filename", "formatter"),
    [
        ("cite.bib", "application/x-bibtex", "kexuefm-10091-biblatex.bib", citations.biblatex),
        (
            "cite.bib?style=bibtex",
            "application/x-bibtex",
            "kexuefm-10091-bibtex.bib",
            citations.bibtex,
        ),
        (
            "cite.ris",
            "application/x-research-info-systems",
            "kexuefm-10091.ris",
            citations.ris,
        ),
        (
            "cite.json",
            "application/vnd.citationstyles.csl+json",
            "kexuefm-10091.json",
            citations.csl_json,
        ),
    ],
)
def test_downloads_have_type_file_name_and_the_formatter_output(
    client, post, suffix, content_type, filename, formatter
):
    response = client.get(f"/archives/10091/{suffix}")
    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type}; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.content.decode() == formatter(citation_of(post.pk))


def test_latin_names_download_cites_the_author_as_su_jianlin(client, post):
    response = client.get("/archives/10091/cite.bib?style=bibtex&names=latin")
    assert 'filename="kexuefm-10091-bibtex-latin.bib"' in response["Content-Disposition"]
    text = response.content.decode()
    assert text == citations.bibtex(citation_of(post.pk).in_latin())
    assert "author = {Su, Jianlin}" in text and "苏剑林" not in text
    assert citation_of(post.pk).key in text  # the same key: a \cite keeps working


def test_panel_offers_the_authors_latin_names_and_the_pdflatex_note(client, post):
    html = client.get(post.get_absolute_url()).content.decode()
    page = Page(html)
    latin = citation_of(post.pk).in_latin()
    for fmt in citations.FORMATS:
        assert page.pre[f"cite-{fmt.slug}-latin"] == fmt.render(latin), fmt.slug
    assert 'name="cite-names"' in html
    assert 'data-latin-download="kexuefm-10091-bibtex-latin.bib"' in html
    assert 'data-latin-href="/archives/10091/cite.bib?style=bibtex&amp;names=latin"' in html
    assert "pdfLaTeX 需要 CJK 或 ctex 宏包" in html


def test_no_name_choice_when_no_author_has_a_latin_name(client, today):
    post = PostFactory(authors=_authors(("张三", "")))
    html = client.get(post.get_absolute_url()).content.decode()
    assert 'name="cite-names"' not in html and "-latin" not in html


@pytest.mark.parametrize("nasty_post", NASTY_TITLES, indirect=True)
def test_latin_name_outputs_parse_back_in_every_format(nasty_post, strict_pybtex):
    c = citation_of(nasty_post.pk).in_latin()
    expected = [latin or name for name, latin in NASTY_AUTHORS]
    for formatter in (citations.biblatex, citations.bibtex):
        library = bibtexparser.parse_string(formatter(c))
        assert library.failed_blocks == [] and len(library.entries) == 1
        people = pybtex_parse(formatter(c), "bibtex").entries[c.key].persons["author"]
        assert len(people) == len(NASTY_AUTHORS)
    [entry] = rispy.loads(citations.ris(c))
    assert entry["authors"] == _expected_names(c)
    [item] = json.loads(citations.csl_json(c))
    assert len(item["author"]) == len(expected)
    assert _expected_names(c)[0] == "Su, Jianlin"


def test_download_urls_are_named():
    from django.urls import reverse

    assert reverse("blog:post_cite_bib", args=[7]) == "/archives/7/cite.bib"
    assert reverse("blog:post_cite_ris", args=[7]) == "/archives/7/cite.ris"
    assert reverse("blog:post_cite_json", args=[7]) == "/archives/7/cite.json"


def test_series_downloads(client, series):
    response = client.get("/series/transformer-upgrade/cite.ris")
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert f'filename="kexuefm-series-{series.pk}.ris"' in response["Content-Disposition"]
    assert response.content.decode() == citations.ris(series_citation(series))


def test_downloads_exist_only_for_public_posts(client, staff_client, today):
    draft = PostFactory(status=Post.Status.DRAFT)
    scheduled = PostFactory(published_at=timezone.now() + timezone.timedelta(days=1))
    for post in (draft, scheduled):
        for ext in ("bib", "ris", "json"):
            url = f"{post.get_absolute_url()}cite.{ext}"
            assert client.get(url).status_code == 404
            assert staff_client.get(url).status_code == 404
    assert client.get("/archives/999999/cite.bib").status_code == 404


@pytest.mark.parametrize("style", ["nope", "ris", "<script>"])
def test_an_unknown_style_is_a_404(client, post, style):
    assert client.get("/archives/10091/cite.bib", {"style": style}).status_code == 404


def test_download_query_count_does_not_grow_with_authors(client, today):
    one = PostFactory()
    many = PostFactory(authors=_authors(*[(f"作者{i}", f"Zuo, Zhe{i}") for i in range(6)]))
    counts = []
    for post in (one, many):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{post.get_absolute_url()}cite.bib").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3


# --- the post page: panel and head metadata -----------------------------------------------------


class Page(HTMLParser):
    """The parts of a page reference managers and the panel tests read."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.pre: dict[str, str] = {}
        self.json_ld: list[str] = []
        self.coins: list[str] = []
        self.links: dict[str, str] = {}
        self._capture = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("name" in attrs or "property" in attrs):
            key = attrs.get("name") or attrs.get("property")
            self.meta.setdefault(key, []).append(attrs.get("content"))
        elif tag == "pre" and "cite-output" in attrs.get("class", ""):
            self._capture = ("pre", attrs["id"])
            self.pre[attrs["id"]] = ""
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._capture = ("json", len(self.json_ld))
            self.json_ld.append("")
        elif tag == "span" and attrs.get("class") == "Z3988":
            self.coins.append(attrs["title"])
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.links["canonical"] = attrs["href"]

    def handle_endtag(self, tag):
        if tag in ("pre", "script"):
            self._capture = None

    def handle_data(self, data):
        if self._capture and self._capture[0] == "pre":
            self.pre[self._capture[1]] += data
        elif self._capture and self._capture[0] == "json":
            self.json_ld[self._capture[1]] += data


def test_post_page_panel_shows_every_format_exactly_with_downloads(client, post):
    html = client.get(post.get_absolute_url()).content.decode()
    page = Page(html)
    c = citation_of(post.pk)
    for fmt in citations.FORMATS:
        assert page.pre[f"cite-{fmt.slug}"] == fmt.render(c), fmt.slug
    assert '<a class="cite-link" href="#cite">' in html
    assert '<details class="cite-panel">' in html
    for href in ("cite.bib", "cite.bib?style=bibtex", "cite.ris", "cite.json"):
        assert f'href="/archives/10091/{href}"' in html
    assert 'download="kexuefm-10091-biblatex.bib"' in html
    assert 'download="kexuefm-10091-bibtex.bib"' in html
    assert html.count('class="cite-copy') == len(citations.FORMATS)
    assert "js/citations.js" in html


def test_post_page_has_highwire_tags_without_journal_title(client, today):
    authors = _authors(("苏剑林", "Su, Jianlin"), ("Jane Doe", "Doe, Jane"))
    post = PostFactory(
        title=TITLE, authors=authors, published_at=datetime(2024, 5, 13, 10, tzinfo=SHANGHAI)
    )
    meta = Page(client.get(post.get_absolute_url()).content.decode()).meta
    assert meta["citation_title"] == [TITLE]
    assert meta["citation_author"] == ["苏剑林", "Doe, Jane"]
    assert meta["citation_publication_date"] == ["2024/05/13"]
    assert meta["citation_online_date"] == ["2024/05/13"]
    assert not [name for name in meta if name.startswith("citation_journal")]


def test_post_page_has_coins_that_zotero_files_as_a_blog_post(client, post):
    page = Page(client.get(post.get_absolute_url()).content.decode())
    [coins] = page.coins
    fields = parse_qsl(coins, strict_parsing=True)
    as_dict = dict(fields)
    assert as_dict["ctx_ver"] == "Z39.88-2004"
    assert as_dict["rft_val_fmt"] == "info:ofi/fmt:kev:mtx:dc"
    assert as_dict["rft.type"] == "blogPost"
    assert as_dict["rft.title"] == TITLE
    assert as_dict["rft.creator"] == "苏剑林"
    assert as_dict["rft.date"] == "2024-05-13"
    assert as_dict["rft.identifier"] == URL
    assert "+" not in coins  # Zotero reads "+" as a space


def test_post_page_has_json_ld_blog_posting_and_open_graph(client, post):
    page = Page(client.get(post.get_absolute_url()).content.decode())
    [raw] = page.json_ld
    data = json.loads(raw)
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == TITLE
    assert data["author"] == [{"@type": "Person", "name": "苏剑林", "alternateName": "Su, Jianlin"}]
    assert data["datePublished"] == "2024-05-13T10:00:00+08:00"
    assert data["url"] == data["mainEntityOfPage"] == URL
    assert page.meta["og:type"] == ["article"]
    assert page.meta["og:title"] == [TITLE]
    assert page.meta["og:url"] == [URL]
    assert page.meta["og:description"] == [post.excerpt]
    assert page.meta["article:published_time"] == ["2024-05-13T10:00:00+08:00"]
    assert page.links["canonical"] == URL


def test_hostile_title_cannot_break_out_of_json_ld_or_meta_tags(client, today):
    title = '</script><script>alert(1)</script> "quoted" <b>&amp;'
    post = PostFactory(title=title)
    html = client.get(post.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    page = Page(html)
    assert json.loads(page.json_ld[0])["headline"] == title
    assert page.meta["citation_title"] == [title]
    assert page.pre["cite-kexue"] == citations.kexue(citation_of(post.pk))


def test_citations_cost_no_queries_once_the_post_is_loaded(today, django_assert_num_queries):
    post = PostFactory(tags=[], authors=_authors(("苏剑林", "Su, Jianlin"), ("张三", "")))
    loaded = Post.objects.for_cards().prefetch_related("tags").get(pk=post.pk)
    with django_assert_num_queries(0):
        c = citations.for_post(loaded)
        citations.rendered_formats(c)
        render_to_string("includes/citations_panel.html", {"citation": c, "post": loaded})
        render_to_string("includes/citations_head.html", {"citation": c, "post": loaded})
