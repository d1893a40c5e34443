"""The FEC export: 18 columns, every entry balanced, invoices, credit notes, payments, returns,
refunds, in a fixed number of queries."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import LineKind
from raccord.core.models import OperatorProfile
from raccord.payments.accounting import FEC_COLUMNS, fec_filename, fec_write
from raccord.payments.ledger import cheque_key, payment_record
from raccord.payments.models import Allocation, Debit, Payment
from raccord.payments.refunds import refund_cheque_record, refunds_export, refunds_prepare
from raccord.payments.selectors import customer_balance
from raccord.payments.tests.money_support import *  # noqa: F403
from raccord.payments.tests.money_support import credit_note, debit_make, invoice, system

pytestmark = pytest.mark.django_db


def _mixed_invoice(contract, on):
    """An invoice with three VAT rates (20 %, 5,5 %, out of scope)."""
    lines = [
        DraftLine(
            contract.pk,
            LineKind.SUBSCRIPTION,
            "THD30",
            "THD Radio 30",
            None,
            None,
            Decimal("29.90"),
            Decimal("0.20"),
            {},
        ),
        DraftLine(
            contract.pk,
            LineKind.CALLS,
            "",
            "Communications",
            None,
            None,
            Decimal("3.33"),
            Decimal("0.055"),
            {},
        ),
        DraftLine(
            contract.pk,
            LineKind.NON_RETURN_FEE,
            "",
            "Antenne non rendue",
            None,
            None,
            Decimal("150.00"),
            Decimal("0"),
            {},
        ),
    ]
    with transaction.atomic():
        return document_issue(
            customer_id=contract.customer_id, issue_date=on, lines=lines, run=None
        )


def _settled_then_returned(document, on_settle, on_return):
    """What the debit work writes for a settled debit, then its return (payments contract)."""
    debit = debit_make(document, status=Debit.Status.SETTLED)
    paid = Payment.objects.create(
        customer_id=document.customer_id,
        method="sepa",
        amount=debit.amount,
        received_on=on_settle,
        debit=debit,
    )
    Allocation.objects.create(payment=paid, document=document, amount=debit.amount)
    Debit.objects.filter(pk=debit.pk).update(
        status=Debit.Status.RETURNED, return_reason="AM04", returned_on=on_return
    )
    back = Payment.objects.create(
        customer_id=document.customer_id,
        method="sepa_return",
        amount=-debit.amount,
        received_on=on_return,
        debit=debit,
    )
    Allocation.objects.create(payment=back, document=document, amount=-debit.amount)


@pytest.fixture
def year_2027(make_contract, media):
    sepa = make_contract("sepa")
    cheque = make_contract("cheque", first_name="Louis")
    february = invoice(sepa, 2)
    _settled_then_returned(february, date(2027, 2, 5), date(2027, 2, 12))
    _mixed_invoice(sepa, date(2027, 3, 2))
    march = invoice(cheque, 3)
    payment_record(
        customer=cheque.customer,
        method="cheque",
        amount=Decimal("40.00"),
        received_on=date(2027, 3, 8),
        key=cheque_key(bank="CIC", number="42"),
        reference="Chèque n° 42",
        actor=system(),
    )
    payment_record(
        customer=sepa.customer,
        method="card",
        amount=february.total + Decimal("183.23"),
        received_on=date(2027, 3, 20),
        actor=system(),
    )
    credit_note(sepa.customer, "12.50", on=date(2027, 4, 2))  # refunded by transfer
    credit_note(cheque.customer, "20.00", on=date(2027, 4, 2))  # refunded by cheque (credit left)
    invoice(cheque, 5)
    credit_note(cheque.customer, "5.00", on=date(2027, 5, 3))  # offset with May's invoice
    refunds_prepare(on=date(2027, 4, 10), actor=system())
    refunds_export(on=date(2027, 4, 10), actor=system())
    for refund in cheque.customer.refunds.all():
        refund_cheque_record(
            refund=refund, cheque_number="555", paid_on=date(2027, 4, 20), actor=system()
        )
    refunds_prepare(on=date(2027, 5, 10), actor=system())
    # a document of another year stays out
    invoice_2028 = _mixed_invoice(sepa, date(2028, 1, 2))
    assert march and invoice_2028
    return sepa, cheque


def _rows(text, separator="\t"):
    lines = text.split("\r\n")
    assert lines[-1] == ""
    return [line.split(separator) for line in lines[:-1]]


def _amount(text):
    assert re.fullmatch(r"\d+,\d{2}", text), text
    return Decimal(text.replace(",", "."))


def test_the_fec_has_18_columns_and_every_entry_is_balanced(year_2027):
    stream = io.StringIO()
    summary = fec_write(stream, year=2027)
    header, *rows = _rows(stream.getvalue())
    assert tuple(header) == FEC_COLUMNS
    assert len(rows) == summary.lines
    per_entry: defaultdict[tuple[str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)]
    )
    for row in rows:
        assert len(row) == 18
        assert re.fullmatch(r"2027\d{4}", row[3]) and row[9] == row[3] == row[15]
        debit, credit = _amount(row[11]), _amount(row[12])
        assert (debit == 0) != (credit == 0), row
        per_entry[(row[0], row[2])][0] += debit
        per_entry[(row[0], row[2])][1] += credit
    for number, (debit, credit) in per_entry.items():
        assert debit == credit, number
    assert summary.debit == summary.credit


def test_the_fec_holds_every_kind_of_operation(year_2027):
    sepa, cheque = year_2027
    stream = io.StringIO()
    fec_write(stream, year=2027, separator="|")
    _header, *rows = _rows(stream.getvalue(), "|")
    accounts = {row[4] for row in rows}
    assert {"411000", "512000", "706200", "706055", "706000", "44571200", "44571055"} <= accounts
    assert "44571000" not in accounts  # no VAT line for the out-of-scope amount
    labels = " ".join(row[10] for row in rows)
    assert "Rejet de prélèvement" in labels and "provision insuffisante (AM04)" in labels
    assert "Remboursement avoir" in labels and "Chèque n° 42" in labels
    # no document of 2028; the compensation (amount 0) writes no bank entry
    assert not any(row[3].startswith("2028") for row in rows)
    bank_entries = {row[2] for row in rows if row[0] == "BQ"}
    assert (
        len(bank_entries)
        == Payment.objects.filter(received_on__year=2027).exclude(amount=0).count()
    )
    # the customers' account in the FEC is what the ledger says they owe
    for contract in (sepa, cheque):
        aux = contract.customer.reference
        net = sum(_amount(r[11]) - _amount(r[12]) for r in rows if r[4] == "411000" and r[6] == aux)
        assert net == customer_balance(customer=contract.customer).balance - _balance_2028(contract)


def _balance_2028(contract):
    return sum(d.total for d in contract.customer.documents.filter(issue_date__year=2028))


def test_the_fec_reads_in_a_fixed_number_of_queries(year_2027):
    with CaptureQueriesContext(connection) as queries:
        fec_write(io.StringIO(), year=2027)
    # one streamed query for the documents, one for the payments
    assert len(queries) <= 2


def test_the_command_names_the_file_after_the_siren(year_2027, tmp_path, monkeypatch):
    OperatorProfile.objects.filter(pk=OperatorProfile.get().pk).update(siren="123456789")
    assert fec_filename(year=2027) == "123456789FEC20271231.txt"
    monkeypatch.chdir(tmp_path)
    call_command("accounting", "fec", "--year", "2027")
    content = (tmp_path / "123456789FEC20271231.txt").read_bytes().decode("iso-8859-15")
    assert content.startswith("JournalCode\tJournalLib\tEcritureNum")
    assert "Prélèvement" in content
