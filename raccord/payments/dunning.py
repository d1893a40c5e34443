"""Dunning (P6): what follows a returned debit, until the invoice is paid.

On a return (``dunning_open``, called by the returns import): the case opens (or, for an
invoice already in dunning, goes on), a reminder email leaves at once with how to pay, an
optional rejection fee waits for the next invoice (policy ``dunning_rejection_fee``), the
invoice is presented again at the next debit date when the policy says so and the bank's reason
leaves a chance (``represent_on``: the debit file picks it up), and the line is suspended after
``dunning_suspend_days`` days still unpaid (``suspend_on``; ``dunning_daily_run`` applies it).
When the invoice is paid, ``dunning_settle`` closes the case and reactivates the line.

Every step is recorded in the customer's history. Amount still due = total - allocations (the
ledger rule of the payments contract)."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from raccord.billing.explain.french import euros
from raccord.billing.models import Document, DocumentLine, LineKind, PendingItem
from raccord.billing.services import pending_item_add
from raccord.contracts.models import Contract
from raccord.contracts.suspension import SUSPENDABLE, contract_reactivate, contract_suspend
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import OperatorProfile, Policy
from raccord.customers.models import Customer
from raccord.payments.calendar import invoice_debit_date
from raccord.payments.models import Allocation, Debit, DunningCase
from raccord.payments.selectors import transfer_reference
from raccord.payments.sepa.reasons import reason_get

logger = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
LIVE = (DunningCase.Status.OPEN, DunningCase.Status.SUSPENDED)
ZERO = Decimal("0.00")
# VAT of the rejection fee: an indemnity for the cost of the rejection, not the price of a
# service, hence out of the scope of VAT (the line says so, M1).
REJECTION_FEE_VAT = Decimal("0")
SUSPENSION_REASON = "Impayé : facture {number}"


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=PARIS)


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def document_due_amount(document: Document) -> Decimal:
    """What is still due on ``document``: its total minus its allocations."""
    paid = Allocation.objects.filter(document=document).aggregate(s=Sum("amount"))["s"]
    return document.total - (paid or ZERO)


def representation_date(*, on: date, policy: Policy) -> date:
    """The debit date a returned invoice is presented again on: the reminder sent on ``on``
    is the notice, so the first debit date at least the pre-notification delay away (P3)
    whose file can still be made (P2: a TARGET2 business day before it)."""
    from raccord.payments.debits import debit_file_deadline

    day = on
    while True:
        debit = invoice_debit_date(issue_date=day, policy=policy)
        if debit_file_deadline(debit) >= on:
            return debit
        day = debit


def _fee_contract(document: Document) -> Contract | None:
    """The contract a rejection fee is billed with: the first one the invoice bills, else the
    customer's most recent one."""
    contract_id = (
        DocumentLine.objects.filter(document=document, contract__isnull=False)
        .order_by("position")
        .values_list("contract_id", flat=True)
        .first()
    )
    if contract_id is not None:
        return Contract.objects.get(pk=contract_id)
    return Contract.objects.filter(customer_id=document.customer_id).order_by("-signed_at").first()


def _record(
    case: DunningCase, *, actor: Actor, verb: str, on: date, summary: str, **data: Any
) -> None:
    event_record(
        actor=actor,
        verb=verb,
        at=_noon(on),
        subject_type="dunning_case",
        subject_id=case.pk,
        customer_id=case.customer_id,
        summary=summary,
        data={"invoice": case.document.number, **data},
    )


