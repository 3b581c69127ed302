"""Cache invalidation: any saved or deleted public object makes cached fragments stale."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .cache import content_changed
from .models import Authorship, Category, Comment, Post, Series, Tag

WATCHED = (Post, Series, Category, Tag, Authorship, Comment)


@receiver(post_save)
@receiver(post_delete)
def _content_changed(sender, instance=None, created=False, **kwargs):
    if sender not in WATCHED:
        return
    if sender is Comment and created and instance.status != Comment.Status.APPROVED:
        return  # a held comment changes no public page (bulk moderation bumps by itself)
    content_changed()


@receiver(m2m_changed, sender=Post.tags.through)
def _tags_changed(sender, **kwargs):
    content_changed()
