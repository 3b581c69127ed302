from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from blog.models import Post, Series, chinese_numeral
from tests.factories import PostFactory, SeriesFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_published_excludes_drafts_and_scheduled_posts():
    public = PostFactory()
    PostFactory(status=Post.Status.DRAFT)
    scheduled = PostFactory(published_at=timezone.now() + timedelta(hours=1))
    assert list(Post.objects.published()) == [public]
    assert not scheduled.is_public


def test_scheduled_post_appears_when_its_time_comes(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    post = PostFactory(published_at=timezone.now() + timedelta(days=1))
    assert post not in Post.objects.published()
    time_machine.shift(timedelta(days=1, seconds=1))
    assert post in Post.objects.published()


def test_saving_renders_and_stores_the_html():
    post = PostFactory(body="## 标题\n\n$x$\n")
    stored = Post.objects.get(pk=post.pk)
    assert '<h2 id="标题">' in stored.body_html
    assert stored.has_math
    post.body = "改过的正文\n"
    post.save(update_fields=["body"])
    stored.refresh_from_db()
    assert stored.body_html == "<p>改过的正文</p>\n"
    assert not stored.has_math


def test_permalink_is_archives_id():
    post = PostFactory()
    assert post.get_absolute_url() == f"/archives/{post.pk}/"


def test_series_part_numbers_are_unique_within_a_series():
    series = SeriesFactory()
    PostFactory(series=series, series_part=1)
    with pytest.raises(IntegrityError):
        PostFactory(series=series, series_part=1)


def test_series_post_needs_a_part_number():
    with pytest.raises(IntegrityError):
        PostFactory(series=SeriesFactory(), series_part=None)


@pytest.mark.parametrize(
    ("n", "label"), [(1, "一"), (3, "三"), (10, "十"), (12, "十二"), (20, "二十"), (23, "二十三")]
)
def test_chinese_numerals(n, label):
    assert chinese_numeral(n) == label


def test_series_part_label_follows_numbering_style():
    assert SeriesFactory(numbering=Series.Numbering.ARABIC).part_label(3) == "3、"
    assert SeriesFactory(numbering=Series.Numbering.CHINESE).part_label(3) == "(三)"


def test_authors_keep_their_byline_order():
    first, second = UserFactory(username="b", display_name="乙"), UserFactory(username="a")
    post = PostFactory(authors=[first, second])
    assert Post.objects.for_cards().get(pk=post.pk).ordered_authors() == [first, second]


def test_series_neighbours_are_the_public_parts_in_order():
    series = SeriesFactory()
    one = PostFactory(series=series, series_part=1)
    PostFactory(series=series, series_part=2, status=Post.Status.DRAFT)
    three = PostFactory(series=series, series_part=3)
    parts, previous, following = three.series_neighbours()
    assert parts == [one, three]
    assert previous == one
    assert following is None


def test_adjacent_posts_by_date():
    old, middle, new = PostFactory(), PostFactory(), PostFactory()
    assert middle.adjacent() == (old, new)
