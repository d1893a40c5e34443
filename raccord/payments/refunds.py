"""Refunds of credit notes (B6): compensation, transfer file, cheques.

A credit note gives money back to the customer. ``refunds_prepare`` handles each credit note
not yet given back:

1. **Compensation** — if the customer has invoices still due that no debit is collecting, the
   credit note pays them first (the invoice it corrects first, then the oldest): one ledger
   ``Payment(method=refund, amount=0, key="offset:<credit note id>")`` whose allocations are
   ``+x`` on each invoice and ``−Σx`` on the credit note. The balance does not move (the
   customer owed x and was owed x); the invoices' outstanding drop, the credit note's rises.
   Paying an unpaid invoice with money we would otherwise send back avoids sending a transfer
   while the same customer is being chased for a debt. (The debit file must therefore debit an
   invoice's outstanding amount, ``selectors.documents_outstanding``, not its total.)
2. **Refund** of what is left: a ``Refund`` by transfer to the IBAN of the mandate in force
   (P4) for a customer paying by direct debit, by cheque otherwise.

``refunds_export`` writes the pending transfers as one pain.001 file (``RefundBatch``), marks
them exported and writes the ledger's ``Payment(method=refund, amount=−x)`` with its allocation
``−x`` on the credit note. ``refund_cheque_record`` does the same for a cheque an agent sent."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Count, F, Sum, Value
from django.db.models.functions import Coalesce

from raccord.billing.explain.french import euros
from raccord.billing.models import Document
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import OperatorProfile
from raccord.core.money import ZERO
from raccord.customers.models import Customer
from raccord.payments.calendar import next_target2_business_day
from raccord.payments.iban import iban_check
from raccord.payments.ledger import noon
from raccord.payments.mandates import mandates_in_force
from raccord.payments.models import Allocation, Payment, Refund, RefundBatch
from raccord.payments.selectors import (
    MONEY,
    allocated_sum,
    collecting_document_ids,
    due_invoices,
)
from raccord.payments.sepa.creditor import creditor_account_value
from raccord.payments.sepa_credit import Debtor, Transfer, pain001_write

DEFAULT_VERSION = "001.001.03"
# A development account (valid RIB key) so that the demo can write a file; production must
# configure the operator's real account (see ``operator_account``).
DEMO_IBAN = "FR7630004000010001234567830"


def operator_account() -> Debtor:
    """The operator's bank account refunds are paid from: the account the debits are collected
    to (``raccord.payments.sepa.creditor``: ``OperatorProfile.sepa_creditor_iban``,
    else the setting or environment ``RACCORD_SEPA_CREDITOR_IBAN`` / ``…_BIC``; the BIC
    is derived from the IBAN when not given). Outside production a demonstration account stands
    in, so that the demo writes a file."""
    profile = OperatorProfile.get()
    raw = creditor_account_value(profile, "sepa_creditor_iban", "RACCORD_SEPA_CREDITOR_IBAN")
    if not raw:
        if getattr(settings, "PRODUCTION", False):
            raise DomainError(
                "Renseignez l'IBAN du compte de l'opérateur (RACCORD_SEPA_CREDITOR_IBAN) avant "
                "de créer un fichier de virements."
            )
        raw = DEMO_IBAN
    checked = iban_check(raw)
    bic = creditor_account_value(profile, "sepa_creditor_bic", "RACCORD_SEPA_CREDITOR_BIC")
    return Debtor(name=profile.legal_name, iban=checked.iban, bic=bic or checked.bic)


def _credit_notes_to_give_back(on: date) -> list[int]:
    return list(
        Document.objects.filter(
            kind=Document.Kind.CREDIT_NOTE, issue_date__lte=on, refund__isnull=True
        )
        .annotate(allocated=Coalesce(allocated_sum(), Value(ZERO), output_field=MONEY))
        .filter(total__lt=F("allocated"))
        .order_by("id")
        .values_list("pk", flat=True)
    )


def _offset(
    *, credit: Document, customer: Customer, left: Decimal, on: date, actor: Actor
) -> Decimal:
    """Pay the customer's due invoices with the credit note; returns what is still to give."""
    due = list(due_invoices(customer=customer).filter(issue_date__lte=on))
    collecting = collecting_document_ids(document_ids=[d.pk for d in due])
    due = [d for d in due if d.pk not in collecting]
    due.sort(key=lambda d: (d.pk != credit.corrects_id, d.issue_date, d.pk))
    shares: list[tuple[Document, Decimal]] = []
    for invoice in due:
        if left <= 0:
            break
        share = min(left, invoice.total - invoice.allocated)  # type: ignore[attr-defined]
        if share > 0:
            shares.append((invoice, share))
            left -= share
    if not shares:
        return left
    used = sum((s for _d, s in shares), start=ZERO)
    payment = Payment.objects.create(
        customer=customer,
        method=Payment.Method.REFUND,
        amount=ZERO,
        received_on=on,
        reference=f"Avoir {credit.number}"[:100],
        note="compensation avec des factures dues",
        key=f"offset:{credit.pk}",
    )
    Allocation.objects.bulk_create(
        [Allocation(payment=payment, document=d, amount=s) for d, s in shares]
        + [Allocation(payment=payment, document=credit, amount=-used)]
    )
    event_record(
        actor=actor,
        verb="credit_note.offset",
        at=noon(on),
        subject_type="document",
        subject_id=credit.pk,
        customer_id=customer.pk,
        summary=f"Avoir {credit.number} déduit de "
        + ", ".join(f"{d.number} ({euros(s)})" for d, s in shares),
        data={
            "credit_note": credit.number,
            "allocations": [{"document": d.number, "amount": str(s)} for d, s in shares],
        },
    )
    return left


