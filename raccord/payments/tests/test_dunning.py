"""Dunning (P6): a returned debit sends a reminder at once, may add a rejection fee, presents
the invoice again at the next debit date when that can work, suspends the line after the
policy's delay, and lifts it when the invoice is paid; every step in the customer's history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from raccord.billing.models import LineKind, PendingItem
from raccord.contracts.models import Contract
from raccord.core.models import Event, Policy
from raccord.payments.debits import debit_batch_settle, debit_batch_submit, debit_file_create
from raccord.payments.dunning import dunning_daily_run, dunning_settle, representation_date
from raccord.payments.models import Allocation, Debit, DunningCase, Payment
from raccord.payments.returns import returns_import
from raccord.payments.sepa.returns_write import pain002_build, return_specs_for_debits
from raccord.payments.tests.test_debits_factories import (  # noqa: F401 - fixture
    CREDITOR_IBAN,
    SYSTEM,
    at,
    creditor,
    debit_file,
    invoice,
    subscriber,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("creditor")]
PARIS = ZoneInfo("Europe/Paris")
MARCH, APRIL = date(2027, 3, 5), date(2027, 4, 5)
RETURNED_ON = date(2027, 3, 6)
_files = iter(range(1, 1000))


@pytest.fixture
def line(signup_request) -> Contract:
    return subscriber(signup_request, on=date(2027, 1, 20), email="camille@example.org")


@pytest.fixture
def debited(line):
    """The March invoice of ``line`` in a file sent to the bank."""
    document = invoice(line, issue_date=date(2027, 3, 2), amount=Decimal("34.90"))
    batch = debit_file(MARCH, at(date(2027, 3, 3)))
    debit_batch_submit(batch=batch, on=date(2027, 3, 3), actor=SYSTEM)
    return Debit.objects.select_related("batch", "mandate").get(document=document)


def _return(debit: Debit, reason: str, on: date = RETURNED_ON):
    content = pain002_build(
        return_specs_for_debits([debit], reason),
        message_id=f"REJ-{next(_files)}",
        created_at=datetime(2027, 3, 6, 8, tzinfo=PARIS),
        original_message_id=debit.batch.message_id,
    )
    return returns_import(content=content, filename="rejets.xml", on=on, actor=SYSTEM)


def _pay(case: DunningCase, on: date) -> None:
    """A cheque for what is due, recorded as the money helper's ledger would."""
    payment = Payment.objects.create(
        customer=case.customer, method="cheque", amount=case.document.total, received_on=on
    )
    Allocation.objects.create(payment=payment, document=case.document, amount=case.document.total)


def _verbs(customer_id: int) -> list[str]:
    return list(
        Event.objects.filter(customer_id=customer_id, verb__startswith="dunning.")
        .order_by("id")
        .values_list("verb", flat=True)
    )


