"""A big month's debit files are made by a worker when one runs (P2): the back-office page
queues them instead of holding the request for minutes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from raccord.backoffice.services import agent_create
from raccord.core.models import Event
from raccord.payments import debits_views, tasks
from raccord.payments.models import DebitBatch
from raccord.payments.tests.test_debits_factories import (  # noqa: F401 - fixture
    creditor,
    sepa_invoices,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("creditor")]

PARIS = ZoneInfo("Europe/Paris")
MARCH = date(2027, 3, 5)
BATCHES = reverse("backoffice:debit_batches")


@pytest.fixture
def today(monkeypatch) -> None:
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2027, 3, 3))
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2027, 3, 3, 10, tzinfo=PARIS))


@pytest.fixture
def billing(today: None) -> tuple[Client, int]:
    user = agent_create(email="billing@raccord.test", role="billing", password="gestion-2027-Rac")
    client = Client()
    client.force_login(user)
    return client, user.pk


def test_a_big_month_is_queued_for_a_worker_then_made_by_it__P2(billing, settings, monkeypatch):
    client, user_id = billing
    sepa_invoices(3, debit_date=MARCH)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(debits_views, "BACKGROUND_FROM", 3)
    queued: list[tuple] = []
    monkeypatch.setattr(tasks.debit_files_create, "delay", lambda *args: queued.append(args))
    response = client.post(BATCHES, {"mois": "2027-03", "version": "001.08"}, follow=True)
    # the request made nothing itself and says it was handed over
    assert not DebitBatch.objects.exists()
    assert queued == [("2027-03-01", user_id, "001.08", False)]
    assert "créés en arrière-plan" in response.content.decode()
    # the worker makes the file, as the agent
    made = tasks.debit_files_create(*queued[0])
    batch = DebitBatch.objects.get()
    assert made == [batch.message_id] and batch.count == 3
    assert (
        Event.objects.get(verb="payments.debit_file_created").actor_label == "billing@raccord.test"
    )


def test_a_small_month_is_made_at_once_even_with_a_worker__P2(billing, settings, monkeypatch):
    client, _user_id = billing
    sepa_invoices(2, debit_date=MARCH)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(tasks.debit_files_create, "delay", lambda *args: pytest.fail("queued"))
    response = client.post(BATCHES, {"mois": "2027-03", "version": "001.08"})
    assert response.status_code == 302
    assert DebitBatch.objects.get().count == 2


def test_a_refusal_in_the_worker_is_in_the_history__P2(billing, monkeypatch):
    _client, user_id = billing
    sepa_invoices(1, debit_date=MARCH)
    # the day of the debit itself: past the P2 deadline
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2027, 3, 5, 10, tzinfo=PARIS))
    assert tasks.debit_files_create("2027-03-01", user_id, "001.02", False) == []
    assert not DebitBatch.objects.exists()
    event = Event.objects.get(verb="payments.debit_file_refused")
    assert "refusé" in event.summary and event.actor_label == "billing@raccord.test"