@transaction.atomic
def _prepare_one(*, credit_id: int, on: date, actor: Actor) -> Refund | None:
    credit = Document.objects.get(pk=credit_id)
    customer = Customer.objects.select_for_update().get(pk=credit.customer_id)
    if Refund.objects.filter(document=credit).exists():
        return None
    allocated = Allocation.objects.filter(document=credit).aggregate(s=Sum("amount"))["s"] or ZERO
    left = allocated - credit.total  # what is still to give back, > 0
    if left <= 0:
        return None
    left = _offset(credit=credit, customer=customer, left=left, on=on, actor=actor)
    if left <= 0:
        return None
    mandate = mandates_in_force(month=on, customer_ids=[customer.pk]).get(customer.pk)
    sepa = customer.contracts.filter(payment_method="sepa").exists()
    method = Refund.Method.TRANSFER if mandate is not None and sepa else Refund.Method.CHEQUE
    refund = Refund.objects.create(
        document=credit,
        customer=customer,
        amount=left,
        method=method,
        mandate=mandate if method == Refund.Method.TRANSFER else None,
        created_on=on,
    )
    how = (
        f"par virement sur {mandate.iban_masked}"
        if method == Refund.Method.TRANSFER and mandate is not None
        else "par chèque"
    )
    event_record(
        actor=actor,
        verb="refund.created",
        at=noon(on),
        subject_type="refund",
        subject_id=refund.pk,
        customer_id=customer.pk,
        summary=f"Remboursement de l'avoir {credit.number} : {euros(left)} {how}",
        data={
            "credit_note": credit.number,
            "amount": str(left),
            "method": method,
            "iban": mandate.iban_masked if mandate is not None else "",
        },
    )
    return refund


def refunds_prepare(*, on: date, actor: Actor) -> list[Refund]:
    """Every credit note issued on or before ``on`` and not yet given back: compensation, then
    a refund for the rest (module docstring). Idempotent: a credit note handled once is never
    handled again. One transaction per credit note."""
    created = []
    for credit_id in _credit_notes_to_give_back(on):
        refund = _prepare_one(credit_id=credit_id, on=on, actor=actor)
        if refund is not None:
            created.append(refund)
    return created


# --- the transfer file ----------------------------------------------------------------------


def refund_execution_date(on: date) -> date:
    """Transfers are asked for the next TARGET2 business day after the file's date."""
    return next_target2_business_day(on + timedelta(days=1))


def _transfers(batch: RefundBatch) -> Iterator[Transfer]:
    rows = (
        Refund.objects.filter(batch=batch)
        .order_by("id")
        .values_list(
            "document__number",
            "amount",
            "mandate__debtor_name",
            "mandate__iban",
            "mandate__bic",
            "customer__reference",
        )
        .iterator(chunk_size=2000)
    )
    for number, amount, name, iban, bic, reference in rows:
        yield Transfer(
            end_to_end_id=number,
            amount=amount,
            creditor_name=name,
            creditor_iban=iban,
            creditor_bic=bic,
            remittance=f"Remboursement avoir {number} client {reference}",
        )


def refund_batch_write(batch: RefundBatch, stream: IO[bytes], *, version: str) -> None:
    """The pain.001 file of ``batch``: a function of the batch's rows only (deterministic)."""
    figures = Refund.objects.filter(batch=batch).aggregate(n=Count("id"), s=Sum("amount"))
    pain001_write(
        stream,
        version=version,
        message_id=batch.message_id,
        created_on=batch.created_on,
        execution_date=batch.execution_date,
        debtor=operator_account(),
        count=figures["n"],
        total=figures["s"] or ZERO,
        transfers=_transfers(batch),
    )


@dataclass(frozen=True)
class ExportResult:
    batch: RefundBatch
    created: bool  # False: nothing new to export, the day's latest file written again


