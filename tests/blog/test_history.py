"""Revision notes, licences and tables of contents (issue 16, items 5-7): the post page, feeds,
citations (parsed back), JSON-LD, the admin, and the page cache seeing a new note at once."""

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import bibtexparser
import feedparser
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import html as lxml_html

from blog import citations, markup
from blog.models import Post, PostNote
from tests.conftest import clear_caches
from tests.factories import PostFactory, StaffFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLISHED = datetime(2024, 5, 13, 10, 0, tzinfo=SHANGHAI)
NOTED = datetime(2024, 6, 1, 21, 30, tzinfo=SHANGHAI)
SITE_LICENSE = "https://creativecommons.org/licenses/by-nc-sa/4.0/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
LONG_BODY = """引言。

## 第一节 $x^2$ 与 [链接](https://example.org)

内容。

### 1.1 小节

内容。

#### 1.1.1 更小

内容。

## 第二节 **加粗**

内容。
"""


@pytest.fixture
def today(time_machine):
    time_machine.move_to(datetime(2025, 1, 2, 9, 30, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def post(today):
    return PostFactory(id=10091, title="缓存与效果的极限拉扯", published_at=PUBLISHED)


def note(post, when=NOTED, text="更新：修正了式(3)的笔误。"):
    return PostNote.objects.create(post=post, noted_at=when, text=text)


def citation_of(post_id):
    return citations.for_post(Post.objects.for_cards().get(pk=post_id))


def page_of(client, post):
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    return lxml_html.fromstring(response.content)


def json_ld(doc) -> dict:
    return json.loads(doc.xpath('//script[@type="application/ld+json"]')[0].text)


# --- revision notes on the page ------------------------------------------------------------


def test_notes_show_at_the_end_of_the_post_in_date_order_with_their_dates(client, post):
    note(post, NOTED, "第二条：见 https://kexue.fm/archives/8265")
    note(post, NOTED - timedelta(days=10), "第一条 <script>alert(1)</script>")
    doc = page_of(client, post)
    section = doc.xpath('//article//section[@class="post-notes"]')[0]
    assert section.xpath("h2")[0].text_content() == "更新记录"
    items = section.xpath(".//li")
    assert [li.xpath("time/@datetime")[0][:10] for li in items] == ["2024-05-22", "2024-06-01"]
    assert [li.xpath("time")[0].text for li in items] == ["2024-05-22", "2024-06-01"]
    assert "第一条 <script>alert(1)</script>" in items[0].text_content()  # text, not markup
    assert not doc.xpath('//section[@class="post-notes"]//script')
    assert items[1].xpath("a/@href") == ["https://kexue.fm/archives/8265"]
    # After the body, before the footer.
    article = section.getparent()
    order = [child.get("class") for child in article]
    assert order.index("article-body") < order.index("post-notes") < order.index("post-footer")


def test_a_post_without_notes_shows_no_notes_section_and_costs_no_notes_query(client, post):
    clear_caches()
    with CaptureQueriesContext(connection) as queries:
        doc = page_of(client, post)
    assert not doc.xpath('//section[@class="post-notes"]')
    assert not [
        q for q in queries.captured_queries if "blog_postnote" in q["sql"].split("FROM")[-1]
    ]


def test_a_post_with_notes_costs_one_query_more_however_many_notes(client, post):
    def cold():
        clear_caches()
        with CaptureQueriesContext(connection) as queries:
            page_of(client, post)
        return len(queries)

    without = cold()
    note(post)
    one = cold()
    for day in range(1, 10):
        note(post, NOTED - timedelta(days=day))
    assert (one, cold()) == (without + 1, without + 1)


def test_a_new_note_shows_at_once_on_a_cached_page(client, post):
    assert not page_of(client, post).xpath('//section[@class="post-notes"]')
    note(post, text="刚加的说明")
    assert (
        "刚加的说明"
        in page_of(client, post).xpath('//section[@class="post-notes"]')[0].text_content()
    )


def test_a_note_dated_in_the_future_is_refused(post):
    with pytest.raises(ValidationError) as error:
        PostNote(post=post, noted_at=timezone.now() + timedelta(hours=1), text="明天").full_clean()
    assert "noted_at" in error.value.message_dict


def test_staff_add_a_note_inline_in_the_post_admin(client, post):
    client.force_login(StaffFactory())
    url = f"/admin/blog/post/{post.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None and name not in {"tags", "published_at"}
    }
    data |= {
        "published_at_0": "2024-05-13",
        "published_at_1": "10:00:00",
        "authorship_set-TOTAL_FORMS": "1",
        "authorship_set-INITIAL_FORMS": "1",
        "authorship_set-0-id": str(post.authorship_set.get().pk),
        "authorship_set-0-post": str(post.pk),
        "authorship_set-0-author": str(post.authorship_set.get().author_id),
        "authorship_set-0-order": "0",
        "notes-TOTAL_FORMS": "1",
        "notes-INITIAL_FORMS": "0",
        "notes-0-noted_at_0": "2024-06-01",
        "notes-0-noted_at_1": "21:30:00",
        "notes-0-text": "更新：补充了推导。",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert list(post.notes.values_list("noted_at", "text")) == [(NOTED, "更新：补充了推导。")]
    assert "更新说明（带日期显示在文末）" in client.get(url).content.decode()


# --- the revision date: feeds, citations, JSON-LD -----------------------------------------


def atom_entry(client, post) -> dict:
    feed = feedparser.parse(client.get("/feed/atom/").content)
    assert feed.bozo == 0
    return next(e for e in feed.entries if e.link.endswith(post.get_absolute_url()))


def test_atom_updated_follows_the_latest_note_and_ignores_plain_edits(client, post, time_machine):
    assert atom_entry(client, post).updated_parsed[:5] == (2024, 5, 13, 2, 0)  # UTC
    time_machine.move_to(datetime(2024, 12, 1, tzinfo=SHANGHAI), tick=False)
    post.body += "\n\n修了一个错别字。"
    post.save()  # a plain edit: updated_at moves, the feed does not
    assert atom_entry(client, post).updated_parsed[:5] == (2024, 5, 13, 2, 0)
    note(post, NOTED - timedelta(days=5))
    note(post, NOTED)
    assert atom_entry(client, post).updated_parsed[:5] == (2024, 6, 1, 13, 30)


def test_a_note_dated_before_publication_does_not_move_updated_back(client, post):
    note(post, PUBLISHED - timedelta(days=3))
    assert atom_entry(client, post).updated_parsed[:5] == (2024, 5, 13, 2, 0)
    assert citation_of(post.pk).revised is None


def test_citations_without_notes_carry_no_version(post):
    c = citation_of(post.pk)
    assert c.revised is None
    assert "version" not in json.loads(citations.csl_json(c))[0]
    assert "version" not in bibtexparser.parse_string(citations.biblatex(c)).entries[0].fields_dict
    assert "updated" not in citations.kexue(c)


def test_every_citation_format_carries_the_latest_note_as_version_and_today_as_accessed(post):
    note(post, NOTED - timedelta(days=3))
    note(post, NOTED)
    c = citation_of(post.pk)
    assert (c.issued.isoformat(), c.revised.isoformat(), c.accessed.isoformat()) == (
        "2024-05-13",
        "2024-06-01",
        "2025-01-02",
    )

    assert "(May. 13, 2024, updated Jun. 01, 2024)" in citations.kexue(c)
    assert "[EB/OL]. (2024-06-01)[2025-01-02]." in citations.gbt7714(c)

    online = bibtexparser.parse_string(citations.biblatex(c)).entries[0].fields_dict
    assert {k: online[k].value for k in ("date", "version", "urldate")} == {
        "date": "2024-05-13",
        "version": "2024-06-01",
        "urldate": "2025-01-02",
    }
    misc = bibtexparser.parse_string(citations.bibtex(c)).entries[0].fields_dict
    assert misc["note"].value == (
        "科学空间|Scientific Spaces, 2024-05-13, updated 2024-06-01. Accessed 2025-01-02"
    )

    (item,) = json.loads(citations.csl_json(c))
    assert item["issued"] == {"date-parts": [[2024, 5, 13]]}
    assert item["version"] == "2024-06-01"
    assert item["accessed"] == {"date-parts": [[2025, 1, 2]]}


def test_json_ld_and_open_graph_date_the_modification_by_the_latest_note(client, post):
    doc = page_of(client, post)
    assert json_ld(doc)["dateModified"] == "2024-05-13T10:00:00+08:00"
    note(post)
    doc = page_of(client, post)
    assert json_ld(doc)["dateModified"] == "2024-06-01T21:30:00+08:00"
    modified = doc.xpath('//meta[@property="article:modified_time"]/@content')
    assert modified == ["2024-06-01T21:30:00+08:00"]


def test_a_series_citation_is_revised_by_the_latest_note_of_its_parts(client, today):
    from tests.factories import SeriesFactory

    series = SeriesFactory(slug="rope")
    first = PostFactory(series=series, series_part=1, published_at=PUBLISHED)
    PostFactory(series=series, series_part=2, published_at=PUBLISHED + timedelta(days=3))
    note(first, NOTED)
    bib = client.get("/series/rope/cite.bib").content.decode()
    assert bibtexparser.parse_string(bib).entries[0].fields_dict["version"].value == "2024-06-01"


# --- licence ---------------------------------------------------------------------------------


def test_the_site_licence_is_in_the_notice_the_head_and_json_ld(client, post):
    doc = page_of(client, post)
    notice = doc.xpath('//p[@class="license-notice"]')[0]
    assert notice.xpath('a[@rel="license"]/@href') == [SITE_LICENSE]
    assert notice.text_content() == "转载须遵守本文的许可协议：CC BY-NC-SA 4.0。"
    # Right after the reprint notice (转载请包括本文地址).
    assert notice.getprevious().text_content().startswith("转载请包括本文地址")
    assert doc.xpath('//head/link[@rel="license"]/@href') == [SITE_LICENSE]
    assert json_ld(doc)["license"] == SITE_LICENSE


def test_a_post_overrides_the_site_licence_everywhere(client, post):
    post.license_name, post.license_url = "CC BY 4.0", CC_BY
    post.save()
    doc = page_of(client, post)
    assert doc.xpath('//p[@class="license-notice"]/a[@rel="license"]/@href') == [CC_BY]
    assert doc.xpath('//p[@class="license-notice"]/a')[0].text == "CC BY 4.0"
    assert doc.xpath('//head/link[@rel="license"]/@href') == [CC_BY]
    assert json_ld(doc)["license"] == CC_BY
    assert json.loads(citations.csl_json(citation_of(post.pk)))[0]["license"] == CC_BY


def test_the_site_licence_comes_from_settings(client, post, settings):
    settings.BLOG_LICENSE = {
        "name": "CC0 1.0",
        "url": "https://creativecommons.org/publicdomain/zero/1.0/",
    }
    doc = page_of(client, post)
    assert doc.xpath('//head/link[@rel="license"]/@href') == [settings.BLOG_LICENSE["url"]]


@pytest.mark.django_db(transaction=True)
def test_a_post_licence_needs_both_a_name_and_a_url(post):
    post.license_name = "CC BY 4.0"
    with pytest.raises(ValidationError) as error:
        post.full_clean()
    assert error.value.messages == ["文章自己的许可协议需要同时填写名称和网址。"]
    with pytest.raises(IntegrityError):
        Post.objects.filter(pk=post.pk).update(license_name="CC BY 4.0")


def test_rss_carries_the_site_licence_per_channel_and_each_post_licence_per_item(client, post):
    other = PostFactory(license_name="CC BY 4.0", license_url=CC_BY)
    root = ET.fromstring(client.get("/feed/").content)
    channel = root.find("channel")
    assert channel.findtext("copyright") == f"采用 CC BY-NC-SA 4.0 许可协议：{SITE_LICENSE}"
    cc = "{http://backend.userland.com/creativeCommonsRssModule}license"
    by_link = {item.findtext("link"): item.findtext(cc) for item in channel.iter("item")}
    assert by_link[f"https://kexue.test{post.get_absolute_url()}"] == SITE_LICENSE
    assert by_link[f"https://kexue.test{other.get_absolute_url()}"] == CC_BY
    assert feedparser.parse(client.get("/feed/").content).bozo == 0


def test_atom_carries_rights_and_a_license_link_per_entry(client, post):
    other = PostFactory(license_name="CC BY 4.0", license_url=CC_BY)
    atom = "{http://www.w3.org/2005/Atom}"
    root = ET.fromstring(client.get("/feed/atom/").content)
    assert root.findtext(f"{atom}rights") == f"采用 CC BY-NC-SA 4.0 许可协议：{SITE_LICENSE}"
    entries = {
        e.find(f"{atom}link[@rel='alternate']").get("href"): e for e in root.iter(f"{atom}entry")
    }
    mine = entries[f"https://kexue.test{post.get_absolute_url()}"]
    theirs = entries[f"https://kexue.test{other.get_absolute_url()}"]
    assert mine.find(f"{atom}link[@rel='license']").get("href") == SITE_LICENSE
    assert theirs.find(f"{atom}link[@rel='license']").get("href") == CC_BY
    assert theirs.findtext(f"{atom}rights") == f"采用 CC BY 4.0 许可协议：{CC_BY}"


# --- table of contents -----------------------------------------------------------------------


def test_the_toc_nests_the_anchored_headings_and_links_to_their_ids():
    rendered = markup.render_post(LONG_BODY)
    toc = lxml_html.fromstring(rendered.toc_html)
    ids = set(
        lxml_html.fromstring(rendered.html).xpath("//*[self::h2 or self::h3 or self::h4]/@id")
    )
    links = toc.xpath("//a/@href")
    assert len(links) == 4 and {href[1:] for href in links} == ids
    assert [len(a.xpath("ancestor::ol")) for a in toc.xpath("//a")] == [1, 2, 3, 1]
    first, *_, last = toc.xpath("//a")
    assert not first.xpath(".//a") and "[链接]" not in first.text_content()  # no link in a link
    assert "链接" in first.text_content() and r"\(x^2\)" in first.text_content()
    assert last.xpath("strong")[0].text == "加粗"


def test_a_skipped_level_nests_one_step_under_its_parent_and_a_body_without_headings_has_no_toc():
    toc = lxml_html.fromstring(markup.render_post("## A\n\n#### B\n\n### C\n\n## D\n").toc_html)
    assert [len(a.xpath("ancestor::ol")) for a in toc.xpath("//a")] == [1, 2, 2, 1]
    assert [a.xpath("ancestor::li[2]/a")[0].text for a in toc.xpath("//a")[1:3]] == ["A", "A"]
    assert markup.render_post("只有正文。\n\n# 一级标题不算\n").toc_html == ""


def test_the_toc_shows_only_when_switched_on(client, post):
    post.body = LONG_BODY
    post.save()
    assert not page_of(client, post).xpath('//details[@class="post-toc"]')
    post.show_toc = True
    post.save()
    doc = page_of(client, post)
    toc = doc.xpath('//details[@class="post-toc"]')[0]
    assert toc.getparent().get("class") == "wrap layout"  # a grid item beside main
    assert toc.getparent().xpath("aside")[0].get("class") == "sidebar"
    assert "open" not in toc.attrib  # folded until static/js/toc.js opens it on wide screens
    assert len(toc.xpath(".//nav//a")) == 4


def test_the_toc_is_rebuilt_when_only_the_body_is_saved(post):
    post.body = LONG_BODY
    post.save(update_fields=["body"])
    post.refresh_from_db()
    assert post.toc_html.count("<li>") == 4


def test_post_page_query_count_does_not_change_with_the_toc(client, post):
    def cold():
        clear_caches()
        with CaptureQueriesContext(connection) as queries:
            page_of(client, post)
        return len(queries)

    before = cold()
    post.body, post.show_toc = LONG_BODY, True
    post.save()
    assert cold() == before


def test_math_in_a_heading_is_typeset_in_the_toc(post, settings):
    settings.BLOG_MATHJAX_NODE = "node"
    post.body, post.show_toc = LONG_BODY, True
    post.save()
    assert post.math_typeset
    entry = lxml_html.fromstring(post.toc_html).xpath("//a")[0]
    assert entry.xpath(".//mjx-container") and "\\(" not in entry.text_content()
