"""Invalidation is complete by construction: every model whose rows a public page reads is in the
one registry (caching.invalidation), and an author's rename shows everywhere on the next request."""

import json
import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caching.invalidation import registered
from tests.blog.test_query_counts import PAGES, Blog
from tests.conftest import clear_caches

pytestmark = pytest.mark.django_db

# Read by public pages but deliberately not invalidating: reader tallies change with every read;
# the 热门文章 widget that reads them is recomputed every few minutes instead (blog/sidebar.py).
NOT_CONTENT = {"blog.ReadDay"}
TABLE = re.compile(r'(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)


def test_every_model_a_public_page_reads_invalidates_the_cache(client, settings):
    settings.BLOG_POSTS_PER_PAGE = 3
    blog = Blog()
    for _ in range(3):
        blog.add_post()
    tables = {}
    for name, (url_of, _) in PAGES.items():
        clear_caches()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url_of(blog)).status_code == 200, name
        for query in queries:
            for table in TABLE.findall(query["sql"]):
                tables.setdefault(table, name)
    by_table = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
    read = {by_table[table]: page for table, page in tables.items() if table in by_table}
    assert len(read) >= 8  # posts, authors, users, tags, categories, series, comments, ...
    missing = {
        f"{model._meta.label} (read by {page})"
        for model, page in read.items()
        if model not in registered() and model._meta.label not in NOT_CONTENT
    }
    assert not missing


def test_an_authors_rename_shows_on_the_next_request_everywhere(client):
    blog = Blog()
    post = blog.add_post()
    author = post.authors.get()
    urls = [
        post.get_absolute_url(),
        "/feed/",
        "/feed/atom/",
        *(f"{post.get_absolute_url()}cite.{ext}" for ext in ("bib", "ris", "json")),
        f"{post.get_absolute_url()}cite.bib?style=bibtex",
    ]
    for url in urls:
        client.get(url)
    author.display_name = "新的笔名"
    author.latin_name = "Xin, Biming"
    author.homepage = "https://new.example.org/"
    author.save()
    for url in urls:
        body = client.get(url).content.decode()
        assert "新的笔名" in body or "Xin" in body, url
    page = client.get(post.get_absolute_url()).content.decode()
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1])
    assert "新的笔名" in json.dumps(ld, ensure_ascii=False)
