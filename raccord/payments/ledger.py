"""The ledger: payments an agent records (cheque, transfer, card) and their allocation to
invoices (partial payments, overpayment kept as credit), P5's late cheques.

Allocation order: the invoices the agent chose, in the order given, then the customer's other
invoices still due, oldest first; what is left is the customer's credit (an unallocated part of
the payment) and pays the next invoices when ``credit_allocate`` runs (it runs after every
payment recorded). An invoice a direct debit is collecting right now is never allocated: the
bank is already taking that money."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from raccord.billing.explain.french import euros
from raccord.billing.models import Document
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.money import CENT, ZERO
from raccord.customers.models import Customer
from raccord.payments.dunning import dunning_settle
from raccord.payments.models import Allocation, Payment
from raccord.payments.selectors import (
    collecting_document_ids,
    customer_credit,
    due_invoices,
)

PARIS = ZoneInfo("Europe/Paris")

# What an agent records; SEPA debits, returns and refunds are written by their own services.
AGENT_METHODS = (Payment.Method.CHEQUE, Payment.Method.TRANSFER, Payment.Method.CARD)


def noon(day: date) -> datetime:
    """The business time of an event that only has a date."""
    return datetime.combine(day, time(12), tzinfo=PARIS)


def cheque_key(*, bank: str, number: str) -> str:
    """The idempotency key of a cheque: its bank and number, spaces and case ignored."""
    bank_part = "".join(bank.split()).upper()
    number_part = "".join(number.split()).upper()
    return f"cheque:{bank_part}:{number_part}"[:100]


@dataclass(frozen=True)
class _Share:
    document: Document
    amount: Decimal


def _lock_customer(customer: Customer) -> Customer:
    # One writer at a time per customer: two payments never allocate the same euro twice.
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _plan(*, customer: Customer, amount: Decimal, chosen: Sequence[int] | None) -> list[_Share]:
    """Which invoices ``amount`` pays, and how much of each."""
    due = list(due_invoices(customer=customer))
    collecting = collecting_document_ids(document_ids=[d.pk for d in due])
    by_id = {d.pk: d for d in due}
    ordered: list[Document] = []
    for document_id in chosen or []:
        document = by_id.get(document_id)
        if document is None:
            number = (
                Document.objects.filter(pk=document_id, customer=customer)
                .values_list("number", flat=True)
                .first()
            )
            if number is None:
                raise DomainError("Cette facture n'est pas celle de ce client.", field="documents")
            raise DomainError(f"La facture {number} n'a plus rien à régler.", field="documents")
        if document.pk in collecting:
            raise DomainError(
                f"La facture {document.number} est en cours de prélèvement : la banque "
                "encaisse déjà ce montant.",
                field="documents",
            )
        if document not in ordered:
            ordered.append(document)
    ordered += [d for d in due if d not in ordered and d.pk not in collecting]
    shares = []
    left = amount
    for document in ordered:
        if left <= 0:
            break
        outstanding = document.total - document.allocated  # type: ignore[attr-defined]
        share = min(left, outstanding)
        if share > 0:
            shares.append(_Share(document, share))
            left -= share
    return shares


def _check_amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if amount <= 0:
        raise DomainError("Le montant doit être positif.", field="amount")
    if amount != amount.quantize(CENT):
        raise DomainError("Le montant s'écrit en euros et centimes.", field="amount")
    if amount >= Decimal("100000000"):
        raise DomainError("Ce montant est trop élevé.", field="amount")
    return amount.quantize(CENT)


def _same_payment(
    existing: Payment, *, customer: Customer, amount: Decimal, method: str
) -> Payment:
    """The payment already recorded under a key, if it is the same one; else a refusal."""
    if (
        existing.customer_id != customer.pk
        or existing.amount != amount
        or existing.method != method
    ):
        raise DomainError(
            "Ce paiement est déjà enregistré avec un autre client ou un autre montant "
            f"({existing.reference or existing.key}).",
            field="reference",
        )
    return existing


@transaction.atomic
def payment_record(
    *,
    customer: Customer,
    method: str,
    amount: Decimal,
    received_on: date,
    actor: Actor,
    reference: str = "",
    key: str | None = None,
    document_ids: Sequence[int] | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Payment:
    """Record money received from ``customer`` and allocate it (module docstring).

    Idempotent on ``key`` (a cheque's bank and number, a transfer's bank reference): recording
    the same payment again returns the first one; the same key for another customer or amount
    is refused. P5: a cheque received on or after the due date of an invoice it pays is late.
    Then dunning is told (``dunning_settle``)."""
    if method not in AGENT_METHODS:
        raise DomainError("Mode de paiement inconnu.", field="method")
    amount = _check_amount(amount)
    key = (key or "").strip() or None
    # Locked first: the same payment submitted twice at once is seen by the second call.
    customer = _lock_customer(customer)
    if key is not None:
        existing = Payment.objects.filter(key=key).first()
        if existing is not None:
            return _same_payment(existing, customer=customer, amount=amount, method=method)
    shares = _plan(customer=customer, amount=amount, chosen=document_ids)
    late = method == Payment.Method.CHEQUE and any(
        s.document.due_date is not None and received_on >= s.document.due_date for s in shares
    )
    try:
        with transaction.atomic():  # a savepoint: the same key recorded for another customer
            payment = Payment.objects.create(
                customer=customer,
                method=method,
                amount=amount,
                received_on=received_on,
                reference=reference.strip()[:100],
                late=late,
                note=note.strip()[:300],
                recorded_by=actor.user if actor.user is not None and actor.user.pk else None,
                key=key,
            )
    except IntegrityError:
        existing = Payment.objects.filter(key=key).first()
        if existing is None:
            raise
        return _same_payment(existing, customer=customer, amount=amount, method=method)
    Allocation.objects.bulk_create(
        [Allocation(payment=payment, document=s.document, amount=s.amount) for s in shares]
    )
    credit = amount - sum((s.amount for s in shares), start=ZERO)
    label = payment.get_method_display()
    summary = f"{label} de {euros(amount)} reçu le {received_on:%d/%m/%Y}"
    if payment.reference:
        summary += f" ({payment.reference})"
    if shares:
        summary += " : " + ", ".join(f"{s.document.number} {euros(s.amount)}" for s in shares)
    if credit > 0:
        summary += f", {euros(credit)} en avoir"
    if late:
        summary += " – en retard (P5)"
    event_record(
        actor=actor,
        verb="payment.recorded",
        at=at or noon(received_on),
        subject_type="payment",
        subject_id=payment.pk,
        customer_id=customer.pk,
        summary=summary,
        data={
            "method": method,
            "amount": str(amount),
            "received_on": received_on.isoformat(),
            "reference": payment.reference,
            "allocations": [
                {"document": s.document.number, "amount": str(s.amount)} for s in shares
            ],
            "credit": str(credit),
            "late": late,
        },
    )
    # An older credit pays what this payment did not (nothing when this one had money left).
    _credit_spread(customer=customer, on=received_on, actor=actor, at=at)
    dunning_settle(customer=customer, on=received_on, actor=actor)
    return payment


def _unallocated(customer: Customer) -> list[tuple[Payment, Decimal]]:
    """The customer's payments that still have money not allocated, oldest first."""
    result = []
    payments = (
        Payment.objects.filter(customer=customer, amount__gt=0)
        .prefetch_related("allocations")
        .order_by("received_on", "id")
    )
    for payment in payments:
        left = payment.amount - sum((a.amount for a in payment.allocations.all()), start=ZERO)
        if left > 0:
            result.append((payment, left))
    return result


