"""Contract lifecycle services: delivery and activation (C4, C7, C14), cancellation before
activation and ineligibility (C5, C6). Withdrawal, offer change, termination, gestures and the
daily jobs live in their own modules next to this one.

Each service locks the contract row, returns early if the contract is already in the target
state, and records an event in the same transaction (STYLE habit 3). Dates are parameters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from raccord.billing.models import Document, PendingItem
from raccord.billing.services import document_credit_contract
from raccord.contracts.commitment import commitment_end
from raccord.contracts.models import Contract, Subscription
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import Policy
from raccord.equipment.services import equipment_premises_attach

PARIS = ZoneInfo("Europe/Paris")
S = Contract.Status
NOT_YET_DELIVERED = {S.ORDERED, S.KIT_SHIPPED, S.INSTALLATION_BOOKED}
AWAITING_ACTIVATION = {*NOT_YET_DELIVERED, S.EQUIPMENT_RECEIVED}


def _at(day: date) -> datetime:
    """Business events known only by their date are recorded at noon, Paris time."""
    return datetime.combine(day, time(12, 0), tzinfo=PARIS)


def _locked(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().get(pk=contract.pk)


def subscriptions_open(*, contract: Contract, start: date) -> None:
    """The billable products of an activated contract: its offer and each option (B2)."""
    rows = [
        Subscription(
            contract=contract,
            customer_id=contract.customer_id,
            kind=Subscription.Kind.OFFER,
            product=contract.offer.code,
            label=contract.offer_label,
            monthly_price=contract.monthly_price,
            vat_rate=contract.vat_rate,
            start_date=start,
        )
    ]
    rows += [
        Subscription(
            contract=contract,
            customer_id=contract.customer_id,
            kind=Subscription.Kind.OPTION,
            product=option.option.code,
            label=option.label,
            monthly_price=option.monthly_price,
            vat_rate=option.vat_rate,
            start_date=start,
        )
        for option in contract.options.select_related("option")
    ]
    Subscription.objects.bulk_create(rows)


@transaction.atomic
def contract_kit_ship(
    *, contract: Contract, on: date, actor: Actor, tracking: str = ""
) -> Contract:
    contract = _locked(contract)
    if contract.status != S.ORDERED:
        return contract
    if contract.installation_mode != Contract.InstallationMode.KIT:
        raise DomainError("Ce contrat ne prévoit pas l'envoi d'un kit.", field="installation_mode")
    contract.status = S.KIT_SHIPPED
    contract.save(update_fields=["status"])
    event_record(
        actor=actor,
        verb="contract.kit_shipped",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Kit expédié pour {contract.reference}",
        data={"tracking": tracking},
    )
    return contract


@transaction.atomic
def contract_installation_book(
    *, contract: Contract, on: date, appointment: date, actor: Actor
) -> Contract:
    contract = _locked(contract)
    if contract.status != S.ORDERED:
        return contract
    if contract.installation_mode != Contract.InstallationMode.INSTALLER:
        raise DomainError(
            "Ce contrat ne prévoit pas de visite d'installateur.", field="installation_mode"
        )
    contract.status = S.INSTALLATION_BOOKED
    contract.installation_appointment = appointment
    contract.save(update_fields=["status", "installation_appointment"])
    event_record(
        actor=actor,
        verb="contract.installation_booked",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Installation planifiée le {appointment:%d/%m/%Y} pour {contract.reference}",
        data={"appointment": appointment.isoformat()},
    )
    return contract


def activation_fallback_date(contract: Contract) -> date | None:
    """C4: the latest activation date, reception + the policy's days; None before reception."""
    if contract.equipment_received_date is None:
        return None
    days = Policy.get().activation_fallback_days
    return contract.equipment_received_date + timedelta(days=days)


@transaction.atomic
def contract_equipment_receive(*, contract: Contract, on: date, actor: Actor) -> Contract:
    """The equipment arrived (or the installer came, C4): starts the 30-day activation fallback."""
    contract = _locked(contract)
    if contract.status not in NOT_YET_DELIVERED:
        return contract
    if on < contract.signup_date:
        raise DomainError("La réception ne peut pas précéder la souscription.", field="on")
    contract.status = S.EQUIPMENT_RECEIVED
    contract.equipment_received_date = on
    contract.save(update_fields=["status", "equipment_received_date"])
    fallback = activation_fallback_date(contract)
    assert fallback is not None
    event_record(
        actor=actor,
        verb="contract.equipment_received",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Matériel reçu pour {contract.reference} (activation au plus tard le {fallback:%d/%m/%Y})",
        data={"received": on.isoformat(), "activation_fallback": fallback.isoformat()},
    )
    return contract


