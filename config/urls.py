from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from blog import editor, health

handler404 = "blog.errors.page_not_found"
handler500 = "blog.errors.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("editor/markdownify/", editor.markdownify, name="editor_markdownify"),
    path("editor/upload/", editor.upload_image, name="editor_upload"),
    path("", include("blog.urls")),
]

if settings.DEBUG:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