@transaction.atomic
def refunds_export(
    *, on: date, actor: Actor, version: str = DEFAULT_VERSION
) -> ExportResult | None:
    """Put every pending transfer refund in a new pain.001 batch dated ``on`` (message id
    ``RMB-<date>-<rank>``), mark them exported and record the ledger payments. With nothing
    pending, the latest batch of that day is returned (``created=False``) so that exporting
    twice gives the same file; None when there is none."""
    pending = Refund.objects.select_for_update().filter(
        method=Refund.Method.TRANSFER, status=Refund.Status.PENDING, batch__isnull=True
    )
    ids = list(pending.order_by("id").values_list("pk", flat=True))
    if not ids:
        latest = RefundBatch.objects.filter(created_on=on).order_by("-id").first()
        return ExportResult(latest, created=False) if latest is not None else None
    rank = RefundBatch.objects.filter(created_on=on).count() + 1
    execution = refund_execution_date(on)
    batch = RefundBatch.objects.create(
        message_id=f"RMB-{on:%Y%m%d}-{rank}",
        created_on=on,
        execution_date=execution,
    )
    Refund.objects.filter(pk__in=ids).update(
        batch=batch, status=Refund.Status.EXPORTED, paid_on=execution
    )
    refunds = list(
        Refund.objects.filter(pk__in=ids).select_related("document", "mandate").order_by("id")
    )
    payments = Payment.objects.bulk_create(
        [
            Payment(
                customer_id=r.customer_id,
                method=Payment.Method.REFUND,
                amount=-r.amount,
                received_on=execution,
                reference=f"Virement {batch.message_id}",
                refund=r,
                key=f"refund:{r.pk}",
            )
            for r in refunds
        ]
    )
    # bulk_create returns the rows in the order given, with their ids (PostgreSQL, SQLite).
    Allocation.objects.bulk_create(
        [
            Allocation(payment=p, document_id=r.document_id, amount=p.amount)
            for p, r in zip(payments, refunds, strict=True)
        ]
    )
    total = sum((r.amount for r in refunds), start=ZERO)
    for refund in refunds:
        event_record(
            actor=actor,
            verb="refund.exported",
            at=noon(on),
            subject_type="refund",
            subject_id=refund.pk,
            customer_id=refund.customer_id,
            summary=(
                f"Virement de {euros(refund.amount)} (avoir {refund.document.number}) "
                f"demandé pour le {execution:%d/%m/%Y} sur "
                f"{refund.mandate.iban_masked if refund.mandate else '?'}"
            ),
            data={"batch": batch.message_id, "credit_note": refund.document.number},
        )
    batch.count, batch.total = len(refunds), total
    with tempfile.TemporaryFile() as spool:
        refund_batch_write(batch, spool, version=version)
        spool.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: spool.read(1 << 16), b""):
            digest.update(chunk)
        spool.seek(0)
        batch.file_sha256 = digest.hexdigest()
        batch.file.save(f"{batch.message_id}.xml", File(spool), save=False)
    batch.save(update_fields=["count", "total", "file", "file_sha256"])
    return ExportResult(batch, created=True)


@transaction.atomic
def refund_cheque_record(
    *, refund: Refund, cheque_number: str, paid_on: date, actor: Actor, at: datetime | None = None
) -> Refund:
    """A refund paid by a cheque the operator sent (an agent records its number): PAID, and the
    ledger's ``Payment(method=refund, amount=−x)``. A pending transfer may be paid this way
    instead (an account closed, say). Idempotent on the same number."""
    number = " ".join((cheque_number or "").split())
    if not number:
        raise DomainError("Indiquez le numéro du chèque.", field="cheque_number")
    locked = Refund.objects.select_for_update().select_related("document").get(pk=refund.pk)
    if locked.status == Refund.Status.PAID and locked.method == Refund.Method.CHEQUE:
        if locked.cheque_number == number:
            return locked
        raise DomainError(
            f"Ce remboursement est déjà payé par le chèque n° {locked.cheque_number}.",
            field="cheque_number",
        )
    if locked.status != Refund.Status.PENDING:
        raise DomainError(
            "Ce remboursement est déjà parti par virement : il ne peut plus être payé par chèque.",
            field="cheque_number",
        )
    locked.method = Refund.Method.CHEQUE
    locked.status = Refund.Status.PAID
    locked.cheque_number = number[:30]
    locked.paid_on = paid_on
    locked.save(update_fields=["method", "status", "cheque_number", "paid_on"])
    payment = Payment.objects.create(
        customer_id=locked.customer_id,
        method=Payment.Method.REFUND,
        amount=-locked.amount,
        received_on=paid_on,
        reference=f"Chèque n° {locked.cheque_number}",
        refund=locked,
        key=f"refund:{locked.pk}",
        recorded_by=actor.user if actor.user is not None and actor.user.pk else None,
    )
    Allocation.objects.create(payment=payment, document=locked.document, amount=-locked.amount)
    event_record(
        actor=actor,
        verb="refund.paid",
        at=at or noon(paid_on),
        subject_type="refund",
        subject_id=locked.pk,
        customer_id=locked.customer_id,
        summary=(
            f"Avoir {locked.document.number} remboursé par chèque n° {locked.cheque_number} "
            f"({euros(locked.amount)})"
        ),
        data={"credit_note": locked.document.number, "cheque": locked.cheque_number},
    )
    return locked


def refunds_to_make() -> list[Refund]:
    """Refunds still to pay (the back-office list), oldest first."""
    return list(
        Refund.objects.filter(status=Refund.Status.PENDING)
        .select_related("document", "customer", "mandate")
        .order_by("created_on", "id")
    )
