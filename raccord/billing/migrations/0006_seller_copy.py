"""The seller printed on documents is stored once per distinct version (``SellerCopy``), not
copied on every document row: each existing document is pointed at the copy of what it
printed, unchanged."""

import hashlib
import json

import django.db.models.deletion
from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models


def copies_make(apps, schema_editor):
    Document = apps.get_model("billing", "Document")
    SellerCopy = apps.get_model("billing", "SellerCopy")
    for data in Document.objects.values_list("seller", flat=True).distinct():
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
        digest = hashlib.sha256(text.encode()).hexdigest()
        copy, _created = SellerCopy.objects.get_or_create(digest=digest, defaults={"data": data})
        Document.objects.filter(seller=data, seller_copy__isnull=True).update(seller_copy=copy)


def copies_unmake(apps, schema_editor):
    Document = apps.get_model("billing", "Document")
    SellerCopy = apps.get_model("billing", "SellerCopy")
    for copy in SellerCopy.objects.all():
        Document.objects.filter(seller_copy=copy).update(seller=copy.data)


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_document_cheaper_rows")]

    operations = [
        migrations.CreateModel(
            name="SellerCopy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("data", models.JSONField()),
            ],
            options={
                "verbose_name": "coordonnées du vendeur imprimées",
                "verbose_name_plural": "coordonnées du vendeur imprimées",
            },
        ),
        migrations.AddField(
            model_name="document",
            name="seller_copy",
            field=models.ForeignKey(
                null=True,
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="billing.sellercopy",
            ),
        ),
        migrations.RunPython(copies_make, copies_unmake),
        migrations.RemoveField(model_name="document", name="seller"),
        migrations.AlterField(
            model_name="document",
            name="seller_copy",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="billing.sellercopy",
            ),
        ),
    ]
