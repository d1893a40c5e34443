"""The installer's appointment on the contract (it was only in the booking event's data)."""

from datetime import date

from django.db import migrations, models


def appointments_from_events(apps, schema_editor):
    Contract = apps.get_model("contracts", "Contract")
    Event = apps.get_model("core", "Event")
    booked = Contract.objects.filter(status="installation_booked").values_list("pk", flat=True)
    latest: dict[int, date] = {}
    for subject_id, data in (
        Event.objects.filter(
            verb="contract.installation_booked", subject_type="contract", subject_id__in=booked
        )
        .order_by("at", "id")
        .values_list("subject_id", "data")
        .iterator()
    ):
        if isinstance(data, dict) and data.get("appointment"):
            latest[subject_id] = date.fromisoformat(data["appointment"])
    for pk, appointment in latest.items():
        Contract.objects.filter(pk=pk).update(installation_appointment=appointment)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0008_subscription_half_pages"),
        ("core", "0005_policy_gesture_automatic"),
    ]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="installation_appointment",
            field=models.DateField(
                blank=True, null=True, verbose_name="rendez-vous d'installation"
            ),
        ),
        migrations.RunPython(appointments_from_events, migrations.RunPython.noop),
    ]
