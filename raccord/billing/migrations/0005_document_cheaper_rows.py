"""Cheaper document rows for the monthly run: see the comment on ``Document`` (no constraint
checks per row on references the code keeps, no index nothing reads)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_line_kind_rejection_fee"),
        ("contracts", "0006_subscription_cheaper_updates"),
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="document",
            name="corrects",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="la facture que cet avoir corrige",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="corrections",
                to="billing.document",
            ),
        ),
        migrations.AlterField(
            model_name="document",
            name="customer",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="documents",
                to="customers.customer",
            ),
        ),
        migrations.AlterField(
            model_name="document",
            name="number",
            field=models.CharField(max_length=30, verbose_name="numéro"),
        ),
        migrations.AlterField(
            model_name="document",
            name="run",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="documents",
                to="billing.billingrun",
            ),
        ),
        migrations.AlterField(
            model_name="documentline",
            name="contract",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contracts.contract",
            ),
        ),
        migrations.AlterField(
            model_name="documentline",
            name="document",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="billing.document",
            ),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                condition=models.Q(("corrects__isnull", False)),
                fields=["corrects"],
                name="document_corrects",
            ),
        ),
        migrations.AddConstraint(
            model_name="document",
            constraint=models.UniqueConstraint(fields=("number",), name="document_number_unique"),
        ),
    ]
