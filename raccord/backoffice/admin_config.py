"""An admin app config whose default site is Raccord's (role check, throttled login).

Its own module: the apps module of an app may declare only one AppConfig, and this one must not
import models (it is loaded while the app registry is being populated)."""

from django.contrib.admin.apps import AdminConfig


class RaccordAdminConfig(AdminConfig):
    """To use in INSTALLED_APPS in place of "django.contrib.admin"."""

    default_site = "raccord.backoffice.admin_site.RaccordAdminSite"
