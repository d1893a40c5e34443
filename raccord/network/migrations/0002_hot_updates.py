"""Sessions and daily usage rows are updated over and over (interim updates): on PostgreSQL,
free room in each page lets an update that touches no indexed column stay on its page
(a HOT update, no index entry written)."""

from django.db import migrations

TABLES = ("network_accountingsession", "network_dailyusage")


def fillfactor(apps, schema_editor, value: int = 70) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")


def fillfactor_reset(apps, schema_editor) -> None:
    fillfactor(apps, schema_editor, 100)


class Migration(migrations.Migration):
    dependencies = [("network", "0001_sessions_usage_incidents")]

    operations = [migrations.RunPython(fillfactor, fillfactor_reset)]
