"""Issue 4's whole path from the demo, through the commands an operator types and the pages
customers and agents read: run the month, export the debit file, import a returns file, see
the reminder and the reopened invoice, pay it, refund a credit note, write the FEC (P1-P7, B6).

Files are checked against the official schemas shipped with sepaxml."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from raccord.billing.models import Document
from raccord.billing.services import document_credit_fully
from raccord.conftest import paris
from raccord.core.events import Actor
from raccord.core.models import Event
from raccord.demo.loader import DEMO_PASSWORD
from raccord.payments.models import Debit, DebitBatch, DunningCase, Refund
from raccord.payments.sepa.schemas import pain008_validate
from raccord.payments.sepa_credit import pain001_validate

pytestmark = pytest.mark.django_db(transaction=True)

BILLING_AGENT = "facturation@demo.raccord.example"


def _command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def _fec_entries(path: Path) -> dict[str, tuple[Decimal, Decimal]]:
    lines = path.read_text(encoding="iso-8859-15").splitlines()
    header = lines[0].split("\t")
    assert len(header) == 18 and header[0] == "JournalCode" and header[-1] == "Idevise"
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    for line in lines[1:]:
        cells = line.split("\t")
        assert len(cells) == 18, line
        debit = Decimal(cells[11].replace(",", "."))
        credit = Decimal(cells[12].replace(",", "."))
        before = totals.get(cells[2], (Decimal(0), Decimal(0)))
        totals[cells[2]] = (before[0] + debit, before[1] + credit)
    return totals


def test_from_the_demo_debit_return_reminder_payment_refund_and_books(
    tmp_path: Path, settings, monkeypatch
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _command("demo", "--no-serve", "--date", "2026-11-27")

    # the month: December's invoices, dated the 2nd; the 5th is a Saturday → debit on the 7th (P1)
    ran = _command("billing", "run", "--month", "2026-12", "--no-pdf")
    # totals in cents, also on SQLite (which sums decimals as floats)
    assert re.search(r"facture\(s\) pour \d+\.\d\d €", ran), ran
    december = Document.objects.filter(issue_date=date(2026, 12, 2), kind="invoice")
    sepa = list(december.filter(payment_method="sepa").order_by("number"))
    assert len(sepa) >= 2
    assert {d.due_date for d in sepa} == {date(2026, 12, 7)}

    # the debit file: every SEPA invoice of the date once, valid against the official schema (P2)
    output = tmp_path / "prlv.xml"
    _command("sepa", "export", "--month", "2026-12", "--output", str(output), "--force")
    assert pain008_validate(output, version="001.02").valid
    xml = output.read_text(encoding="utf-8")
    for invoice in sepa:
        assert f"<EndToEndId>{invoice.number}</EndToEndId>" in xml
    batch = DebitBatch.objects.get(debit_date=date(2026, 12, 7))
    first_bytes = output.read_bytes()
    # exporting again debits nothing twice and writes the same file
    _command("sepa", "export", "--month", "2026-12", "--output", str(output), "--force")
    assert output.read_bytes() == first_bytes
    assert Debit.objects.filter(batch=batch).count() == len(sepa)
    _command("sepa", "submit", batch.message_id, "--on", "2026-12-03")
    _command("sepa", "settle", batch.message_id, "--on", "2026-12-07")

    # the bank returns the first invoice's debit after settlement (camt.054, insufficient funds)
    returned = sepa[0]
    refunded = sepa[1]
    returns_file = tmp_path / "retours.xml"
    _command(
        "sepa",
        "returns-file",
        batch.message_id,
        "--output",
        str(returns_file),
        "--format",
        "camt.054.001.08",
        "--reason",
        "AM04",
        "--invoice",
        returned.number,
    )
    mail.outbox.clear()
    report = _command("sepa", "import-returns", str(returns_file), "--on", "2026-12-09")
    assert "1 appliqué" in report
    again = _command("sepa", "import-returns", str(returns_file), "--on", "2026-12-09")
    assert "rien n'a changé" in again
    debit = Debit.objects.get(document=returned)
    assert (debit.status, debit.return_reason) == ("returned", "AM04")
    case = DunningCase.objects.get(document=returned)
    assert case.status == "open"

    # the reminder went at once, to that customer, saying how to pay
    customer = returned.customer
    reminders = [m for m in mail.outbox if customer.email in m.to]
    assert len(reminders) == 1
    assert returned.number in reminders[0].body

    # Mon Compte shows the invoice reopened, with the bank's reason in French
    monkeypatch.setattr("raccord.portal.clock.now", lambda: paris(2026, 12, 10, 10))
    subscriber = Client()
    assert subscriber.login(username=customer.email, password=DEMO_PASSWORD)
    page = subscriber.get("/compte/paiements/").content.decode()
    assert f'data-document="{returned.number}" data-status="returned"' in page
    assert "provision" in page.lower()
    assert "rejet" in subscriber.get("/compte/").content.decode().lower()
    # and the back-office customer page too
    agent = Client()
    assert agent.login(username=BILLING_AGENT, password=DEMO_PASSWORD)
    money = reverse("backoffice:customer_money", args=[customer.pk])
    assert (
        f'data-due="{returned.number}" data-status="returned"' in agent.get(money).content.decode()
    )

    # the customer pays by cheque; an agent records it: paid, the dunning case closes
    response = agent.post(
        reverse("backoffice:payment_record", args=[customer.pk]),
        {
            "method": "cheque",
            "amount": str(returned.total).replace(".", ","),
            "received_on": "2026-12-12",
            "bank": "Crédit Agricole",
            "number": "0042",
            "invoices": [str(returned.pk)],
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "paid"
    assert (
        f'data-document="{returned.number}" data-status="paid"'
        in subscriber.get("/compte/paiements/").content.decode()
    )
    assert Event.objects.filter(customer_id=customer.pk, verb="payment.recorded").exists()

    # a credit note on a settled invoice is refunded by transfer to the mandate's account (B6)
    credit = document_credit_fully(
        document=refunded,
        on=date(2026, 12, 14),
        reason="geste commercial",
        actor=Actor.system("test"),
    )
    _command("refunds", "prepare", "--date", "2026-12-14")
    refund = Refund.objects.get(document=credit)
    assert (refund.method, refund.amount) == ("transfer", refunded.total)
    transfers = tmp_path / "virements.xml"
    _command("refunds", "export", "--output", str(transfers), "--date", "2026-12-14")
    assert pain001_validate(transfers, version="001.001.03").valid
    assert credit.number in transfers.read_text(encoding="utf-8")
    refund.refresh_from_db()
    assert refund.status == "exported"

    # the books: every FEC entry of 2026 balanced, the return and the refund in them
    fec = tmp_path / "fec.txt"
    _command("accounting", "fec", "--year", "2026", "--output", str(fec))
    entries = _fec_entries(fec)
    assert entries and all(debit == credit for debit, credit in entries.values())
    assert returned.number in fec.read_text(encoding="iso-8859-15")
    assert credit.number in entries
