"""The demo loads through the real services and loading it twice changes nothing."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from raccord.contracts.models import Contract
from raccord.demo.loader import DEMO_CUSTOMERS, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_demo_loads_customers_at_every_stage_and_twice_changes_nothing(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = StringIO()
    # given a fresh database, when the demo is loaded
    call_command("demo", "--no-serve", "--date", "2026-11-27", stdout=out)
    statuses = set(Contract.objects.values_list("status", flat=True))
    # then customers exist at the stages a demo needs, including lines awaiting activation
    assert {
        "ordered",
        "kit_shipped",
        "installation_booked",
        "equipment_received",
        "active",
    } <= statuses
    assert Contract.objects.filter(
        status="equipment_received", activation_date__isnull=True
    ).exists()
    active = Contract.objects.get(customer__email=DEMO_CUSTOMERS[4].email)
    assert active.signup_date == date(2026, 11, 27) - timedelta(days=DEMO_CUSTOMERS[4].days_ago)
    assert active.activation_date == active.signup_date + timedelta(days=9)
    assert active.commitment_end is not None
    # the printed logins work
    printed = out.getvalue()
    assert "http://127.0.0.1:8000/compte/" in printed and DEMO_PASSWORD in printed
    assert client.login(username=DEMO_CUSTOMERS[0].email, password=DEMO_PASSWORD)
    assert client.get("/compte/offre/").status_code == 200
    # and loading again changes nothing at all
    before = _row_counts()
    call_command("demo", "--no-serve", "--date", "2026-11-28", stdout=StringIO())
    assert _row_counts() == before
