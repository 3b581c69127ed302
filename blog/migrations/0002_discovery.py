"""Search, import and sitemap support: the searchable text, the import key and the search index."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


def fill_search_text(apps, schema_editor):
    from blog.markup import render_post

    Post = apps.get_model("blog", "Post")
    for post in Post.objects.only("id", "body").iterator(chunk_size=200):
        Post.objects.filter(pk=post.pk).update(search_text=render_post(post.body).search_text)


def create_search_index(apps, schema_editor):
    from blog import search_index

    search_index.ensure(schema_editor.connection)


def drop_search_index(apps, schema_editor):
    from blog import search_index

    search_index.drop(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("blog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="post",
            name="source_key",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                help_text="Where an imported post came from; import_posts updates the post it names.",
                max_length=255,
                verbose_name="source key",
            ),
        ),
        migrations.AddConstraint(
            model_name="post",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source_key", ""), _negated=True),
                fields=("source_key",),
                name="unique_source_key",
            ),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
        # pg_trgm on PostgreSQL (the operation does nothing on other databases).
        TrigramExtension(),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
