"""Back-office pages of the direct debits (P2, P6): billing and admin roles only; creating the
files of a month, downloading, marking sent and settled, importing returns and reading the
report; each agent action in the history."""

from __future__ import annotations

from datetime import date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from lxml import etree

from raccord.backoffice.services import agent_create
from raccord.core.models import Event
from raccord.payments.models import Debit, DebitBatch, ReturnImport
from raccord.payments.sepa.returns_write import pain002_build, return_specs_for_debits
from raccord.payments.sepa.schemas import pain008_schema
from raccord.payments.tests.test_debits_factories import (  # noqa: F401 - fixture
    creditor,
    sepa_invoices,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("creditor")]
PARIS = ZoneInfo("Europe/Paris")
MARCH = date(2027, 3, 5)
BATCHES = reverse("backoffice:debit_batches")
RETURNS = reverse("backoffice:debit_returns")


def _client(role: str) -> Client:
    user = agent_create(email=f"{role}@raccord.test", role=role, password="gestion-Raccord-2027")
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    return unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def today(monkeypatch) -> date:
    day = date(2027, 3, 3)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: day)
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2027, 3, 3, 10, tzinfo=PARIS))
    return day


@pytest.mark.parametrize("role", ["agent", None])
def test_pages_are_for_billing_and_admin_only__P2(role):
    client = _client(role) if role else Client()
    for url in (BATCHES, RETURNS):
        response = client.get(url)
        assert response.status_code == (403 if role else 302)
    assert _client("billing").get(BATCHES).status_code == 200
    assert _client("admin").get(RETURNS).status_code == 200


def test_agent_creates_downloads_submits_and_settles_the_file_of_a_month__P2(today, monkeypatch):
    items = sepa_invoices(3, debit_date=MARCH)
    client = _client("billing")

    response = client.post(BATCHES, {"mois": "2027-03", "version": "001.08"})

    batch = DebitBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:debit_batch", args=[batch.pk])
    event = Event.objects.get(verb="payments.debit_file_created")
    assert event.actor_kind == "agent" and event.actor_label == "billing@raccord.test"
    page = _text(client.get(response["Location"]))
    assert "PRLV-20270305-1" in page and "104,70 €" in page
    assert items[0].document.number in page
    assert "FR76 **** **** 0189" in page and "FR7630006000011234567890189" not in page

    download = client.get(reverse("backoffice:debit_batch_download", args=[batch.pk]))
    assert download["Content-Type"] == "application/xml"
    assert 'filename="PRLV-20270305-1.xml"' in download["Content-Disposition"]
    content = download.getvalue()
    assert pain008_schema("001.08").validate(etree.fromstring(content))

    client.post(reverse("backoffice:debit_batch_submit", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == DebitBatch.Status.SUBMITTED and batch.submitted_on == today

    not_yet = client.post(
        reverse("backoffice:debit_batch_settle", args=[batch.pk]), {"le": "2027-03-05"}
    )
    assert not_yet.status_code == 400 and "pas encore arrivée" in _text(not_yet)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2027, 3, 8))
    too_early = client.post(
        reverse("backoffice:debit_batch_settle", args=[batch.pk]), {"le": "2027-03-04"}
    )
    assert too_early.status_code == 400
    assert "ne peuvent pas être encaissés avant" in _text(too_early)

    client.post(reverse("backoffice:debit_batch_settle", args=[batch.pk]), {"le": "2027-03-05"})
    batch.refresh_from_db()
    assert batch.status == DebitBatch.Status.SETTLED
    assert set(Debit.objects.values_list("status", flat=True)) == {"settled"}
    verbs = set(
        Event.objects.filter(subject_type="debit_batch", actor_kind="agent").values_list(
            "verb", flat=True
        )
    )
    assert verbs == {
        "payments.debit_file_created",
        "payments.debit_file_submitted",
        "payments.debit_file_settled",
    }


def test_deadline_passed_needs_the_force_box__P2(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2027, 3, 5, 9, tzinfo=PARIS))
    sepa_invoices(1, debit_date=MARCH)
    client = _client("billing")
    refused = client.post(BATCHES, {"mois": "2027-03", "version": "001.02"})
    assert refused.status_code == 400
    assert "au plus tard le 4 mars 2027" in _text(refused)
    assert not DebitBatch.objects.exists()
    forced = client.post(BATCHES, {"mois": "2027-03", "version": "001.02", "forcer": "on"})
    assert forced.status_code == 302 and DebitBatch.objects.count() == 1


def test_bad_month_is_explained__P2():
    response = _client("billing").post(BATCHES, {"mois": "mars", "version": "001.02"})
    assert response.status_code == 400
    assert "AAAA-MM" in _text(response)


def test_agent_imports_returns_and_reads_the_report__P6(today):
    sepa_invoices(2, debit_date=MARCH)
    client = _client("billing")
    client.post(BATCHES, {"mois": "2027-03", "version": "001.02"})
    batch = DebitBatch.objects.get()
    debits = list(Debit.objects.select_related("batch", "mandate").order_by("pk"))
    specs = return_specs_for_debits(debits[:1], "AM04")
    content = pain002_build(
        specs,
        message_id="REJ-1",
        created_at=datetime(2027, 3, 3, 9, tzinfo=PARIS),
        original_message_id=batch.message_id,
    ).replace(
        b"</OrgnlPmtInfAndSts>",
        b"<TxInfAndSts><TxSts>RJCT</TxSts></TxInfAndSts></OrgnlPmtInfAndSts>",
    )

    response = client.post(
        RETURNS, {"fichier": SimpleUploadedFile("rejets.xml", content, "application/xml")}
    )

    record = ReturnImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:debit_return", args=[record.pk])
    page = _text(client.get(response["Location"]))
    assert "AM04 – provision insuffisante" in page
    assert debits[0].end_to_end_id in page
    assert "OrgnlEndToEndId" in page  # the malformed entry, reported
    assert 'data-position="2"' in client.get(response["Location"]).content.decode()
    event = Event.objects.get(verb="payments.returns_imported")
    assert event.actor_kind == "agent"

    again = client.post(
        RETURNS, {"fichier": SimpleUploadedFile("rejets.xml", content, "application/xml")}
    )
    assert again["Location"] == response["Location"] and ReturnImport.objects.count() == 1
    listing = _text(client.get(RETURNS))
    assert "rejets.xml" in listing


def test_a_file_that_is_not_a_returns_file_is_refused_on_the_page__P6():
    client = _client("billing")
    response = client.post(
        RETURNS, {"fichier": SimpleUploadedFile("x.xml", b"<pas du xml", "application/xml")}
    )
    assert response.status_code == 400
    assert "illisible" in _text(response)
    assert not ReturnImport.objects.exists()


def test_admin_lists_batches_imports_and_cases_read_only__P2(today):
    sepa_invoices(1, debit_date=MARCH)
    client = _client("admin")
    client.post(BATCHES, {"mois": "2027-03", "version": "001.02"})
    for model in ("debitbatch", "returnimport", "dunningcase"):
        page = client.get(reverse(f"admin:payments_{model}_changelist"))
        assert page.status_code == 200
        assert client.get(reverse(f"admin:payments_{model}_add")).status_code == 403
    assert "PRLV-20270305-1" in _text(client.get(reverse("admin:payments_debitbatch_changelist")))
    assert _client("agent").get(reverse("admin:payments_debitbatch_changelist")).status_code == 403
