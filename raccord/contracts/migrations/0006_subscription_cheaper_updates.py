"""The monthly run moves ``billed_through`` on every subscription: room left in each page lets
PostgreSQL update the row in place (a HOT update, no index touched), and the contract index
is dropped because the (contract, end_date) index already serves it."""

import django.db.models.deletion
from django.db import migrations, models


def fillfactor(apps, schema_editor, value=85):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE contracts_subscription SET (fillfactor = {int(value)})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE contracts_subscription RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0005_contract_suspended_on_contract_suspension_reason"),
    ]

    operations = [
        migrations.AlterField(
            model_name="subscription",
            name="contract",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="subscriptions",
                to="contracts.contract",
            ),
        ),
        migrations.RunPython(fillfactor, fillfactor_reset),
    ]
