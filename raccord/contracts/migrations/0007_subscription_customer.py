"""Subscriptions carry their contract's customer, so that the monthly run reads a batch of
customers' subscriptions by an index of their own (see ``Subscription.customer``)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def customers_copy(apps, schema_editor):
    Subscription = apps.get_model("contracts", "Subscription")
    Contract = apps.get_model("contracts", "Contract")
    Subscription.objects.update(
        customer_id=Subquery(
            Contract.objects.filter(pk=OuterRef("contract_id")).values("customer_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0006_subscription_cheaper_updates"),
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="customer",
            field=models.ForeignKey(
                null=True,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="customers.customer",
            ),
        ),
        migrations.RunPython(customers_copy, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="subscription",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="customers.customer",
            ),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(fields=["customer"], name="subscription_customer"),
        ),
    ]