@transaction.atomic
def dunning_open(*, debit: Debit, on: date, reason_code: str, actor: Actor) -> DunningCase:
    """Open the follow-up of the invoice of a returned ``debit`` (P6), or carry on the case
    the invoice is already in (a re-presentation returned again: no further re-presentation,
    the suspension date stays). Idempotent per debit."""
    debit = Debit.objects.select_related("document", "batch").get(pk=debit.pk)
    document = debit.document
    policy = Policy.get()
    reason = reason_get(reason_code)
    existing = (
        DunningCase.objects.select_for_update()
        .select_related("document")
        .filter(document=document, status__in=LIVE)
        .order_by("pk")
        .first()
    )
    if existing is not None and existing.debit_id == debit.pk:
        return existing  # this return was already followed up
    represented = Debit.objects.filter(document=document).count() > 1
    represent_on = None
    if policy.dunning_represent and reason.represent and not represented:
        represent_on = representation_date(on=on, policy=policy)
    due = document_due_amount(document)
    if existing is None:
        case = DunningCase.objects.create(
            document=document,
            customer_id=document.customer_id,
            debit=debit,
            status=DunningCase.Status.OPEN,
            reason_code=reason.code,
            opened_on=on,
            reminder_sent_on=on,
            represent_on=represent_on,
            suspend_on=(
                on + timedelta(days=policy.dunning_suspend_days)
                if policy.dunning_suspend_days
                else None
            ),
        )
        _record(
            case,
            actor=actor,
            verb="dunning.opened",
            on=on,
            summary=(
                f"Relance ouverte : prélèvement de la facture {document.number} rejeté "
                f"({reason.code} – {reason.label}), {euros(due)} à régler"
            ),
            reason=reason.code,
            due=str(due),
            debit=debit.pk,
        )
    else:
        case = existing
        case.reason_code = reason.code
        case.reminder_sent_on = on
        case.represent_on = None
        case.save(update_fields=["reason_code", "reminder_sent_on", "represent_on"])
        _record(
            case,
            actor=actor,
            verb="dunning.returned_again",
            on=on,
            summary=(
                f"Nouveau rejet du prélèvement de la facture {document.number} "
                f"({reason.code} – {reason.label}) : pas de nouvelle présentation"
            ),
            reason=reason.code,
            due=str(due),
            debit=debit.pk,
        )
    fee = _fee_add(
        case,
        debit=debit,
        on=on,
        policy_fee=policy.dunning_rejection_fee,
        reason=reason.label,
        actor=actor,
    )
    if represent_on is not None:
        _record(
            case,
            actor=actor,
            verb="dunning.representation_scheduled",
            on=on,
            summary=(
                f"Facture {document.number} présentée à nouveau au prélèvement le "
                f"{_day(represent_on)}"
            ),
            represent_on=represent_on.isoformat(),
        )
    _record(
        case,
        actor=actor,
        verb="dunning.reminder_sent",
        on=on,
        summary=f"Relance envoyée par email pour la facture {document.number} ({due} €)",
        due=str(due),
    )
    from raccord.notifications.tasks import dunning_reminder_email

    transaction.on_commit(
        partial(dunning_reminder_email.delay, case.pk, debit.pk, str(fee or "")), robust=True
    )
    return case


def _fee_add(
    case: DunningCase, *, debit: Debit, on: date, policy_fee: Decimal, reason: str, actor: Actor
) -> Decimal | None:
    if not policy_fee or policy_fee <= 0:
        return None
    contract = _fee_contract(case.document)
    if contract is None:
        return None
    item: PendingItem = pending_item_add(
        contract=contract,
        kind=LineKind.REJECTION_FEE,
        label="Frais de rejet de prélèvement",
        amount=Decimal(policy_fee).quantize(Decimal("0.01")),
        vat_rate=REJECTION_FEE_VAT,
        created_on=on,
        data={
            "invoice": case.document.number,
            "debit_date": debit.batch.debit_date.isoformat(),
            "reason": reason,
            "debit": debit.pk,
        },
        key=f"p6-fee:{debit.pk}",
    )
    if case.fee_item_id is None:
        case.fee_item = item
        case.save(update_fields=["fee_item"])
    _record(
        case,
        actor=actor,
        verb="dunning.fee_added",
        on=on,
        summary=f"Frais de rejet de {item.amount} € ajoutés à la prochaine facture",
        amount=str(item.amount),
        pending_item=item.pk,
    )
    return item.amount


