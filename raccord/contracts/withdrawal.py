"""The legal withdrawal right (C6): 14 days (policy) after the sign-up date.

Before activation a withdrawal ends the order free of charge, like a cancellation. After
activation the subscriber owes the service from the activation date to the withdrawal date
inclusive only if they expressly asked it to start early (C2); set-up fees are never owed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from raccord.billing.models import DocumentLine, LineKind
from raccord.billing.services import pending_item_add
from raccord.contracts.models import Contract, Subscription
from raccord.contracts.selectors import withdrawal_deadline
from raccord.contracts.services import AWAITING_ACTIVATION, _at, _before_activation_end, _locked
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.money import ZERO

S = Contract.Status


def withdrawal_check(*, contract: Contract, on: date) -> date:
    """Refuse a withdrawal requested after the deadline, naming it (C6); returns the deadline."""
    deadline = withdrawal_deadline(signup_date=contract.signup_date)
    if on > deadline:
        raise DomainError(
            f"Le délai de rétractation a pris fin le {deadline:%d/%m/%Y} : vous pouvez "
            "néanmoins demander la résiliation de votre contrat.",
            field="on",
            code="withdrawal_expired",
        )
    if on < contract.signup_date:
        raise DomainError("La rétractation ne peut pas précéder la souscription.", field="on")
    return deadline


def _setup_fee_billed(contract: Contract) -> tuple[Decimal, Decimal]:
    """What the invoices charged for the set-up fee, net of any credit already made."""
    # Summed in Python: SQLite would add the decimals as floats.
    lines = list(
        DocumentLine.objects.filter(contract=contract, kind=LineKind.SETUP_FEE).values_list(
            "amount", "vat_rate"
        )
    )
    total = sum((amount for amount, _rate in lines), start=ZERO)
    rate = lines[0][1] if lines else contract.vat_rate
    return total, rate


@transaction.atomic
def contract_withdraw(*, contract: Contract, on: date, actor: Actor, reason: str = "") -> Contract:
    """Withdrawal on ``on`` (C6). Idempotent: a contract already withdrawn is returned as is."""
    contract = _locked(contract)
    if contract.status == S.WITHDRAWN:
        return contract
    deadline = withdrawal_check(contract=contract, on=on)
    if contract.status in AWAITING_ACTIVATION and contract.activation_date is None:
        voided = _before_activation_end(
            contract=contract,
            on=on,
            status=S.WITHDRAWN,
            reason=reason.strip() or "rétractation",
            actor=actor,
        )
        event_record(
            actor=actor,
            verb="contract.withdrawn",
            at=_at(on),
            subject_type="contract",
            subject_id=contract.pk,
            customer_id=contract.customer_id,
            summary=f"Rétractation : commande {contract.reference} annulée sans frais",
            data={"withdrawal_date": on.isoformat(), "deadline": deadline.isoformat(), **voided},
        )
        return contract
    if contract.status != S.ACTIVE:
        raise DomainError("Ce contrat n'est plus en cours.", field="contract")
    assert contract.activation_date is not None
    if on < contract.activation_date:
        raise DomainError("La rétractation ne peut pas précéder la mise en service.", field="on")
    express = contract.express_start
    for sub in Subscription.objects.select_for_update().filter(contract=contract):
        # Express start: the days from activation to the withdrawal date are owed; otherwise
        # nothing is, and the run credits whatever it already charged (B3).
        if not express:
            new_end = sub.start_date - timedelta(days=1)
        elif sub.end_date is not None and sub.end_date < on:
            new_end = sub.end_date
        else:
            new_end = on
        if new_end < sub.start_date:
            new_end = sub.start_date - timedelta(days=1)
        if sub.end_date != new_end:
            sub.end_date = new_end
            sub.save(update_fields=["end_date"])
    refunded = ZERO
    if contract.setup_fee_billed:
        billed, rate = _setup_fee_billed(contract)
        if billed > 0:
            refunded = billed
            pending_item_add(
                contract=contract,
                kind=LineKind.WITHDRAWAL,
                label="Rétractation : remboursement des frais de mise en service",
                amount=-billed,
                vat_rate=rate,
                created_on=on,
                product=contract.offer.code,
                data={
                    "withdrawal_date": on.isoformat(),
                    "express_start": express,
                    "setup_fee_refunded": str(billed),
                },
                key=f"c6:{contract.pk}",
            )
    contract.status = S.WITHDRAWN
    contract.withdrawn_on = on
    contract.commitment_start = None
    contract.commitment_end = None
    contract.save(update_fields=["status", "withdrawn_on", "commitment_start", "commitment_end"])
    event_record(
        actor=actor,
        verb="contract.withdrawn",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Rétractation de {contract.reference} le {on:%d/%m/%Y} : "
        + (
            f"service dû du {contract.activation_date:%d/%m/%Y} au {on:%d/%m/%Y}"
            if express
            else "aucun abonnement dû"
        )
        + (f", frais de mise en service remboursés ({refunded} €)" if refunded else ""),
        data={
            "withdrawal_date": on.isoformat(),
            "deadline": deadline.isoformat(),
            "express_start": express,
            "setup_fee_refunded": str(refunded),
            "reason": reason.strip(),
        },
    )
    return contract
