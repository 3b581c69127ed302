"""The admin as the author's desk: named after the blog, Chinese throughout, the daily actions on
its front page, scheduled posts marked, held comments moderated from one list."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from blog.models import Comment, OldPath, Post, ReadDay
from tests.factories import CommentFactory, PostFactory, SeriesFactory

pytestmark = pytest.mark.django_db

ADMIN = f"/{settings.ADMIN_PATH}"
ROOT = Path(settings.BASE_DIR)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_admin_is_named_after_the_site_and_requests_the_sites_icon(staff_client, client):
    for response in (staff_client.get(ADMIN), client.get(f"{ADMIN}login/")):
        html = response.content.decode()
        assert "Django" not in text(html)
        assert settings.SITE_TITLE_ZH in re.search(r'<div id="site-name">.*?</div>', html).group()
        assert re.search(r'<link rel="icon" href="/static/img/favicon\.svg"', html)


def test_the_login_lockouts_are_a_chinese_security_section_after_the_blog(staff_client):
    html = staff_client.get(ADMIN).content.decode()
    captions = re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>(.*?)</a>', html, re.S)
    assert captions.index("博客") == 0
    assert captions[-1] == "安全"
    assert "Access" not in html and "登录失败" in html


def test_the_front_page_has_the_authors_daily_actions_with_counts(staff_client):
    PostFactory(status=Post.Status.DRAFT, title="未完成的稿子")
    hot = PostFactory(title="本周热门")
    ReadDay.objects.add(hot.pk, timezone.localdate(), 42)
    CommentFactory(post=hot, status=Comment.Status.PENDING)
    CommentFactory(post=hot, status=Comment.Status.PENDING)
    CommentFactory(post=hot)
    desk = re.search(
        r'<div class="module desk".*?</div>', staff_client.get(ADMIN).content.decode(), re.S
    ).group()
    assert f'href="{ADMIN}blog/post/add/"' in desk
    assert re.search(r"草稿</a>\s*<span[^>]*>1</span>", desk)
    assert re.search(r"待审评论</a>\s*<span[^>]*>2</span>", desk)
    assert "?status__exact=pending" in desk and "?status__exact=draft" in desk
    assert re.search(r"本周热门</a>\s*<span[^>]*>42</span>", desk)


def test_post_list_marks_a_scheduled_post_with_its_time_and_speaks_chinese(staff_client):
    PostFactory(title="明天见", published_at=timezone.now() + timedelta(days=1))
    PostFactory(title="已经发表", series=SeriesFactory(title="某系列"), series_part=3)
    html = staff_client.get(f"{ADMIN}blog/post/").content.decode()
    row = re.search(r"<tr>(?:(?!</tr>).)*明天见.*?</tr>", html, re.S).group()
    assert re.search(r"定时 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", text(row))
    assert "某系列 第3篇" in text(html)
    for english in ("Filter by", "Select an option", "Scheduled"):
        assert english not in html


def test_held_comments_list_shows_the_rendered_comment_its_post_and_a_reply_link(staff_client):
    comment = CommentFactory(
        post=PostFactory(title="某文章"),
        status=Comment.Status.PENDING,
        body="**很急** <script>alert(1)</script>",
    )
    html = staff_client.get(f"{ADMIN}blog/comment/?status__exact=pending").content.decode()
    assert "<strong>很急</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "某文章" in html
    assert f'href="{ADMIN}blog/comment/{comment.pk}/change/#id_staff_reply"' in html
    assert 'value="approve"' in html and 'value="mark_spam"' in html


def test_the_post_authors_inline_is_chinese(staff_client):
    html = staff_client.get(f"{ADMIN}blog/post/add/").content.decode()
    header = re.search(r'<th class="column-author[^"]*">(.*?)</th>', html, re.S).group(1)
    assert header.strip() == "作者"


def test_the_admin_javascript_catalogue_translates_the_timezone_note(staff_client):
    js = staff_client.get(f"{ADMIN}jsi18n/").content.decode()
    assert "Note: Enter times in the %(timezone)s timezone." in js
    assert "\\u8bf7\\u6309 %(timezone)s" in js or "请按 %(timezone)s" in js


def po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr (the first form for plurals) from a .po file, obsolete entries skipped."""
    entries, key, current = {}, None, {}
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = re.match(r'(msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
        if match:
            key = match.group(1)
            current[key] = match.group(2)
        elif line.startswith('"') and key:
            current[key] += line[1:-1]
        elif not line.strip() and current:
            if "msgid" in current:
                entries[current["msgid"]] = current.get("msgstr", current.get("msgstr[0]", ""))
            key, current = None, {}
    return entries


def template_msgids(html: str) -> set[str]:
    """The msgids of {% translate %} and {% blocktranslate %} (without plural) in a template."""
    ids = set(re.findall(r"\{% translate ['\"](.+?)['\"]", html))
    for options, body in re.findall(
        r"\{% blocktranslate([^%]*)%\}(.*?)\{% endblocktranslate %\}", html, re.S
    ):
        msgid = re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", body)
        ids.add(" ".join(msgid.split()) if "trimmed" in options else msgid)
    return ids


def test_every_msgid_in_the_projects_admin_templates_is_translated():
    catalogue = po_entries(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po")
    templates = sorted((ROOT / "templates/admin").rglob("*.html"))
    assert templates
    used = {
        (path.relative_to(ROOT).as_posix(), msgid)
        for path in templates
        for msgid in template_msgids(path.read_text(encoding="utf-8"))
    }
    assert used
    untranslated = [(path, msgid) for path, msgid in used if not catalogue.get(msgid)]
    assert untranslated == []


def test_an_old_address_added_in_the_admin_is_stored_as_looked_up_and_redirects(
    staff_client, client
):
    post = PostFactory(title="旧文")
    url = "/admin/blog/oldpath/add/"
    response = staff_client.post(url, {"path": "/2015/03/%E6%97%A7%E6%96%87/", "post": post.pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert OldPath.objects.get().path == "/2015/03/旧文"
    assert client.get("/2015/03/旧文/")["Location"] == post.get_absolute_url()
    # The same address typed differently is a form error, not a 500.
    again = staff_client.post(url, {"path": "/2015/03/旧文", "post": post.pk})
    assert again.status_code == 200
    assert again.context["adminform"].form.errors["path"]
    assert "旧地址" in staff_client.get("/admin/blog/oldpath/").content.decode()
