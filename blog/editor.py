"""The admin editor's endpoints (django-markdownx's preview and image upload), for staff only.

Stock markdownx serves both to anonymous users and stores whatever an upload claims to be (an
``.html`` file sent as ``image/gif`` is kept as is). Here the preview runs the public renderer and an
upload must decode as a raster image of an allowed format and size; it is stored under a random name
with the extension of the format Pillow detected, never the one the client sent.
"""

import uuid
from io import BytesIO

from django import forms
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from PIL import Image, UnidentifiedImageError

from .markup import render_preview

ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
MAX_PIXELS = 40_000_000


class ImageUploadForm(forms.Form):
    image = forms.FileField()

    def clean_image(self):
        upload = self.cleaned_data["image"]
        if upload.size > settings.MARKDOWNX_UPLOAD_MAX_SIZE:
            limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE // (1024 * 1024)
            raise forms.ValidationError(_("Images may be at most %(mb)s MB.") % {"mb": limit})
        try:
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
            raise forms.ValidationError(
                _("This file is not a PNG, JPEG, GIF or WebP image.")
            ) from exc
        if image_format not in ALLOWED_FORMATS:
            raise forms.ValidationError(_("This file is not a PNG, JPEG, GIF or WebP image."))
        if width * height > MAX_PIXELS:
            raise forms.ValidationError(_("This image has too many pixels."))
        upload.seek(0)
        self.cleaned_data["format"] = image_format
        return upload

    def save(self) -> str:
        """Store the image under a fresh name and return its public URL."""
        upload = self.cleaned_data["image"]
        extension = ALLOWED_FORMATS[self.cleaned_data["format"]]
        name = f"{settings.MARKDOWNX_MEDIA_PATH}{uuid.uuid4().hex}.{extension}"
        stored = default_storage.save(name, ContentFile(BytesIO(upload.read()).getvalue()))
        return default_storage.url(stored)


@staff_member_required
@require_POST
def markdownify(request):
    return HttpResponse(render_preview(request.POST.get("content", "")))


@staff_member_required
@require_POST
def upload_image(request):
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"image": form.errors.get("image", [])}, status=400)
    return JsonResponse({"image_code": f"![]({form.save()})"})
