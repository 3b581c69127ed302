"""Error pages are in the site's style and reveal nothing."""

import pytest
from django.urls import path

from blog import errors


def boom(request):
    raise RuntimeError("SECRET_KEY=do-not-show")


urlpatterns = [path("boom/", boom)]
handler500 = errors.server_error


@pytest.mark.urls("tests.blog.test_errors")
def test_server_error_page_is_styled_and_leaks_nothing(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "科学空间" in html and "出错了" in html
    assert "SECRET_KEY" not in html and "Traceback" not in html


@pytest.mark.django_db
def test_not_found_page_is_styled_with_sidebar(client):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and 'class="sidebar"' in html
