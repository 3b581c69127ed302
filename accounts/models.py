from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A site user; authors carry the names shown in bylines and citations."""

    display_name = models.CharField(
        _("display name"),
        max_length=100,
        blank=True,
        help_text=_("Shown in bylines, e.g. 苏剑林. Falls back to the username."),
    )
    latin_name = models.CharField(
        _("Latin name"),
        max_length=100,
        blank=True,
        help_text=_('"Family, Given" as used in English citations, e.g. "Su, Jianlin".'),
    )
    homepage = models.URLField(_("homepage"), blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.public_name

    @property
    def public_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username
