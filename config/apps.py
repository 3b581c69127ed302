"""App configurations the project adjusts: its own admin site, and django-axes shown as 安全."""

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class BlogAdminConfig(AdminConfig):
    default_site = "config.admin.BlogAdminSite"


class SecurityConfig(AxesAppConfig):
    """django-axes (login throttling) under a name the author reads: its models are the lockouts."""

    verbose_name = _("Security")