def _credit_spread(
    *, customer: Customer, on: date, actor: Actor, at: datetime | None
) -> list[Allocation]:
    if customer_credit(customer=customer) <= 0:
        return []
    due = list(due_invoices(customer=customer))
    collecting = collecting_document_ids(document_ids=[d.pk for d in due])
    due = [d for d in due if d.pk not in collecting]
    if not due:
        return []
    outstanding = {d.pk: d.total - d.allocated for d in due}  # type: ignore[attr-defined]
    created: list[Allocation] = []
    for payment, left in _unallocated(customer):
        for document in due:
            if left <= 0:
                break
            share = min(left, outstanding[document.pk])
            if share <= 0:
                continue
            created.append(Allocation(payment=payment, document=document, amount=share))
            outstanding[document.pk] -= share
            left -= share
    if not created:
        return []
    Allocation.objects.bulk_create(created)
    event_record(
        actor=actor,
        verb="payment.credit_allocated",
        at=at or noon(on),
        subject_type="customer",
        subject_id=customer.pk,
        customer_id=customer.pk,
        summary="Avoir du client affecté : "
        + ", ".join(f"{a.document.number} {euros(a.amount)}" for a in created),
        data={
            "allocations": [
                {"payment": a.payment_id, "document": a.document.number, "amount": str(a.amount)}
                for a in created
            ]
        },
    )
    return created


@transaction.atomic
def credit_allocate(
    *, customer: Customer, on: date, actor: Actor, at: datetime | None = None
) -> list[Allocation]:
    """Spread the customer's credit (money received and not allocated) over the invoices still
    due, oldest first (e.g. after a new invoice is issued). Idempotent: nothing to spread, no
    change. Then dunning is told."""
    customer = _lock_customer(customer)
    created = _credit_spread(customer=customer, on=on, actor=actor, at=at)
    if created:
        dunning_settle(customer=customer, on=on, actor=actor)
    return created
