"""The three back-office roles as auth groups with their baseline permissions.

Permissions are normally created after all migrations (post_migrate); they are created here
first so that the groups can be given theirs in the same run. The backoffice app's post_migrate
hook syncs again later, which picks up the models of apps added after this migration."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_role_groups(apps, schema_editor):
    from raccord.backoffice.roles import role_groups_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    role_groups_sync(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("catalog", "0001_initial"),
        ("eligibility", "0001_initial"),
        ("customers", "0001_initial"),
        ("payments", "0001_initial"),
        ("contracts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
