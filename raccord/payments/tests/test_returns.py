"""Bank returns (P6): pain.002 and camt.054 (001.02, 001.08) R-transactions make the invoice
due again with the bank's reason; the same file twice changes nothing; a bad entry is reported
with its position while the others go in."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum

from raccord.core.errors import DomainError
from raccord.core.models import Event
from raccord.payments.debits import debit_batch_settle, debit_batch_submit
from raccord.payments.models import Allocation, Debit, DunningCase, Payment, ReturnImport
from raccord.payments.returns import returns_import
from raccord.payments.sepa.returns_read import returns_read
from raccord.payments.sepa.returns_write import (
    ReturnSpec,
    camt054_build,
    pain002_build,
    return_specs_for_debits,
)
from raccord.payments.tests.test_debits_factories import (  # noqa: F401 - fixture
    SYSTEM,
    at,
    creditor,
    debit_file,
    sepa_invoices,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("creditor")]
PARIS = ZoneInfo("Europe/Paris")
MARCH = date(2027, 3, 5)
CREATED = datetime(2027, 3, 8, 9, tzinfo=PARIS)


def _sent(n: int = 3, *, settle: bool = False):
    items = sepa_invoices(n, debit_date=MARCH)
    batch = debit_file(MARCH, at(date(2027, 3, 3)))
    debit_batch_submit(batch=batch, on=date(2027, 3, 3), actor=SYSTEM)
    if settle:
        debit_batch_settle(batch=batch, on=MARCH, actor=SYSTEM)
    debits = list(Debit.objects.filter(batch=batch).select_related("batch", "mandate"))
    return items, batch, debits


def _due(document) -> Decimal:
    paid = Allocation.objects.filter(document=document).aggregate(s=Sum("amount"))["s"]
    return document.total - (paid or Decimal("0"))


def _pain002(debits, reason: str = "AM04") -> bytes:
    return pain002_build(
        return_specs_for_debits(debits, reason),
        message_id="REJ-20270306-1",
        created_at=CREATED,
        original_message_id=debits[0].batch.message_id,
    )


def _camt(debits, version: str, reason: str = "AM04") -> bytes:
    return camt054_build(
        return_specs_for_debits(debits, reason),
        version=version,
        message_id=f"CAMT-{version}-1",
        created_at=CREATED,
        booked_on=date(2027, 3, 8),
        account_iban="FR7610278060610001020480101",
    )


def test_pain002_reject_before_settlement_reopens_the_invoice__P6():
    _, batch, debits = _sent(3)
    report = returns_import(
        content=_pain002(debits[:1], "AC04"),
        filename="rejets.xml",
        on=date(2027, 3, 6),
        actor=SYSTEM,
    )
    assert not report.already_imported
    assert (report.record.format, report.record.entries, report.record.matched) == (
        "pain.002.001.03",
        1,
        1,
    )
    debit = Debit.objects.get(pk=debits[0].pk)
    assert debit.status == Debit.Status.RETURNED
    assert debit.return_reason == "AC04"
    assert debit.return_source == f"{report.record.sha256}:1"
    # not settled yet: nothing to reverse, the invoice is simply still due
    assert not Payment.objects.exists()
    assert _due(debit.document) == debit.document.total
    case = DunningCase.objects.get()
    assert case.debit_id == debit.pk and case.reason_code == "AC04"
    event = Event.objects.get(verb="payments.debit_returned")
    assert event.customer_id == debit.customer_id
    assert "AC04 – compte clôturé" in event.summary
    # the settlement afterwards leaves it returned: only the two others are paid
    debit_batch_settle(batch=batch, on=MARCH, actor=SYSTEM)
    assert Payment.objects.filter(method="sepa").count() == 2
    assert Debit.objects.get(pk=debit.pk).status == Debit.Status.RETURNED


@pytest.mark.parametrize("version", ["001.02", "001.08"])
def test_camt054_return_after_settlement_reverses_the_payment__P6(version):
    _, _, debits = _sent(3, settle=True)
    returned = debits[1:]
    report = returns_import(
        content=_camt(returned, version, "MD06"),
        filename=f"camt054-{version}.xml",
        on=date(2027, 3, 9),
        actor=SYSTEM,
    )
    assert report.record.format == f"camt.054.{version}"
    assert (report.record.entries, report.record.matched, report.record.problems) == (2, 2, [])
    for debit in returned:
        debit.refresh_from_db()
        assert debit.status == Debit.Status.RETURNED and debit.return_reason == "MD06"
        assert debit.returned_on == date(2027, 3, 8)  # the bank's booking date
        reversal = Payment.objects.get(debit=debit, method=Payment.Method.SEPA_RETURN)
        assert reversal.amount == -debit.amount
        assert _due(debit.document) == debit.document.total
    kept = Debit.objects.get(pk=debits[0].pk)
    assert kept.status == Debit.Status.SETTLED and _due(kept.document) == 0
    assert DunningCase.objects.count() == 2


def test_importing_the_same_file_again_changes_nothing__P6():
    _, _, debits = _sent(2, settle=True)
    content = _camt(debits, "001.08")
    returns_import(content=content, filename="a.xml", on=date(2027, 3, 9), actor=SYSTEM)
    state = (
        Payment.objects.count(),
        Allocation.objects.count(),
        Event.objects.count(),
        DunningCase.objects.count(),
        sorted(Debit.objects.values_list("pk", "status", "return_source")),
    )
    again = returns_import(
        content=content, filename="a-copie.xml", on=date(2027, 3, 10), actor=SYSTEM
    )
    assert again.already_imported
    assert ReturnImport.objects.count() == 1
    assert state == (
        Payment.objects.count(),
        Allocation.objects.count(),
        Event.objects.count(),
        DunningCase.objects.count(),
        sorted(Debit.objects.values_list("pk", "status", "return_source")),
    )
    # the same returns in another file (e.g. the pain.002 then the camt.054): reported, no change
    other = returns_import(
        content=_pain002(debits), filename="b.xml", on=date(2027, 3, 10), actor=SYSTEM
    )
    assert other.record.matched == 0
    assert [p["position"] for p in other.problems] == [1, 2]
    assert all("déjà rejeté" in p["error"] for p in other.problems)
    assert Payment.objects.count() == state[0]


def test_unknown_and_malformed_entries_are_reported_with_their_position__P6():
    _, batch, debits = _sent(3)
    specs = return_specs_for_debits(debits, "AM04")
    unknown = ReturnSpec(
        end_to_end_id="F1999-999999",
        amount=Decimal("10.00"),
        reason_code="MS02",
        original_payment_id=specs[0].original_payment_id,
    )
    specs.insert(1, unknown)
    content = pain002_build(
        specs, message_id="REJ-1", created_at=CREATED, original_message_id=batch.message_id
    )
    # the third entry loses its reason code, the fourth gets an unreadable amount
    parts = content.split(b"<TxInfAndSts>")
    parts[3] = parts[3].replace(b"<Cd>AM04</Cd>", b"<Cd></Cd>")
    parts[4] = parts[4].replace(f">{debits[2].amount}<".encode(), b">12,5O<")
    content = b"<TxInfAndSts>".join(parts)

    report = returns_import(content=content, filename="r.xml", on=date(2027, 3, 6), actor=SYSTEM)

    assert (report.record.entries, report.record.matched) == (4, 1)
    problems = {p["position"]: p for p in report.problems}
    assert sorted(problems) == [2, 3, 4]
    assert (
        "aucun prélèvement" in problems[2]["error"]
        and problems[2]["end_to_end_id"] == "F1999-999999"
    )
    assert "code motif absent" in problems[3]["error"]
    assert "montant illisible" in problems[4]["error"]
    lines = content.decode().splitlines()
    for position in (2, 3, 4):
        assert lines[problems[position]["line"] - 1].strip() == "<TxInfAndSts>"
    assert Debit.objects.get(pk=debits[0].pk).status == Debit.Status.RETURNED
    assert {d.status for d in Debit.objects.exclude(pk=debits[0].pk)} == {Debit.Status.COLLECTING}


def test_a_broken_file_is_refused_whole__P6():
    _, _, debits = _sent(2)
    content = _pain002(debits)
    with pytest.raises(DomainError) as broken:
        returns_import(content=content[:-40], filename="t.xml", on=date(2027, 3, 6), actor=SYSTEM)
    assert "illisible" in broken.value.message
    with pytest.raises(DomainError) as foreign:
        returns_import(
            content=b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>',
            filename="x.xml",
            on=date(2027, 3, 6),
            actor=SYSTEM,
        )
    assert "pain.002.001.03" in foreign.value.message
    assert not ReturnImport.objects.exists()
    assert set(Debit.objects.values_list("status", flat=True)) == {Debit.Status.COLLECTING}


def test_a_return_matches_the_debit_of_its_original_file__P6():
    """A re-presented invoice has two debits with the same end-to-end id: the file's original
    message id says which one came back."""
    _, batch, debits = _sent(1)
    first = debits[0]
    returns_import(content=_pain002(debits), filename="1.xml", on=date(2027, 3, 6), actor=SYSTEM)
    case = DunningCase.objects.get()
    assert case.represent_on == date(2027, 4, 5)  # AM04: presented again at the next date
    april = debit_file(date(2027, 4, 5), at(date(2027, 4, 1)))
    second = Debit.objects.get(batch=april)
    assert second.end_to_end_id == first.end_to_end_id
    # an old file about the first debit, read again under another name: the first one only
    old = pain002_build(
        return_specs_for_debits([first], "AM04"),
        message_id="REJ-OLD",
        created_at=CREATED,
        original_message_id=batch.message_id,
    )
    report = returns_import(content=old, filename="old.xml", on=date(2027, 4, 2), actor=SYSTEM)
    assert report.record.matched == 0 and "déjà rejeté" in report.problems[0]["error"]
    assert Debit.objects.get(pk=second.pk).status == Debit.Status.COLLECTING


def test_reader_yields_non_returns_as_skipped_entries__P6():
    _, _, debits = _sent(1)
    content = _camt(debits, "001.02")
    # a camt.054 with a plain credit entry (no RtrInf) before the return
    credit = (
        b'<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><NtryDtls><TxDtls>'
        b"<Refs><EndToEndId>X</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>"
    )
    content = content.replace(b"<Ntry>", credit + b"<Ntry>", 1)
    entries = list(returns_read(io.BytesIO(content), file_format="camt.054.001.02"))
    assert [(e.position, e.is_return) for e in entries] == [(1, False), (2, True)]
    assert entries[1].end_to_end_id == debits[0].end_to_end_id
    assert entries[1].amount == debits[0].amount


def test_command_imports_a_returns_file__P6(tmp_path, capsys):
    _, _, debits = _sent(2)
    path = tmp_path / "rejets.xml"
    path.write_bytes(_pain002(debits[:1], "MS02"))
    call_command("sepa", "import-returns", str(path), "--on", "2027-03-06")
    assert "1 rejet(s) lu(s), 1 appliqué(s)" in capsys.readouterr().out
    call_command("sepa", "import-returns", str(path), "--on", "2027-03-07")
    assert "déjà importé" in capsys.readouterr().out
    assert Debit.objects.filter(status=Debit.Status.RETURNED).count() == 1


@pytest.mark.parametrize("file_format", ["pain.002.001.03", "camt.054.001.02", "camt.054.001.08"])
def test_command_writes_a_returns_file_for_the_demo__P6(tmp_path, capsys, file_format):
    _, batch, debits = _sent(3)
    path = tmp_path / "rejets.xml"
    call_command(
        "sepa",
        "returns-file",
        batch.message_id,
        "--output",
        str(path),
        "--format",
        file_format,
        "--reason",
        "MS02",
        "--count",
        "2",
    )
    assert "2 rejet(s) MS02" in capsys.readouterr().out
    entries = list(returns_read(io.BytesIO(path.read_bytes()), file_format=file_format))
    assert [(e.end_to_end_id, e.reason_code, e.amount) for e in entries] == [
        (d.end_to_end_id, "MS02", d.amount) for d in debits[:2]
    ]
    call_command("sepa", "import-returns", str(path), "--on", "2027-03-08")
    assert Debit.objects.filter(status=Debit.Status.RETURNED).count() == 2
