"""Static files as production serves them: collectstatic with whitenoise's compressed manifest
storage, hashed names cached for ten years, MathJax's es5 build only.

collectstatic of the whole tree (24 MB of MathJax included) takes about 2 s here, so the test runs
it for real, once per module, into a temporary STATIC_ROOT.
"""

import gzip
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

IMMUTABLE = "max-age=315360000, public, immutable"


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("staticfiles")
    with production_static(root):
        call_command("collectstatic", "--no-input", "-v", "0")
    return root


def production_static(root):
    return override_settings(
        DEBUG=False,
        STATIC_ROOT=root,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"},
        },
    )


@pytest.fixture
def prod_client(static_root):
    with production_static(static_root):
        yield Client()  # a new handler: whitenoise indexes this STATIC_ROOT when it starts


def test_pages_link_hashed_stylesheets_served_with_far_future_caching(prod_client):
    post = PostFactory(body="公式 $x$\n")
    html = prod_client.get(post.get_absolute_url()).content.decode()
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html).group(1)
    response = prod_client.get(stylesheet)
    assert response.status_code == 200
    assert response["Cache-Control"] == IMMUTABLE
    packed = prod_client.get(stylesheet, headers={"accept-encoding": "gzip"})
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(b"".join(packed.streaming_content)).startswith(b"/*")


def test_unhashed_names_are_served_with_a_short_lifetime(prod_client):
    response = prod_client.get("/static/css/site.css")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]


def test_mathjax_es5_build_is_served_hashed_and_its_sources_are_not(prod_client, static_root):
    post = PostFactory(body="公式 $x$\n")
    html = prod_client.get(post.get_absolute_url()).content.decode()
    script = re.search(r'src="(/static/mathjax/tex-chtml-full\.[0-9a-f]{12}\.js)"', html).group(1)
    response = prod_client.get(script)
    assert response.status_code == 200
    assert response["Cache-Control"] == IMMUTABLE
    assert prod_client.get("/static/mathjax/input/tex/extensions/cancel.js").status_code == 200
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    sources = [p for p in manifest if re.match(r"mathjax/(ts|js|components|es5)/", p)]
    assert sources == []
    assert not (static_root / "mathjax" / "ts").exists()
    assert prod_client.get("/static/mathjax/package.json").status_code == 404


def test_each_static_url_is_worked_out_once_per_process(static_root):
    with production_static(static_root):
        from django.contrib.staticfiles.storage import staticfiles_storage

        first = staticfiles_storage.url("css/site.css")
        assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", first)
        assert staticfiles_storage.url("css/site.css") is first  # kept, not worked out again
        assert staticfiles_storage.url("css/site.css", force=True) == first
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            staticfiles_storage.url("css/no-such-file.css")
