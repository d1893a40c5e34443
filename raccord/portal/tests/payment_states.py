"""What the payments app records for an invoice, done by its own services, for the tests of
the payment state shown with each document (Mes factures, the back-office)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from raccord.billing.models import Document
from raccord.core.events import Actor
from raccord.payments.debits import debit_batch_settle, debit_batch_submit
from raccord.payments.ledger import cheque_key, payment_record
from raccord.payments.models import Debit, Payment
from raccord.payments.tests.money_support import debit_make


def settle_by_debit(document: Document) -> Debit:
    """The invoice's debit, in a file of its due date, went through (P2)."""
    debit = debit_make(document)
    batch = debit_batch_submit(batch=debit.batch, on=debit.batch.debit_date, actor=Actor.system())
    debit_batch_settle(batch=batch, on=batch.debit_date, actor=Actor.system())
    debit.refresh_from_db()
    return debit


def reject_debit(document: Document, *, reason: str = "AM04") -> Debit:
    """The invoice's debit was rejected by the customer's bank before it settled (P6)."""
    return debit_make(document, status=Debit.Status.RETURNED, reason=reason)


def pay_by_cheque(document: Document, *, on: date, amount: Decimal | None = None) -> Payment:
    """An agent records the customer's cheque for the invoice."""
    return payment_record(
        customer=document.customer,
        method="cheque",
        amount=document.total if amount is None else amount,
        received_on=on,
        key=cheque_key(bank="CIC", number=f"{document.number}-{on:%m%d}"),
        reference="Chèque n° 1234567",
        document_ids=[document.pk],
        actor=Actor.system(),
    )
