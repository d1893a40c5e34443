"""Suspension of a line for non-payment and its reactivation (P6; the network applies it).

A suspended contract keeps its status (active, termination requested…): suspension is a flag with
its date and reason, so billing and the lifecycle go on unchanged. Both services lock the row, are
idempotent and record the change in the customer's history."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from raccord.contracts.models import Contract
from raccord.contracts.services import _at, _locked
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record

SUSPENDABLE = {Contract.Status.ACTIVE, Contract.Status.TERMINATION_REQUESTED}


@transaction.atomic
def contract_suspend(*, contract: Contract, on: date, reason: str, actor: Actor) -> Contract:
    """Suspend the line from ``on``. A line already suspended, or not live, is left as it is."""
    contract = _locked(contract)
    if contract.suspended_on is not None or contract.status not in SUSPENDABLE:
        return contract
    if not reason.strip():
        raise DomainError("Indiquez le motif de la suspension.", field="reason")
    contract.suspended_on = on
    contract.suspension_reason = reason.strip()[:200]
    contract.save(update_fields=["suspended_on", "suspension_reason"])
    event_record(
        actor=actor,
        verb="contract.suspended",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Ligne {contract.reference} suspendue le {on:%d/%m/%Y} : {contract.suspension_reason}",
        data={"on": on.isoformat(), "reason": contract.suspension_reason},
    )
    return contract


@transaction.atomic
def contract_reactivate(*, contract: Contract, on: date, actor: Actor) -> Contract:
    """Lift the suspension from ``on``. A line that is not suspended is left as it is."""
    contract = _locked(contract)
    if contract.suspended_on is None:
        return contract
    if on < contract.suspended_on:
        raise DomainError("La réactivation ne peut pas précéder la suspension.", field="on")
    since = contract.suspended_on
    contract.suspended_on = None
    contract.suspension_reason = ""
    contract.save(update_fields=["suspended_on", "suspension_reason"])
    event_record(
        actor=actor,
        verb="contract.reactivated",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Ligne {contract.reference} réactivée le {on:%d/%m/%Y}",
        data={"on": on.isoformat(), "suspended_on": since.isoformat()},
    )
    return contract
