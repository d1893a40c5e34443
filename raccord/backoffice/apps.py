from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_role_groups(*, using: str = "default", apps: Any = None, **kwargs: Any) -> None:
    # After every migrate (and every test database flush), the role groups exist and hold at
    # least their baseline permissions, including those of apps added since. Apps listed after
    # this one in INSTALLED_APPS get their permissions only later in the same signal round, so
    # they are created here first (create_permissions skips those that exist).
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from raccord.backoffice.roles import role_groups_sync

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    role_groups_sync()


class BackofficeConfig(AppConfig):
    name = "raccord.backoffice"
    label = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Gestion"

    def ready(self) -> None:
        from raccord.backoffice.admin_site import admin_site_install

        admin_site_install()
        post_migrate.connect(_sync_role_groups, sender=self, dispatch_uid="raccord.roles.sync")
