"""Cheaper session rows: see the comment on ``AccountingSession.key`` (no pattern-matching
index on the key, no second contract index, no constraint check per inserted row)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0007_subscription_customer"),
        ("network", "0002_hot_updates"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accountingsession",
            name="contract",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="network_sessions",
                to="contracts.contract",
            ),
        ),
        migrations.AlterField(
            model_name="accountingsession",
            name="key",
            field=models.CharField(max_length=320),
        ),
        migrations.AddConstraint(
            model_name="accountingsession",
            constraint=models.UniqueConstraint(fields=("key",), name="network_session_key"),
        ),
    ]
