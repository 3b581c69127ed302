"""The two preview endpoints, as an attacker would call them: the admin editor's markdownx preview
(staff only) and the comment preview (anyone, JSON). Who may call them, CSRF, and what a script
payload comes back as."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.blog.test_markup_hostile import active_content
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

ADMIN_PREVIEW = "/editor/markdownify/"
XSS_PAYLOADS = json.loads((Path(__file__).parent / "data" / "xss_payloads.json").read_text())
SCRIPT = "<script>alert(1)</script>"


def csrf_token(client, url) -> str:
    html = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


# --- the admin editor's preview --------------------------------------------------------------


def test_admin_preview_refuses_anonymous_and_non_staff_callers(django_user_model):
    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.post(ADMIN_PREVIEW, {"content": SCRIPT})
    assert response.status_code in {302, 403} and SCRIPT not in response.content.decode()
    reader = Client()
    reader.force_login(django_user_model.objects.create_user("reader", password="x" * 12))
    response = reader.post(ADMIN_PREVIEW, {"content": SCRIPT})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_preview_without_the_csrf_token_is_403(staff):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    response = strict.post(ADMIN_PREVIEW, {"content": SCRIPT})
    assert response.status_code == 403
    assert SCRIPT not in response.content.decode()
    token = csrf_token(strict, reverse("admin:blog_post_add"))
    response = strict.post(ADMIN_PREVIEW, {"content": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200


def test_admin_preview_output_cannot_run_inline_script(staff_client):
    """Posts are trusted staff HTML, so the preview shows it as the page will; what keeps a pasted
    payload from running there is the policy every response carries: scripts from the site only,
    no inline handlers, and no content sniffing."""
    response = staff_client.post(ADMIN_PREVIEW, {"content": "<img src=x onerror=alert(1)>"})
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1).split()
    assert "'self'" in script_src
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(script_src)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- the comment preview -----------------------------------------------------------------------


def test_comment_preview_answers_anonymous_readers_with_sanitised_json(settings):
    """Anonymous previews are allowed (a comment carries no authority to forge), so every payload
    must come back inert: JSON, not a page, and the HTML in it sanitised."""
    settings.BLOG_COMMENT_PREVIEW_RATE = (len(XSS_PAYLOADS), 300)
    post = PostFactory()
    url = reverse("blog:comment_preview", args=[post.pk])
    strict = Client(enforce_csrf_checks=True)
    for payload in XSS_PAYLOADS:
        response = strict.post(url, {"body": payload})
        assert response.status_code == 200, payload
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        html = response.json()["html"]
        assert active_content(html) == [], payload
        assert "<script" not in html.lower()


def test_comment_preview_from_a_session_without_the_csrf_token_is_403(staff):
    post = PostFactory()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    url = reverse("blog:comment_preview", args=[post.pk])
    response = strict.post(url, {"body": SCRIPT})
    assert response.status_code == 403 and SCRIPT not in response.content.decode()
    token = csrf_token(strict, post.get_absolute_url())
    response = strict.post(url, {"body": SCRIPT}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert "&lt;script&gt;" in response.json()["html"]  # shown as typed, as text


def test_a_payload_is_shown_as_text_in_the_preview_json(client):
    post = PostFactory()
    url = reverse("blog:comment_preview", args=[post.pk])
    html = client.post(url, {"body": f"看 {SCRIPT} 和 <b onmouseover=x>粗</b>"}).json()["html"]
    text = _Text.of(html)
    assert SCRIPT in text and "<b onmouseover=x>" in text


class _Text(HTMLParser):
    @classmethod
    def of(cls, html):
        parser = cls()
        parser.parts = []
        parser.feed(html)
        return "".join(parser.parts)

    def handle_data(self, data):
        self.parts.append(data)
