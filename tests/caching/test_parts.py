"""Shared parts (caching.parts): rendered from what the caller gives them, never the request,
kept until the content changes, and apart for each value they vary on."""

import pytest
from django.test import RequestFactory
from django.utils import translation

from caching import parts
from caching.generation import content_changed
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

TEMPLATE = "who: {{ user.username }}{{ request.path }}{{ csrf_token }} what: {{ what }}"


@pytest.fixture
def part_template(settings, tmp_path):
    (tmp_path / "part.html").write_text(TEMPLATE)
    settings.TEMPLATES = [
        settings.TEMPLATES[0] | {"DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    return "part.html"


def request_of(user=None):
    request = RequestFactory().get("/somewhere/")
    if user is not None:
        request.user = user
    return request


def test_a_part_never_sees_the_request_that_rendered_it(part_template):
    html = parts.render(request_of(StaffFactory(username="editor")), part_template, {"what": 1})
    assert html == "who:  what: 1"


def test_a_part_is_kept_until_the_content_changes(part_template):
    assert parts.render(request_of(), part_template, {"what": "old"}) == "who:  what: old"
    # The same part, asked for with other data: still the stored one.
    assert parts.render(request_of(), part_template, {"what": "new"}) == "who:  what: old"
    content_changed()
    assert parts.render(request_of(), part_template, {"what": "new"}) == "who:  what: new"


def test_a_part_is_kept_apart_for_each_value_it_varies_on(part_template):
    assert parts.render(request_of(), part_template, {"what": "a"}, 1) == "who:  what: a"
    assert parts.render(request_of(), part_template, {"what": "b"}, 2) == "who:  what: b"
    assert parts.render(request_of(), part_template, {"what": "c"}, 1) == "who:  what: a"


def test_the_version_is_worked_out_once_per_request(part_template):
    request = request_of()
    parts.render(request, part_template, {"what": "before"})
    content_changed()
    # Within one request the page is consistent: the version it started with.
    assert parts.render(request, part_template, {"what": "after"}) == "who:  what: before"
    assert parts.render(request_of(), part_template, {"what": "after"}) == "who:  what: after"


def test_a_part_is_kept_apart_for_each_language(part_template):
    with translation.override("en"):
        assert parts.render(request_of(), part_template, {"what": "en"}) == "who:  what: en"
    assert parts.render(request_of(), part_template, {"what": "zh"}) == "who:  what: zh"
