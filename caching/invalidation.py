"""The one registry of what invalidates cached pages: every model whose rows show on a public page
is registered here by the app that owns it (in its AppConfig.ready), and any save or delete of one
of its rows moves the content generation. tests/caching/test_invalidation.py renders every kind of
public page, lists the tables they read and fails if one belongs to a model that is not registered.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from .generation import content_changed

_registered = {}


def invalidate_on(model, *, unless=None) -> None:
    """Changes to ``model``'s rows move the generation, except a save for which
    ``unless(instance, created, update_fields)`` is true (e.g. a held comment)."""
    _registered[model] = unless
    post_save.connect(_saved, sender=model, dispatch_uid=f"caching:{model._meta.label}")
    post_delete.connect(_deleted, sender=model, dispatch_uid=f"caching:{model._meta.label}")
    if model._meta.auto_created:  # a many-to-many table: changed through the relation
        m2m_changed.connect(_related, sender=model, dispatch_uid=f"caching:{model._meta.label}")


def registered() -> set:
    return set(_registered)


def _saved(sender, instance, created=False, update_fields=None, **kwargs):
    unless = _registered.get(sender)
    if unless is None or not unless(instance, created, update_fields):
        content_changed()


def _deleted(sender, **kwargs):
    content_changed()


def _related(sender, action, **kwargs):
    if action.startswith("post_"):
        content_changed()