@transaction.atomic
def contract_activate(*, contract: Contract, on: date, source: str, actor: Actor) -> Contract:
    """Activation (C4): the first network connection, or reception + fallback days, whichever
    comes first. Exactly once: a later first-connection record changes nothing. The commitment
    starts on the activation date (C7)."""
    contract = _locked(contract)
    if contract.activation_date is not None or contract.status not in AWAITING_ACTIVATION:
        return contract
    if on < contract.signup_date:
        raise DomainError("La mise en service ne peut pas précéder la souscription.", field="on")
    fallback = activation_fallback_date(contract)
    if fallback is not None:
        on = min(on, fallback)
    contract.status = S.ACTIVE
    contract.activation_date = on
    contract.commitment_start = on if contract.commitment_months else None
    contract.commitment_end = commitment_end(start=on, months=contract.commitment_months)
    contract.save(update_fields=["status", "activation_date", "commitment_start", "commitment_end"])
    subscriptions_open(contract=contract, start=on)
    if contract.installation_mode == Contract.InstallationMode.EQUIPPED:
        # C14: new occupants of equipped premises reuse the equipment installed there.
        equipment_premises_attach(contract=contract, on=on, actor=actor)
    event_record(
        actor=actor,
        verb="contract.activated",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Ligne {contract.reference} mise en service le {on:%d/%m/%Y}",
        data={
            "source": source,
            "activation_date": on.isoformat(),
            "commitment_end": contract.commitment_end.isoformat()
            if contract.commitment_end
            else None,
        },
    )
    return contract


# --- before activation: cancellation (C6) and ineligibility (C5) ----------------------------


def charges_void(*, contract: Contract, on: date, reason: str, actor: Actor) -> dict[str, list]:
    """Nothing is owed for a contract that never went live (C5, C6): every invoice that billed
    something for it is fully credited, and its items not yet billed are cancelled.

    Runs inside the caller's transaction. Returns the numbers of the credit notes issued and the
    ids of the items cancelled, for the event."""
    invoices = (
        Document.objects.filter(kind=Document.Kind.INVOICE, lines__contract=contract)
        .distinct()
        .order_by("issue_date", "pk")
    )
    credit_notes = [
        document_credit_contract(
            document=invoice, contract=contract, on=on, reason=reason, actor=actor
        ).number
        for invoice in invoices
    ]
    items = list(
        PendingItem.objects.select_for_update()
        .filter(contract=contract, document__isnull=True, cancelled=False)
        .values_list("pk", flat=True)
    )
    PendingItem.objects.filter(pk__in=items).update(cancelled=True)
    return {"credit_notes": credit_notes, "pending_items_cancelled": items}


def _before_activation_end(
    *, contract: Contract, on: date, status: str, reason: str, actor: Actor
) -> dict[str, list]:
    voided = charges_void(contract=contract, on=on, reason=reason, actor=actor)
    contract.status = status
    update = ["status"]
    if status == S.CANCELLED:
        contract.cancelled_on = on
        contract.cancel_reason = reason[:300]
        update += ["cancelled_on", "cancel_reason"]
    else:
        contract.withdrawn_on = on
        update.append("withdrawn_on")
    contract.save(update_fields=update)
    return voided


@transaction.atomic
def contract_cancel(*, contract: Contract, on: date, actor: Actor, reason: str = "") -> Contract:
    """C6: a contract not yet in service is cancelled free of charge. Idempotent."""
    contract = _locked(contract)
    if contract.status == S.CANCELLED:
        return contract
    if contract.status not in AWAITING_ACTIVATION or contract.activation_date is not None:
        raise DomainError(
            "Ce contrat est déjà en service : demandez sa résiliation ou exercez votre droit "
            "de rétractation.",
            field="contract",
        )
    voided = _before_activation_end(
        contract=contract,
        on=on,
        status=S.CANCELLED,
        reason=reason.strip() or "annulation avant mise en service",
        actor=actor,
    )
    event_record(
        actor=actor,
        verb="contract.cancelled",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Commande {contract.reference} annulée sans frais avant sa mise en service",
        data={"reason": contract.cancel_reason, **voided},
    )
    return contract


INELIGIBILITY_SOURCES = {"study": "étude technique", "installer": "installateur"}


@transaction.atomic
def contract_ineligible_declare(
    *, contract: Contract, on: date, source: str, actor: Actor, note: str = ""
) -> Contract:
    """C5: declared ineligible by the technical study or an installer before activation → the
    contract is cancelled without any fee and every document issued for it fully credited."""
    if source not in INELIGIBILITY_SOURCES:
        raise DomainError("Indiquez qui a constaté l'inéligibilité.", field="source")
    contract = _locked(contract)
    if contract.status == S.CANCELLED:
        return contract
    if contract.status not in AWAITING_ACTIVATION or contract.activation_date is not None:
        raise DomainError(
            "Ce contrat est déjà en service : l'inéligibilité ne peut plus être déclarée.",
            field="contract",
        )
    reason = f"inéligible ({INELIGIBILITY_SOURCES[source]})" + (
        f" : {note.strip()}" if note.strip() else ""
    )
    voided = _before_activation_end(
        contract=contract, on=on, status=S.CANCELLED, reason=reason, actor=actor
    )
    event_record(
        actor=actor,
        verb="contract.ineligible",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Logement déclaré inéligible ({INELIGIBILITY_SOURCES[source]}) : "
        f"commande {contract.reference} annulée sans frais",
        data={"source": source, "note": note.strip(), **voided},
    )
    return contract
