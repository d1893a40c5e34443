"""Refunds of credit notes (B6): compensation, transfers in a pain.001 file, cheques."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from lxml import etree

from raccord.conftest import VALID_IBAN
from raccord.core.errors import DomainError
from raccord.core.models import Event
from raccord.payments.models import Allocation, Debit, Payment, Refund, RefundBatch
from raccord.payments.refunds import refund_cheque_record, refunds_export, refunds_prepare
from raccord.payments.selectors import (
    customer_balance,
    customer_documents_status,
    documents_outstanding,
)
from raccord.payments.sepa_credit import pain001_namespace, pain001_validate
from raccord.payments.tests.money_support import *  # noqa: F403
from raccord.payments.tests.money_support import credit_note, debit_make, invoice, system

pytestmark = pytest.mark.django_db

ON = date(2027, 3, 12)


def test_a_sepa_payers_credit_note_is_refunded_by_transfer_to_the_mandate__B6(make_contract):
    contract = make_contract("sepa")
    credit = credit_note(contract.customer, "12.50", on=date(2027, 3, 2))
    [refund] = refunds_prepare(on=ON, actor=system())
    assert refund.document == credit
    assert refund.amount == Decimal("12.50")
    assert refund.method == Refund.Method.TRANSFER
    assert refund.mandate == contract.mandate
    # idempotent
    assert refunds_prepare(on=ON, actor=system()) == []
    assert Refund.objects.count() == 1
    event = Event.objects.get(verb="refund.created")
    assert VALID_IBAN not in event.summary and "0189" in event.summary


def test_a_cheque_payers_credit_note_is_refunded_by_cheque__B6(make_contract):
    contract = make_contract("cheque")
    credit = credit_note(contract.customer, "12.50", on=date(2027, 3, 2))
    [refund] = refunds_prepare(on=ON, actor=system())
    assert refund.method == Refund.Method.CHEQUE
    assert refund.mandate is None
    # an agent sends the cheque
    paid = refund_cheque_record(
        refund=refund, cheque_number="9876543", paid_on=date(2027, 3, 15), actor=system()
    )
    assert paid.status == Refund.Status.PAID
    payment = Payment.objects.get(refund=refund)
    assert (payment.method, payment.amount) == (Payment.Method.REFUND, Decimal("-12.50"))
    assert documents_outstanding(document_ids=[credit.pk])[credit.pk] == Decimal("0.00")
    assert customer_balance(customer=contract.customer).balance == Decimal("0.00")
    # the same cheque again changes nothing; another number is refused
    refund_cheque_record(refund=refund, cheque_number="9876543", paid_on=ON, actor=system())
    assert Payment.objects.filter(refund=refund).count() == 1
    with pytest.raises(DomainError):
        refund_cheque_record(refund=refund, cheque_number="1", paid_on=ON, actor=system())
    [status] = [
        s
        for s in customer_documents_status(customer=contract.customer, today=ON)
        if s.document == credit
    ]
    assert status.label == "remboursé par chèque"


def test_a_credit_note_first_pays_an_unpaid_invoice(make_contract):
    # given a cheque payer with an unpaid March invoice (34,90 €) and a credit note of 50 €
    contract = make_contract("cheque")
    customer = contract.customer
    march = invoice(contract, 3)
    credit = credit_note(customer, "50.00", on=date(2027, 3, 5))
    balance_before = customer_balance(customer=customer).balance
    # when refunds are prepared
    [refund] = refunds_prepare(on=ON, actor=system())
    # then March is paid by the credit note and only the rest is refunded
    assert documents_outstanding(document_ids=[march.pk])[march.pk] == Decimal("0.00")
    assert refund.amount == Decimal("50.00") - march.total
    offset = Payment.objects.get(key=f"offset:{credit.pk}")
    assert offset.amount == Decimal("0.00")
    assert sum(a.amount for a in offset.allocations.all()) == Decimal("0.00")
    assert customer_balance(customer=customer).balance == balance_before
    assert Event.objects.filter(verb="credit_note.offset").count() == 1


def test_a_credit_note_smaller_than_the_debt_makes_no_refund(make_contract):
    contract = make_contract("cheque")
    march = invoice(contract, 3)
    credit = credit_note(contract.customer, "10.00", on=date(2027, 3, 5))
    assert refunds_prepare(on=ON, actor=system()) == []
    assert documents_outstanding(document_ids=[march.pk, credit.pk]) == {
        march.pk: march.total - Decimal("10.00"),
        credit.pk: Decimal("0.00"),
    }
    assert refunds_prepare(on=ON, actor=system()) == []


def test_an_invoice_being_collected_is_not_offset(make_contract):
    contract = make_contract("sepa")
    march = invoice(contract, 3)
    debit_make(march, status=Debit.Status.COLLECTING)
    credit_note(contract.customer, "10.00", on=date(2027, 3, 4))
    [refund] = refunds_prepare(on=ON, actor=system())
    assert refund.amount == Decimal("10.00")
    assert not Allocation.objects.filter(document=march).exists()


def _two_transfer_refunds(make_contract):
    first = make_contract("sepa")
    second = make_contract(
        "sepa", first_name="Zoé", last_name="Lefèvre-Œuvray", account_holder="Zoé Lefèvre-Œuvray"
    )
    credit_note(first.customer, "12.50", on=date(2027, 3, 2))
    credit_note(second.customer, "7.25", on=date(2027, 3, 2))
    return first, second


@pytest.mark.parametrize("version", ["001.001.03", "001.001.09"])
def test_the_transfer_file_is_valid_and_deterministic__B6(make_contract, media, tmp_path, version):
    _two_transfer_refunds(make_contract)
    first_file, second_file = tmp_path / "a.xml", tmp_path / "b.xml"
    call_command(
        "refunds",
        "export",
        "--output",
        str(first_file),
        "--date",
        "2027-03-12",
        "--version",
        version,
    )
    call_command(
        "refunds",
        "export",
        "--output",
        str(second_file),
        "--date",
        "2027-03-12",
        "--version",
        version,
    )
    # valid against the official XSD (sepaxml's copy), the same bytes twice
    check = pain001_validate(first_file, version=version)
    assert check.valid, check.error
    assert check.transactions == 2
    assert first_file.read_bytes() == second_file.read_bytes()
    # one batch, refunds exported, the ledger's negative payments
    batch = RefundBatch.objects.get()
    assert batch.message_id == "RMB-20270312-1"
    assert (batch.count, batch.total) == (2, Decimal("19.75"))
    assert batch.execution_date == date(2027, 3, 15)  # 13 March 2027 is a Saturday
    assert set(Refund.objects.values_list("status", flat=True)) == {Refund.Status.EXPORTED}
    assert sorted(Payment.objects.filter(method="refund").values_list("amount", flat=True)) == [
        Decimal("-12.50"),
        Decimal("-7.25"),
    ]
    # the content: control sum, the credit note numbers as end-to-end ids, SEPA characters
    ns = {"p": pain001_namespace(version)}
    tree = etree.parse(str(first_file))
    assert tree.findtext(".//p:GrpHdr/p:MsgId", namespaces=ns) == "RMB-20270312-1"
    assert tree.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "19.75"
    e2e = tree.xpath("//p:CdtTrfTxInf/p:PmtId/p:EndToEndId/text()", namespaces=ns)
    assert e2e == list(Refund.objects.order_by("id").values_list("document__number", flat=True))
    names = tree.xpath("//p:CdtTrfTxInf/p:Cdtr/p:Nm/text()", namespaces=ns)
    assert "Zoe Lefevre-OEuvray" in names
    assert tree.xpath("//p:CdtTrfTxInf/p:CdtrAcct/p:Id/p:IBAN/text()", namespaces=ns) == [
        VALID_IBAN,
        VALID_IBAN,
    ]


def test_a_second_export_the_same_day_takes_only_the_new_refunds(make_contract, media):
    first, _second = _two_transfer_refunds(make_contract)
    refunds_prepare(on=ON, actor=system())
    one = refunds_export(on=ON, actor=system())
    assert one is not None and one.created
    credit_note(first.customer, "3.00", on=ON)
    refunds_prepare(on=ON, actor=system())
    two = refunds_export(on=ON, actor=system())
    assert two is not None and two.created
    assert two.batch.message_id == "RMB-20270312-2"
    assert two.batch.count == 1
    assert Payment.objects.filter(method="refund").count() == 3


def test_nothing_to_export_writes_no_file(db, media, tmp_path, capsys):
    target = tmp_path / "rien.xml"
    call_command("refunds", "export", "--output", str(target), "--date", "2027-03-12")
    assert not target.exists()
    assert "Aucun remboursement" in capsys.readouterr().out


def test_an_exported_transfer_cannot_be_paid_by_cheque(make_contract, media):
    _two_transfer_refunds(make_contract)
    refunds_prepare(on=ON, actor=system())
    refunds_export(on=ON, actor=system())
    refund = Refund.objects.get(customer__first_name="Camille")
    with pytest.raises(DomainError, match="virement"):
        refund_cheque_record(refund=refund, cheque_number="1", paid_on=ON, actor=system())


def test_the_validator_refuses_a_file_outside_the_schema(make_contract, media, tmp_path):
    _two_transfer_refunds(make_contract)
    target = tmp_path / "a.xml"
    call_command("refunds", "export", "--output", str(target), "--date", "2027-03-12")
    broken = tmp_path / "broken.xml"
    broken.write_bytes(
        target.read_bytes().replace(b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>XXX</PmtMtd>")
    )
    check = pain001_validate(broken, version="001.001.03")
    assert not check.valid
    assert "PmtMtd" in check.error


def test_an_invoice_issued_after_the_day_is_not_offset(make_contract):
    contract = make_contract("cheque")
    credit_note(contract.customer, "10.00", on=date(2027, 3, 5))
    may = invoice(contract, 5)
    [refund] = refunds_prepare(on=ON, actor=system())
    assert refund.amount == Decimal("10.00")
    assert documents_outstanding(document_ids=[may.pk])[may.pk] == may.total


def test_the_operator_account_comes_from_the_settings(settings, db):
    from raccord.payments.refunds import operator_account

    settings.RACCORD_SEPA_CREDITOR_IBAN = "FR76 1010 7001 0198 7654 3210 016"
    account = operator_account()
    assert (account.iban, account.bic) == ("FR7610107001019876543210016", "BREDFRPP")
    settings.RACCORD_SEPA_CREDITOR_IBAN = ""
    settings.PRODUCTION = True
    with pytest.raises(DomainError, match="RACCORD_SEPA_CREDITOR_IBAN"):
        operator_account()
