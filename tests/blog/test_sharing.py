"""Share links, the QR code endpoint and the print stylesheet hook on the post page."""

import re
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def test_post_page_has_copy_link_share_links_qr_and_print_stylesheet(client):
    post = PostFactory(title="缓存与效果的极限拉扯：从MHA、MQA、GQA到MLA & more")
    html = client.get(post.get_absolute_url(), HTTP_HOST="evil.example").content.decode()
    url = f"https://kexue.test/archives/{post.pk}/"
    assert f'data-copy-url="{url}"' in html
    x_link = html.split('class="share-x" href="')[1].split('"')[0].replace("&amp;", "&")
    assert x_link.startswith("https://x.com/intent/post?")
    assert parse_qs(urlsplit(x_link).query) == {"text": [post.title], "url": [url]}
    weibo = html.split('class="share-weibo" href="')[1].split('"')[0].replace("&amp;", "&")
    assert urlsplit(weibo).netloc == "service.weibo.com"
    assert parse_qs(urlsplit(weibo).query) == {"url": [url], "title": [post.title]}
    assert f'src="/archives/{post.pk}/qr.svg"' in html
    assert 'href="/static/css/print.css" media="print"' in html
    # One copy helper for the copy-link and citation buttons, loaded once.
    assert html.count('src="/static/js/clipboard.js"') == 1
    body = html.split("<body>")[1]
    scripts = re.findall(r"<script[^>]*>", body)
    assert all(
        re.fullmatch(r'<script defer src="/static/[^"]+"(?: data-[\w-]+="[^"]*")*>', tag)
        for tag in scripts
    ), scripts
    assert "evil.example" not in html


def test_qr_code_is_a_cacheable_svg_of_the_canonical_url(client):
    post = PostFactory()
    response = client.get(f"/archives/{post.pk}/qr.svg", HTTP_HOST="evil.example")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]
    svg = ET.fromstring(response.content)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    title = svg.find("{http://www.w3.org/2000/svg}title").text
    assert title == f"https://kexue.test/archives/{post.pk}/"


def test_qr_code_of_unknown_or_unpublished_posts_is_404_for_readers(client, staff_client):
    draft = PostFactory(status=Post.Status.DRAFT)
    scheduled = PostFactory(published_at=timezone.now() + timezone.timedelta(days=1))
    for pk in (draft.pk, scheduled.pk, 999999):
        assert client.get(f"/archives/{pk}/qr.svg").status_code == 404
    response = staff_client.get(f"/archives/{draft.pk}/qr.svg")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
