"""Billing writes outside the monthly run: pending items (B5) and full credit notes (B7, C5)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import Document, LineKind, PendingItem
from raccord.contracts.models import Contract
from raccord.core.events import Actor, event_record
from raccord.core.money import CENT

PARIS = ZoneInfo("Europe/Paris")


def pending_item_add(
    *,
    contract: Contract,
    kind: str,
    label: str,
    amount: Decimal,
    vat_rate: Decimal,
    created_on: date,
    product: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
    data: dict[str, Any] | None = None,
    key: str | None = None,
) -> PendingItem:
    """Queue a one-off amount for the next run (B5). Idempotent on ``key``."""
    if amount != amount.quantize(CENT):
        raise ValueError("a pending item's amount is rounded to the cent before it is queued (M2)")
    LineKind(kind)  # refuses an unknown kind
    if key is not None:
        existing = PendingItem.objects.filter(key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return PendingItem.objects.create(
                contract=contract,
                customer_id=contract.customer_id,
                kind=kind,
                label=label[:200],
                amount=amount,
                vat_rate=vat_rate,
                created_on=created_on,
                product=product,
                period_start=period_start,
                period_end=period_end,
                data=data or {},
                key=key,
            )
    except IntegrityError:
        if key is not None:
            return PendingItem.objects.get(key=key)
        raise


@transaction.atomic
def document_credit_fully(*, document: Document, on: date, reason: str, actor: Actor) -> Document:
    """Issue at once a credit note that cancels ``document`` line by line (B7).

    Idempotent: an invoice already fully credited returns its existing credit note."""
    return _credit(document=document, contract_id=None, on=on, reason=reason, actor=actor)


@transaction.atomic
def document_credit_contract(
    *, document: Document, contract: Contract, on: date, reason: str, actor: Actor
) -> Document:
    """Credit the lines of ``document`` that bill ``contract`` (C5: nothing is owed for a
    contract declared ineligible; another contract on the same invoice stays billed).

    Idempotent per invoice and contract."""
    return _credit(document=document, contract_id=contract.pk, on=on, reason=reason, actor=actor)


def _credit(
    *, document: Document, contract_id: int | None, on: date, reason: str, actor: Actor
) -> Document:
    locked = Document.objects.select_for_update().get(pk=document.pk)
    if locked.kind != Document.Kind.INVOICE:
        raise ValueError("only an invoice can be credited")
    corrections = locked.corrections.filter(kind=Document.Kind.CREDIT_NOTE)
    if contract_id is None:
        existing = corrections.filter(total=-locked.total).first()
    else:
        existing = corrections.filter(lines__contract_id=contract_id).first()
    if existing is not None:
        return existing
    source = (
        locked.lines.all() if contract_id is None else locked.lines.filter(contract_id=contract_id)
    )
    lines = [
        DraftLine(
            contract_id=line.contract_id,
            kind=line.kind,
            product=line.product,
            label=f"Annulation : {line.label}",
            period_start=line.period_start,
            period_end=line.period_end,
            amount=-line.amount,
            vat_rate=line.vat_rate,
            data={**line.data, "credits_line": line.pk},
        )
        for line in source
    ]
    if not lines:
        raise ValueError("nothing of that invoice to credit")
    credit = document_issue(
        customer_id=locked.customer_id,
        issue_date=on,
        lines=lines,
        run=None,
        corrects=locked,
        force_kind=Document.Kind.CREDIT_NOTE,
    )
    event_record(
        actor=actor,
        verb="billing.credit_note_issued",
        at=datetime.combine(on, time(12), tzinfo=PARIS),
        subject_type="document",
        subject_id=credit.pk,
        customer_id=locked.customer_id,
        summary=f"Avoir {credit.number} sur la facture {locked.number} ({reason})",
        data={"invoice": locked.number, "credit_note": credit.number, "reason": reason},
    )
    return credit
