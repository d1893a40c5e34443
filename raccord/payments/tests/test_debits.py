"""Direct-debit files (P1-P4): what a debit date collects, the batch that records it, the file
(valid, same bytes when nothing changed, never an invoice twice), its life until settled."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from raccord.billing.models import Document
from raccord.core.errors import DomainError
from raccord.core.models import Event, Policy
from raccord.payments.debits import (
    debit_batch_settle,
    debit_batch_submit,
    debit_dates_of_month,
    debit_file_create,
    debit_file_deadline,
    debit_files_for_month,
)
from raccord.payments.models import Allocation, Debit, DebitBatch, Mandate, Payment
from raccord.payments.sepa.schemas import pain008_namespace, pain008_schema
from raccord.payments.tests.test_debits_factories import (  # noqa: F401 - fixtures
    SYSTEM,
    at,
    creditor,
    invoice,
    sepa_invoices,
    subscriber,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("creditor")]
MARCH = date(2027, 3, 5)  # a Friday: the debit date of March (P1)
BEFORE = at(date(2027, 3, 3))


def _tree(batch: DebitBatch | None) -> etree._Element:
    assert batch is not None
    with batch.file.open("rb") as f:
        return etree.fromstring(f.read())


def _ns(batch: DebitBatch | None) -> dict[str, str]:
    assert batch is not None
    return {"p": pain008_namespace(batch.version)}


def _e2e(batch: DebitBatch | None) -> list[str]:
    return _tree(batch).xpath("//p:EndToEndId/text()", namespaces=_ns(batch))


def _create(day: date = MARCH, **kwargs):
    kwargs.setdefault("at", BEFORE)
    return debit_file_create(debit_date=day, actor=SYSTEM, **kwargs)


def test_file_holds_every_unpaid_sepa_invoice_due_that_date__P2():
    due = sepa_invoices(3, debit_date=MARCH)
    other_date = sepa_invoices(1, debit_date=date(2027, 4, 5))
    cheque = sepa_invoices(1, debit_date=MARCH)[0].document
    Document.objects.filter(pk=cheque.pk).update(payment_method="cheque")
    zero = sepa_invoices(1, debit_date=MARCH, amount=Decimal("0.00"))[0].document
    paid = sepa_invoices(1, debit_date=MARCH)[0]
    payment = Payment.objects.create(
        customer=paid.customer, method="cheque", amount=Decimal("34.90"), received_on=MARCH
    )
    Allocation.objects.create(payment=payment, document=paid.document, amount=Decimal("34.90"))

    result = _create()

    numbers = sorted(i.document.number for i in due)
    assert sorted(_e2e(result.batch)) == numbers
    assert result.added == 3
    assert other_date[0].document.number not in _e2e(result.batch)
    assert zero.number not in _e2e(result.batch) and cheque.number not in _e2e(result.batch)
    debits = Debit.objects.filter(batch=result.batch)
    assert {d.status for d in debits} == {Debit.Status.COLLECTING}  # "en cours de prélèvement"
    assert {d.mandate_id for d in debits} == {i.mandate.pk for i in due}


@pytest.mark.parametrize("version", ["001.02", "001.08"])
def test_file_is_valid_and_carries_mandate_creditor_and_invoice_number__P2(version):
    invoiced = sepa_invoices(2, debit_date=MARCH)
    result = _create(version=version)
    batch = result.batch
    tree = _tree(batch)
    schema = pain008_schema(version)
    assert schema.validate(tree), schema.error_log
    ns = _ns(batch)
    tx = tree.xpath("//p:DrctDbtTxInf", namespaces=ns)[0]
    first = invoiced[0]
    assert tx.xpath("string(p:PmtId/p:EndToEndId)", namespaces=ns) == first.document.number
    mandate = tx.xpath("p:DrctDbtTx/p:MndtRltdInf", namespaces=ns)[0]
    assert mandate.xpath("string(p:MndtId)", namespaces=ns) == first.mandate.reference
    assert mandate.xpath("string(p:DtOfSgntr)", namespaces=ns) == "2026-01-05"
    assert tx.xpath("string(p:DbtrAcct/p:Id/p:IBAN)", namespaces=ns) == first.mandate.iban
    assert tree.xpath("string(//p:CdtrSchmeId//p:Othr/p:Id)", namespaces=ns) == "FR12ZZZ123456"
    assert tree.xpath("string(//p:ReqdColltnDt)", namespaces=ns) == "2027-03-05"
    assert tree.xpath("string(//p:GrpHdr/p:MsgId)", namespaces=ns) == "PRLV-20270305-1"
    assert batch.version == version


def test_amounts_and_control_sums_match_the_invoices__P2():
    amounts = [Decimal("34.90"), Decimal("83.90"), Decimal("0.01"), Decimal("1234.56")]
    for amount in amounts:
        sepa_invoices(1, debit_date=MARCH, amount=amount)
    # a partial payment: only what is still due is debited
    partly = sepa_invoices(1, debit_date=MARCH, amount=Decimal("50.00"))[0]
    payment = Payment.objects.create(
        customer=partly.customer, method="cheque", amount=Decimal("20.00"), received_on=MARCH
    )
    Allocation.objects.create(payment=payment, document=partly.document, amount=Decimal("20.00"))

    batch = _create().batch

    expected = sum(amounts, start=Decimal("30.00"))
    tree, ns = _tree(batch), _ns(batch)
    assert tree.xpath("string(//p:GrpHdr/p:NbOfTxs)", namespaces=ns) == "5"
    assert tree.xpath("string(//p:GrpHdr/p:CtrlSum)", namespaces=ns) == f"{expected:.2f}"
    written = [Decimal(a) for a in tree.xpath("//p:InstdAmt/text()", namespaces=ns)]
    assert sum(written) == expected and Decimal("30.00") in written
    assert (batch.count, batch.total) == (5, expected)


def test_creating_the_file_again_gives_the_same_bytes_and_debits__P2():
    sepa_invoices(3, debit_date=MARCH)
    first = _create()
    with first.batch.file.open("rb") as f:
        content = f.read()
    debits = sorted(Debit.objects.values_list("pk", "document_id"))

    again = _create(at=at(date(2027, 3, 4), 9))  # later, same date: nothing new

    assert again.batch.pk == first.batch.pk and again.added == 0 and not again.rewritten
    with again.batch.file.open("rb") as f:
        assert f.read() == content
    assert again.batch.file_sha256 == first.batch.file_sha256
    assert sorted(Debit.objects.values_list("pk", "document_id")) == debits
    assert Event.objects.filter(verb="payments.debit_file_created").count() == 1


def test_an_invoice_is_never_debited_twice__P2():
    sepa_invoices(2, debit_date=MARCH)
    first = _create()
    debit_batch_submit(batch=first.batch, on=date(2027, 3, 3), actor=SYSTEM)
    late = sepa_invoices(1, debit_date=MARCH)[0]

    second = _create(at=at(date(2027, 3, 4)))

    assert second.batch.pk != first.batch.pk and second.batch.rank == 2
    assert second.batch.message_id == "PRLV-20270305-2"
    assert _e2e(second.batch) == [late.document.number]
    assert [b.pk for b in second.earlier] == [first.batch.pk]
    per_document = Debit.objects.values("document_id").distinct().count()
    assert per_document == Debit.objects.count() == 3
    # a third run finds nothing new and writes nothing
    third = _create(at=at(date(2027, 3, 4)))
    assert third.batch.pk == second.batch.pk and third.added == 0
    assert Debit.objects.count() == 3


def test_new_invoices_join_the_file_not_yet_sent__P2():
    sepa_invoices(1, debit_date=MARCH)
    first = _create()
    added = sepa_invoices(1, debit_date=MARCH)[0]
    second = _create()
    assert second.batch.pk == first.batch.pk and second.added == 1 and second.rewritten
    assert added.document.number in _e2e(second.batch)
    assert second.batch.count == 2


def test_frst_only_by_policy_and_for_a_mandate_never_debited__P2():
    never, debited = sepa_invoices(2, debit_date=MARCH)
    Mandate.objects.filter(pk=debited.mandate.pk).update(last_debit_date=date(2027, 2, 5))
    batch = _create().batch
    assert set(Debit.objects.filter(batch=batch).values_list("sequence_type", flat=True)) == {
        "RCUR"
    }

    policy = Policy.get()
    policy.sepa_use_frst = True
    policy.save()
    april = date(2027, 4, 5)
    for customer_invoice in (never, debited):
        Document.objects.create(
            kind=Document.Kind.INVOICE,
            number=f"{customer_invoice.document.number}-A",
            issue_date=date(2027, 4, 2),
            customer=customer_invoice.customer,
            total=Decimal("34.90"),
            payment_method="sepa",
            due_date=april,
        )
    # ``never`` has a debit still being collected in March: not "never debited" any more
    third = sepa_invoices(1, debit_date=april)[0]
    batch = _create(april, at=at(date(2027, 4, 1))).batch
    seq = dict(Debit.objects.filter(batch=batch).values_list("mandate_id", "sequence_type"))
    assert seq == {never.mandate.pk: "RCUR", debited.mandate.pk: "RCUR", third.mandate.pk: "FRST"}
    tree, ns = _tree(batch), _ns(batch)
    groups = tree.xpath("//p:PmtInf/p:PmtTpInf/p:SeqTp/text()", namespaces=ns)
    assert groups == ["FRST", "RCUR"]


def test_file_is_refused_after_the_deadline_unless_forced__P2():
    sepa_invoices(1, debit_date=MARCH)
    assert debit_file_deadline(MARCH) == date(2027, 3, 4)
    # Monday 7 June 2027 (the 5th is a Saturday, P1): the deadline is Friday the 4th
    assert debit_file_deadline(date(2027, 6, 7)) == date(2027, 6, 4)
    # Tuesday 6 April 2027 after Easter Monday: the Thursday before Good Friday
    assert debit_file_deadline(date(2027, 3, 30)) == date(2027, 3, 25)

    with pytest.raises(DomainError) as refused:
        _create(at=at(date(2027, 3, 5), 8))
    assert "au plus tard le 4 mars 2027" in refused.value.message
    assert not DebitBatch.objects.exists() and not Debit.objects.exists()

    forced = _create(at=at(date(2027, 3, 5), 8), force=True)
    assert forced.added == 1
    assert Event.objects.get(verb="payments.debit_file_created").data["forced"] is True


def test_a_late_invoice_goes_to_the_next_debit_date__P3(signup_request):
    on_time = subscriber(signup_request, on=date(2027, 1, 20), email="a@example.org")
    late = subscriber(signup_request, on=date(2027, 1, 20), email="b@example.org")
    in_time = invoice(on_time, issue_date=date(2027, 3, 2), amount=Decimal("34.90"))
    too_late = invoice(late, issue_date=date(2027, 3, 4), amount=Decimal("34.90"))
    assert too_late.due_date == date(2027, 4, 5)  # the billing's own P3 answer

    march = debit_files_for_month(month=date(2027, 3, 1), at=BEFORE, actor=SYSTEM)
    assert [r.debit_date for r in march] == [MARCH]
    assert _e2e(march[0].batch) == [in_time.number]

    april = debit_files_for_month(month=date(2027, 4, 1), at=at(date(2027, 4, 1)), actor=SYSTEM)
    assert [r.debit_date for r in april] == [date(2027, 4, 5)]
    assert _e2e(april[0].batch) == [too_late.number]


def test_the_debit_uses_the_mandate_in_force_for_its_month__P4():
    item = sepa_invoices(1, debit_date=MARCH)[0]
    # a new mandate signed on 26 February applies from the debit of April (P4)
    Mandate.objects.create(
        reference="RUM-NEW",
        customer=item.customer,
        debtor_name="Camille Martin",
        iban="FR7630004000031234567890143",
        bic="BNPAFRPP",
        signature_date=date(2027, 2, 26),
        signed_at=at(date(2027, 2, 26)),
        signature_method=Mandate.SignatureMethod.ONLINE,
        applies_from=date(2027, 4, 1),
    )
    batch = _create().batch
    assert Debit.objects.get(batch=batch).mandate_id == item.mandate.pk


def test_an_invoice_without_mandate_in_force_is_reported_not_debited__P2():
    kept, revoked = sepa_invoices(2, debit_date=MARCH)
    Mandate.objects.filter(pk=revoked.mandate.pk).update(status=Mandate.Status.REVOKED)
    result = _create()
    assert _e2e(result.batch) == [kept.document.number]
    assert result.without_mandate == [revoked.document.number]
    assert result.without_mandate_count == 1


def test_export_query_count_does_not_grow_with_the_invoices__P2():
    sepa_invoices(1, debit_date=date(2027, 2, 5))
    _create(date(2027, 2, 5), at=at(date(2027, 2, 3)))  # first reads of the policy and profile
    sepa_invoices(3, debit_date=MARCH)
    with CaptureQueriesContext(connection) as few:
        _create()
    sepa_invoices(25, debit_date=date(2027, 4, 5))
    with CaptureQueriesContext(connection) as many:
        result = _create(date(2027, 4, 5), at=at(date(2027, 4, 1)))
    assert result.added == 25
    assert len(many) == len(few)
    assert len(few) <= 30


def test_month_with_several_debit_dates_gives_one_file_per_date__P3(tmp_path):
    sepa_invoices(1, debit_date=MARCH)
    sepa_invoices(2, debit_date=date(2027, 3, 22))
    assert debit_dates_of_month(month=date(2027, 3, 1)) == [MARCH, date(2027, 3, 22)]
    output = tmp_path / "prelevements.xml"
    call_command(
        "sepa",
        "export",
        "--month",
        "2027-03",
        "--output",
        str(output),
        "--force",
        "--version",
        "001.08",
    )
    first = tmp_path / "prelevements-2027-03-05.xml"
    second = tmp_path / "prelevements-2027-03-22.xml"
    assert first.exists() and second.exists() and not output.exists()
    schema = pain008_schema("001.08")
    for path, n in ((first, 1), (second, 2)):
        tree = etree.parse(str(path))
        assert schema.validate(tree)
        assert (
            len(tree.xpath("//p:DrctDbtTxInf", namespaces=_ns(DebitBatch(version="001.08")))) == n
        )


def test_command_writes_the_file_of_the_month__P2(tmp_path, capsys):
    sepa_invoices(2, debit_date=MARCH)
    output = tmp_path / "mars.xml"
    call_command("sepa", "export", "--month", "2027-03", "--output", str(output), "--force")
    out = capsys.readouterr().out
    assert "PRLV-20270305-1" in out and "Conforme au schéma pain.008.001.02" in out
    batch = DebitBatch.objects.get()
    assert output.read_bytes() == batch.file.open("rb").read()


def test_settling_pays_the_invoices_and_moves_the_mandates__P2():
    items = sepa_invoices(3, debit_date=MARCH)
    batch = _create().batch
    with pytest.raises(DomainError):
        debit_batch_settle(batch=batch, on=MARCH, actor=SYSTEM)  # not sent yet
    debit_batch_submit(batch=batch, on=date(2027, 3, 3), actor=SYSTEM)
    with pytest.raises(DomainError):
        debit_batch_settle(batch=batch, on=date(2027, 3, 4), actor=SYSTEM)  # before the date

    settled = debit_batch_settle(batch=batch, on=date(2027, 3, 8), actor=SYSTEM)

    assert settled.status == DebitBatch.Status.SETTLED and settled.settled_on == date(2027, 3, 8)
    assert set(Debit.objects.values_list("status", flat=True)) == {Debit.Status.SETTLED}
    payments = Payment.objects.filter(method=Payment.Method.SEPA)
    assert payments.count() == 3
    assert {p.received_on for p in payments} == {MARCH}
    for item in items:
        allocated = Allocation.objects.filter(document=item.document).values_list(
            "amount", flat=True
        )
        assert list(allocated) == [item.document.total]
        item.mandate.refresh_from_db()
        assert item.mandate.last_debit_date == MARCH
    # idempotent
    debit_batch_settle(batch=batch, on=date(2027, 3, 9), actor=SYSTEM)
    assert Payment.objects.count() == 3
    verbs = list(Event.objects.filter(subject_type="debit_batch").values_list("verb", flat=True))
    assert sorted(verbs) == [
        "payments.debit_file_created",
        "payments.debit_file_settled",
        "payments.debit_file_submitted",
    ]


def test_settle_query_count_does_not_grow_with_the_debits__P2():
    sepa_invoices(3, debit_date=MARCH)
    small = _create().batch
    debit_batch_submit(batch=small, on=date(2027, 3, 3), actor=SYSTEM)
    sepa_invoices(20, debit_date=date(2027, 4, 5))
    big = _create(date(2027, 4, 5), at=at(date(2027, 4, 1))).batch
    debit_batch_submit(batch=big, on=date(2027, 4, 1), actor=SYSTEM)
    with CaptureQueriesContext(connection) as few:
        debit_batch_settle(batch=small, on=MARCH, actor=SYSTEM)
    with CaptureQueriesContext(connection) as many:
        debit_batch_settle(batch=big, on=date(2027, 4, 5), actor=SYSTEM)
    assert len(many) == len(few)


def test_missing_creditor_account_is_a_clear_error__P2(settings):
    sepa_invoices(1, debit_date=MARCH)
    settings.RACCORD_SEPA_CREDITOR_IBAN = ""
    with pytest.raises(DomainError) as error:
        _create()
    assert "IBAN du compte de l'opérateur" in error.value.message
