"""The admin editor's markdownx endpoints are staff-only and accept only real raster images."""

import os
from io import BytesIO

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from blog.editor import MAX_PIXELS

pytestmark = pytest.mark.django_db

PREVIEW = "/editor/markdownify/"
UPLOAD = "/editor/upload/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png_bytes(size=(4, 3)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def test_stock_markdownx_urls_are_not_mounted(client):
    assert client.post("/markdownx/markdownify/", {"content": "x"}).status_code == 404
    assert client.post("/markdownx/upload/").status_code == 404


def test_anonymous_preview_is_refused(client):
    response = client.post(PREVIEW, {"content": "$x$"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_anonymous_upload_is_refused_and_stores_nothing(client, tmp_path):
    upload = SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    response = client.post(UPLOAD, {"image": upload})
    assert response.status_code == 302
    assert not any(tmp_path.rglob("*"))


def test_non_staff_user_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user("reader", password="x" * 12)
    client.force_login(user)
    assert client.post(PREVIEW, {"content": "$x$"}).status_code == 302


def test_staff_preview_is_the_public_render(staff_client):
    response = staff_client.post(PREVIEW, {"content": "## 标题\n\n$x_i$\n"})
    assert response.status_code == 200
    body = response.content.decode()
    assert '<h2 id="标题">标题</h2>' in body
    assert r"\(x_i\)" in body


def test_preview_only_accepts_post(staff_client):
    assert staff_client.get(PREVIEW).status_code == 405


def test_staff_can_upload_a_png_stored_under_a_fresh_png_name(staff_client, tmp_path):
    upload = SimpleUploadedFile("diagram.png", png_bytes(), content_type="image/png")
    response = staff_client.post(UPLOAD, {"image": upload})
    assert response.status_code == 200
    code = response.json()["image_code"]
    assert code.startswith("![](/media/uploads/") and code.endswith(".png)")
    stored = list(tmp_path.rglob("*.png"))
    assert len(stored) == 1
    assert Image.open(stored[0]).format == "PNG"


@pytest.mark.parametrize(
    ("name", "content_type", "data"),
    [
        ("evil.html", "image/gif", b"<html><script>alert(document.cookie)</script></html>"),
        ("evil.gif", "image/gif", b"GIF89a<script>alert(1)</script>"),
        (
            "evil.svg",
            "image/svg+xml",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        ),
        ("notes.txt", "image/png", b"just some text"),
        ("empty.png", "image/png", b""),
    ],
)
def test_files_that_are_not_raster_images_are_refused(
    staff_client, tmp_path, name, content_type, data
):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    response = staff_client.post(UPLOAD, {"image": upload})
    assert response.status_code == 400
    assert response.json()["image"]
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_png_with_an_html_name_is_stored_as_png(staff_client, tmp_path):
    upload = SimpleUploadedFile("page.html", png_bytes(), content_type="text/html")
    response = staff_client.post(UPLOAD, {"image": upload})
    assert response.status_code == 200
    assert not list(tmp_path.rglob("*.html"))
    assert len(list(tmp_path.rglob("*.png"))) == 1


def image_bytes(image_format: str, size=(4, 3), mode="RGB") -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, "white").save(buffer, image_format)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("image_format", "extension"), [("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp")]
)
def test_jpeg_gif_and_webp_are_stored_under_their_own_extension(
    staff_client, tmp_path, image_format, extension
):
    upload = SimpleUploadedFile("photo.png", image_bytes(image_format), content_type="image/png")
    response = staff_client.post(UPLOAD, {"image": upload})
    assert response.status_code == 200
    assert response.json()["image_code"].endswith(f".{extension})")
    [stored] = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored.suffix == f".{extension}"
    assert Image.open(stored).format == image_format


def test_the_pixel_limit_is_forty_million(staff_client, tmp_path):
    """A one-bit PNG is a few kilobytes whatever its size, as a decompression bomb is."""
    assert MAX_PIXELS == 40_000_000
    width = 8000
    at_limit = image_bytes("PNG", (width, MAX_PIXELS // width), mode="1")
    over = image_bytes("PNG", (width, MAX_PIXELS // width + 1), mode="1")
    refused = staff_client.post(UPLOAD, {"image": SimpleUploadedFile("big.png", over)})
    assert refused.status_code == 400
    assert refused.json()["image"] == ["该图片像素过多。"]
    accepted = staff_client.post(UPLOAD, {"image": SimpleUploadedFile("big.png", at_limit)})
    assert accepted.status_code == 200
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_the_real_size_limit_is_five_megabytes(staff_client, tmp_path):
    """With the shipped setting: a real image padded to one byte over 5 MB is refused, one
    byte under is stored whole."""
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    assert limit == 5 * 1024 * 1024
    noise = Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3))
    buffer = BytesIO()
    noise.save(buffer, "PNG")
    photo = buffer.getvalue()
    assert 4 * 1024 * 1024 < len(photo) < limit
    under, over = (photo + b"\0" * (size - len(photo)) for size in (limit - 1, limit + 1))
    refused = staff_client.post(UPLOAD, {"image": SimpleUploadedFile("big.png", over)})
    assert refused.status_code == 400
    assert refused.json()["image"] == ["图片不能超过 5 MB。"]
    accepted = staff_client.post(UPLOAD, {"image": SimpleUploadedFile("big.png", under)})
    assert accepted.status_code == 200
    [stored] = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored.stat().st_size == limit - 1


def test_oversized_upload_is_refused(staff_client, settings, tmp_path):
    settings.MARKDOWNX_UPLOAD_MAX_SIZE = 1024
    upload = SimpleUploadedFile(
        "big.png", png_bytes((400, 400)) + b"\0" * 2048, content_type="image/png"
    )
    response = staff_client.post(UPLOAD, {"image": upload})
    assert response.status_code == 400
    assert "MB" in response.json()["image"][0]