def test_a_return_sends_a_reminder_at_once_with_how_to_pay__P6(
    debited, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _return(debited, "AM04")

    case = DunningCase.objects.get()
    assert (case.opened_on, case.reminder_sent_on) == (RETURNED_ON, RETURNED_ON)
    assert case.represent_on == APRIL  # next debit date at least 2 days away (P1, P3)
    assert case.suspend_on == date(2027, 3, 21)  # 15 days (policy)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [case.customer.email]
    assert case.document.number in message.subject
    body = message.body
    assert "provision insuffisante (code AM04)" in body
    assert "34,90\u00a0€" in body
    assert "présentée à nouveau au prélèvement le 5 avril 2027" in body
    assert "4 rue du Relais, 67600 Sélestat" in body  # where to send a cheque
    assert CREDITOR_IBAN in body  # where to send a transfer
    assert "suspendue à partir du 21 mars 2027" in body
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "5 avril 2027" in html and case.document.number in html
    assert _verbs(case.customer_id) == [
        "dunning.opened",
        "dunning.representation_scheduled",
        "dunning.reminder_sent",
    ]


def test_rejection_fee_waits_for_the_next_invoice_by_policy__P6(debited):
    policy = Policy.get()
    policy.dunning_rejection_fee = Decimal("7.50")
    policy.save()
    _return(debited, "AM04")
    item = PendingItem.objects.get()
    assert item.kind == LineKind.REJECTION_FEE
    assert item.amount == Decimal("7.50") and item.vat_rate == 0
    assert item.created_on == RETURNED_ON and item.document is None
    assert item.contract_id == debited.document.lines.first().contract_id
    assert item.data["invoice"] == debited.end_to_end_id
    assert item.data["debit_date"] == "2027-03-05"
    assert item.data["reason"] == "provision insuffisante"
    assert DunningCase.objects.get().fee_item == item
    assert "dunning.fee_added" in _verbs(item.customer_id)


def test_no_rejection_fee_by_default__P6(debited):
    _return(debited, "AM04")
    assert not PendingItem.objects.exists()


@pytest.mark.parametrize(
    ("reason", "represent"),
    [("AM04", True), ("MS03", True), ("MS02", False), ("AC04", False), ("MD06", False)],
)
def test_presented_again_only_when_it_can_work__P6(debited, reason, represent):
    _return(debited, reason)
    assert (DunningCase.objects.get().represent_on == APRIL) is represent


def test_no_representation_when_the_policy_says_no__P6(debited):
    policy = Policy.get()
    policy.dunning_represent = False
    policy.save()
    _return(debited, "AM04")
    assert DunningCase.objects.get().represent_on is None


def test_line_suspended_after_the_delay_then_reactivated_when_paid__P6(debited, line):
    _return(debited, "MS02")
    assert dunning_daily_run(on=date(2027, 3, 20), actor=SYSTEM) == []
    line.refresh_from_db()
    assert line.suspended_on is None

    changed = dunning_daily_run(on=date(2027, 3, 21), actor=SYSTEM)

    assert changed == [debited.end_to_end_id]
    line.refresh_from_db()
    assert line.suspended_on == date(2027, 3, 21)
    assert debited.end_to_end_id in line.suspension_reason
    case = DunningCase.objects.get()
    assert (case.status, case.suspended_on) == (DunningCase.Status.SUSPENDED, date(2027, 3, 21))
    assert dunning_daily_run(on=date(2027, 3, 22), actor=SYSTEM) == []  # nothing more

    dunning_settle(customer=case.customer, on=date(2027, 3, 25), actor=SYSTEM)  # not paid yet
    assert DunningCase.objects.get().status == DunningCase.Status.SUSPENDED

    _pay(case, date(2027, 3, 25))
    dunning_settle(customer=case.customer, on=date(2027, 3, 25), actor=SYSTEM)

    case.refresh_from_db()
    line.refresh_from_db()
    assert (case.status, case.closed_on) == (DunningCase.Status.PAID, date(2027, 3, 25))
    assert line.suspended_on is None
    assert _verbs(case.customer_id)[-2:] == ["dunning.suspended", "dunning.closed"]
    contract_verbs = Event.objects.filter(subject_type="contract", subject_id=line.pk)
    assert {"contract.suspended", "contract.reactivated"} <= set(
        contract_verbs.values_list("verb", flat=True)
    )


def test_paid_before_the_suspension_date_is_never_suspended__P6(debited, line):
    _return(debited, "AM04")
    _pay(DunningCase.objects.get(), date(2027, 3, 10))  # dunning_settle not even called
    assert dunning_daily_run(on=date(2027, 3, 21), actor=SYSTEM) == []
    line.refresh_from_db()
    assert line.suspended_on is None
    assert DunningCase.objects.get().status == DunningCase.Status.PAID


def test_representation_settled_closes_the_case_and_lifts_the_suspension__P6(debited, line):
    _return(debited, "AM04")
    dunning_daily_run(on=date(2027, 3, 21), actor=SYSTEM)
    april = debit_file(APRIL, at(date(2027, 4, 1)))
    again = Debit.objects.get(batch=april)
    assert again.document_id == debited.document_id and again.amount == Decimal("34.90")
    debit_batch_submit(batch=april, on=date(2027, 4, 1), actor=SYSTEM)

    debit_batch_settle(batch=april, on=APRIL, actor=SYSTEM)

    case = DunningCase.objects.get()
    line.refresh_from_db()
    assert (case.status, case.closed_on) == (DunningCase.Status.PAID, APRIL)
    assert line.suspended_on is None


def test_a_representation_returned_again_is_not_presented_a_third_time__P6(debited, line):
    _return(debited, "AM04")
    april = debit_file(APRIL, at(date(2027, 4, 1)))
    debit_batch_submit(batch=april, on=date(2027, 4, 1), actor=SYSTEM)
    second = Debit.objects.select_related("batch", "mandate").get(batch=april)

    _return(second, "AM04", on=date(2027, 4, 6))

    case = DunningCase.objects.get()  # the same case goes on
    assert case.debit_id == debited.pk
    assert case.represent_on is None and case.reason_code == "AM04"
    assert case.suspend_on == date(2027, 3, 21)  # the unpaid clock kept running
    assert "dunning.returned_again" in _verbs(case.customer_id)
    may = debit_file_create(debit_date=date(2027, 5, 5), at=at(date(2027, 5, 3)), actor=SYSTEM)
    assert may.batch is None


@pytest.mark.parametrize(
    ("returned_on", "expected"),
    [
        (date(2027, 3, 6), APRIL),  # Saturday: 5 April is a Monday, its file due on the 2nd
        (date(2027, 4, 2), APRIL),  # the last day the April file can be made
        (date(2027, 4, 3), date(2027, 5, 5)),  # too late for April's file (P2)
        (date(2027, 4, 4), date(2027, 5, 5)),  # and 5 April is only a day away (P3)
    ],
)
def test_representation_date_leaves_time_for_the_notice_and_the_file__P2_P3_P6(
    returned_on, expected
):
    assert representation_date(on=returned_on, policy=Policy.get()) == expected