def dunning_reminder_send(*, case_id: int, debit_id: int, fee: str = "") -> None:
    """The reminder email (French): what was rejected and why, what is due, how to pay."""
    case = DunningCase.objects.select_related("document", "customer").get(pk=case_id)
    debit = Debit.objects.select_related("batch").get(pk=debit_id)
    customer = case.customer
    if not customer.email:
        return
    operator = OperatorProfile.get()
    from raccord.payments.sepa.creditor import creditor_get

    try:
        creditor_iban = creditor_get(operator).iban
    except DomainError:
        creditor_iban = ""
    try:
        portal_url = f"{settings.RACCORD_PUBLIC_URL}{reverse('portal:home')}"
    except NoReverseMatch:
        portal_url = ""
    reason = reason_get(case.reason_code)
    context = {
        "case": case,
        "customer": customer,
        "document": case.document,
        "debit": debit,
        "debit_date": debit.batch.debit_date,
        "reason": reason,
        "due": document_due_amount(case.document),
        "fee": fee,
        "operator": operator,
        "creditor_iban": creditor_iban,
        "portal_url": portal_url,
        "transfer_reference": transfer_reference(
            customer_reference=customer.reference, document_number=case.document.number
        ),
    }
    subject = f"Prélèvement rejeté : facture {case.document.number} à régler"
    text = render_to_string("payments/emails/dunning_reminder.txt", context)
    html = render_to_string("payments/emails/dunning_reminder.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[customer.email])
    message.attach_alternative(html, "text/html")
    message.send()


def _suspend(case: DunningCase, *, on: date, actor: Actor) -> list[str]:
    suspended = []
    contracts = Contract.objects.filter(
        customer_id=case.customer_id, status__in=SUSPENDABLE, suspended_on__isnull=True
    ).order_by("pk")
    for contract in contracts:
        contract_suspend(
            contract=contract,
            on=on,
            reason=SUSPENSION_REASON.format(number=case.document.number),
            actor=actor,
        )
        suspended.append(contract.reference)
    case.status = DunningCase.Status.SUSPENDED
    case.suspended_on = on
    case.save(update_fields=["status", "suspended_on"])
    _record(
        case,
        actor=actor,
        verb="dunning.suspended",
        on=on,
        summary=(
            f"Facture {case.document.number} toujours impayée : ligne(s) suspendue(s) "
            f"({', '.join(suspended) or 'aucune ligne en service'})"
        ),
        contracts=suspended,
    )
    return suspended


def dunning_settle(*, customer: Customer, on: date, actor: Actor) -> None:
    """Called after any payment is recorded for ``customer``: closes the dunning cases whose
    invoice is now paid and reactivates lines suspended for them. Idempotent."""
    with transaction.atomic():
        cases = list(
            DunningCase.objects.select_for_update()
            .select_related("document")
            .filter(customer=customer, status__in=LIVE)
            .order_by("pk")
        )
        for case in cases:
            if document_due_amount(case.document) > 0:
                continue
            case.status = DunningCase.Status.PAID
            case.closed_on = on
            case.save(update_fields=["status", "closed_on"])
            _record(
                case,
                actor=actor,
                verb="dunning.closed",
                on=on,
                summary=f"Facture {case.document.number} réglée : relance close",
            )
        still_suspended = DunningCase.objects.filter(
            customer=customer, status=DunningCase.Status.SUSPENDED
        ).exists()
        if still_suspended:
            return
        for contract in Contract.objects.filter(
            customer=customer, suspended_on__isnull=False, suspended_on__lte=on
        ).order_by("pk"):
            contract_reactivate(contract=contract, on=on, actor=actor)


def dunning_daily_run(*, on: date, actor: Actor) -> list[str]:
    """Dunning's daily job: suspensions whose date has come (policy ``dunning_suspend_days``).
    Returns what changed, one reference each (the invoice numbers)."""
    changed: list[str] = []
    due_cases = (
        DunningCase.objects.filter(
            status=DunningCase.Status.OPEN, suspend_on__isnull=False, suspend_on__lte=on
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for case_id in list(due_cases):
        with transaction.atomic():
            case = (
                DunningCase.objects.select_for_update()
                .select_related("document", "customer")
                .get(pk=case_id)
            )
            if case.status != DunningCase.Status.OPEN:
                continue
            if document_due_amount(case.document) <= 0:
                dunning_settle(customer=case.customer, on=on, actor=actor)
                continue
            _suspend(case, on=on, actor=actor)
            changed.append(case.document.number)
    return changed
