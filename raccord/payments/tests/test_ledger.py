"""Payments recorded by agents: allocation, partial and over payments, idempotency, P5."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from raccord.core.errors import DomainError
from raccord.core.models import Event
from raccord.payments.ledger import cheque_key, credit_allocate, payment_record
from raccord.payments.models import Allocation, Debit, Payment
from raccord.payments.selectors import (
    customer_balance,
    customer_credit,
    customer_documents_status,
    customer_dues,
    documents_outstanding,
)
from raccord.payments.tests.money_support import *  # noqa: F403
from raccord.payments.tests.money_support import debit_make, invoice, system

pytestmark = pytest.mark.django_db

MONTH = Decimal("34.90")  # THD Radio 30 + Téléphonie, a full month


def _cheque(customer, amount, received_on, number="1234567", **kwargs):
    return payment_record(
        customer=customer,
        method=Payment.Method.CHEQUE,
        amount=Decimal(amount),
        received_on=received_on,
        reference=f"Chèque n° {number}",
        key=cheque_key(bank="La Banque Postale", number=number),
        actor=system(),
        **kwargs,
    )


def _status(customer, document, today):
    return next(
        s
        for s in customer_documents_status(customer=customer, today=today)
        if s.document == document
    )


def test_a_cheque_pays_the_oldest_invoice_first_and_keeps_the_rest_as_credit(make_contract):
    # given two invoices of a cheque payer (February and March)
    contract = make_contract("cheque")
    customer = contract.customer
    february, march = invoice(contract, 2), invoice(contract, 3)
    assert february.total == march.total == MONTH
    # when a cheque of 80 € arrives
    payment = _cheque(customer, "80.00", date(2027, 3, 8))
    # then February then March are paid, 10,20 € stays as credit
    allocations = {a.document_id: a.amount for a in payment.allocations.all()}
    assert allocations == {february.pk: MONTH, march.pk: MONTH}
    assert customer_credit(customer=customer) == Decimal("80.00") - 2 * MONTH
    assert documents_outstanding(document_ids=[february.pk, march.pk]) == {
        february.pk: Decimal("0.00"),
        march.pk: Decimal("0.00"),
    }
    balance = customer_balance(customer=customer)
    assert balance.balance == 2 * MONTH - Decimal("80.00")
    assert balance.owed_to_customer == Decimal("10.20")
    event = Event.objects.get(verb="payment.recorded", customer_id=customer.pk)
    assert "10,20\u00a0€ en avoir" in event.summary


def test_a_partial_payment_leaves_the_rest_due(make_contract):
    contract = make_contract("cheque")
    customer = contract.customer
    march = invoice(contract, 3)
    _cheque(customer, "20.00", date(2027, 3, 5))
    status = _status(customer, march, date(2027, 3, 6))
    assert status.outstanding == MONTH - Decimal("20.00")
    assert status.partly_paid
    assert status.label == "à régler avant le 10 mars"
    dues = customer_dues(customer=customer, today=date(2027, 3, 6))
    assert dues.to_pay == MONTH - Decimal("20.00")
    assert dues.action_needed


def test_the_chosen_invoice_is_paid_before_older_ones(make_contract):
    contract = make_contract("cheque")
    customer = contract.customer
    february, march = invoice(contract, 2), invoice(contract, 3)
    payment = _cheque(customer, "34.90", date(2027, 3, 8), document_ids=[march.pk])
    assert [(a.document_id, a.amount) for a in payment.allocations.all()] == [(march.pk, MONTH)]
    assert documents_outstanding(document_ids=[february.pk])[february.pk] == MONTH


def test_recording_the_same_cheque_twice_changes_nothing(make_contract):
    contract = make_contract("cheque")
    customer = contract.customer
    invoice(contract, 3)
    first = _cheque(customer, "34.90", date(2027, 3, 8), number="0000123")
    second = _cheque(customer, "34.90", date(2027, 3, 8), number=" 0000 123 ")
    assert first.pk == second.pk
    assert Payment.objects.count() == 1
    assert Allocation.objects.count() == 1
    assert Event.objects.filter(verb="payment.recorded").count() == 1


def test_the_same_cheque_for_another_amount_is_refused(make_contract):
    contract = make_contract("cheque")
    invoice(contract, 3)
    _cheque(contract.customer, "34.90", date(2027, 3, 8))
    with pytest.raises(DomainError) as error:
        _cheque(contract.customer, "30.00", date(2027, 3, 8))
    assert error.value.field == "reference"


@pytest.mark.parametrize(
    ("received_on", "late"),
    [(date(2027, 3, 9), False), (date(2027, 3, 10), True), (date(2027, 3, 20), True)],
)
def test_a_cheque_received_on_day_10_or_later_is_late__P5(make_contract, received_on, late):
    contract = make_contract("cheque")
    march = invoice(contract, 3)
    assert march.due_date == date(2027, 3, 10)
    payment = _cheque(contract.customer, "34.90", received_on)
    assert payment.late is late
    event = Event.objects.get(verb="payment.recorded")
    assert event.data["late"] is late


def test_status_of_an_unpaid_cheque_invoice_turns_late_on_day_10__P5(make_contract):
    contract = make_contract("cheque")
    customer = contract.customer
    march = invoice(contract, 3)
    assert _status(customer, march, date(2027, 3, 9)).label == "à régler avant le 10 mars"
    assert _status(customer, march, date(2027, 3, 10)).label == "en retard"


def test_a_transfer_is_not_flagged_late(make_contract):
    contract = make_contract("cheque")
    invoice(contract, 3)
    payment = payment_record(
        customer=contract.customer,
        method=Payment.Method.TRANSFER,
        amount=Decimal("34.90"),
        received_on=date(2027, 3, 25),
        reference="VIR 2027-03-25 MARTIN",
        key="transfer:VIR-1",
        actor=system(),
    )
    assert payment.late is False


def test_an_invoice_being_collected_is_left_to_the_bank(make_contract):
    # given a SEPA invoice in a debit file (being collected) and an older one returned
    contract = make_contract("sepa")
    customer = contract.customer
    february, march = invoice(contract, 2), invoice(contract, 3)
    debit_make(february, status=Debit.Status.RETURNED, reason="AM04")
    debit_make(march, status=Debit.Status.COLLECTING)
    today = date(2027, 3, 6)
    assert _status(customer, march, today).label == "en cours de prélèvement"
    returned = _status(customer, february, today)
    assert returned.label == "prélèvement rejeté – à régler"
    assert returned.return_reason == "provision insuffisante (AM04)"
    # when the customer pays 50 € by card: February is paid, March is not touched
    payment = payment_record(
        customer=customer,
        method=Payment.Method.CARD,
        amount=Decimal("50.00"),
        received_on=today,
        key="card:AUTH42",
        actor=system(),
    )
    assert [a.document_id for a in payment.allocations.all()] == [february.pk]
    assert customer_credit(customer=customer) == Decimal("50.00") - MONTH
    # and choosing the collected invoice is refused
    with pytest.raises(DomainError, match="en cours de prélèvement"):
        payment_record(
            customer=customer,
            method=Payment.Method.CARD,
            amount=Decimal("34.90"),
            received_on=today,
            document_ids=[march.pk],
            actor=system(),
        )


def test_credit_pays_the_next_invoice(make_contract):
    contract = make_contract("cheque")
    customer = contract.customer
    invoice(contract, 2)
    _cheque(customer, "50.00", date(2027, 2, 8))
    assert customer_credit(customer=customer) == Decimal("50.00") - MONTH
    march = invoice(contract, 3)
    created = credit_allocate(customer=customer, on=date(2027, 3, 2), actor=system())
    assert [(a.document_id, a.amount) for a in created] == [(march.pk, Decimal("50.00") - MONTH)]
    assert customer_credit(customer=customer) == Decimal("0.00")
    # idempotent
    assert credit_allocate(customer=customer, on=date(2027, 3, 2), actor=system()) == []


def test_balance_equals_outstanding_minus_credit(make_contract):
    contract = make_contract("cheque")
    customer = contract.customer
    for month in (2, 3, 4):
        invoice(contract, month)
    _cheque(customer, "12.34", date(2027, 3, 1), number="1")
    _cheque(customer, "40.00", date(2027, 3, 2), number="2")
    statuses = customer_documents_status(customer=customer, today=date(2027, 4, 3))
    outstanding = sum(s.outstanding for s in statuses)
    assert customer_balance(customer=customer).balance == outstanding - customer_credit(
        customer=customer
    )
    assert customer_balance(customer=customer).balance == 3 * MONTH - Decimal("52.34")


@pytest.mark.parametrize("amount", ["0", "-5.00", "1.001"])
def test_bad_amounts_are_refused(make_contract, amount):
    contract = make_contract("cheque")
    with pytest.raises(DomainError) as error:
        _cheque(contract.customer, amount, date(2027, 3, 8))
    assert error.value.field == "amount"
    assert Payment.objects.count() == 0


def test_another_customers_invoice_cannot_be_chosen(make_contract):
    mine, theirs = make_contract("cheque"), make_contract("cheque", first_name="Louis")
    their_invoice = invoice(theirs, 3)
    with pytest.raises(DomainError):
        _cheque(mine.customer, "34.90", date(2027, 3, 8), document_ids=[their_invoice.pk])
    assert Payment.objects.count() == 0


def test_dunning_is_told_after_a_payment(make_contract, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "raccord.payments.ledger.dunning_settle",
        lambda **kwargs: calls.append((kwargs["customer"].pk, kwargs["on"])),
    )
    contract = make_contract("cheque")
    invoice(contract, 3)
    _cheque(contract.customer, "34.90", date(2027, 3, 8))
    assert calls == [(contract.customer.pk, date(2027, 3, 8))]


def test_the_same_cheque_for_another_customer_is_refused(make_contract):
    first, second = make_contract("cheque"), make_contract("cheque", first_name="Louis")
    _cheque(first.customer, "34.90", date(2027, 3, 8))
    with pytest.raises(DomainError, match="déjà enregistré"):
        _cheque(second.customer, "34.90", date(2027, 3, 8))
    assert Payment.objects.count() == 1
