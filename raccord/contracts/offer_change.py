"""Offer change (C9, B4): the old offer is billed up to D-1 and the new one from D, at the price
of the zone; the commitment restarts at D with the new offer's duration and falls under the
termination regime in force at D (C11)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import F, Q

from raccord.billing.models import LineKind
from raccord.billing.services import pending_item_add
from raccord.catalog.models import Offer
from raccord.contracts.commitment import commitment_end
from raccord.contracts.models import Contract, Subscription
from raccord.contracts.services import _at, _locked
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.eligibility.services import eligibility_check

S = Contract.Status


@transaction.atomic
def contract_offer_change(
    *, contract: Contract, offer_code: str, effective_date: date, actor: Actor, on: date
) -> Contract:
    """Switch an active contract to ``offer_code`` from ``effective_date`` (D), requested on
    ``on``. Idempotent: the same change recorded twice changes nothing the second time."""
    contract = _locked(contract)
    current = (
        Subscription.objects.select_for_update()
        .filter(contract=contract, kind=Subscription.Kind.OFFER)
        .order_by("-start_date", "-pk")
        .first()
    )
    if (
        current is not None
        and current.start_date == effective_date
        and current.product == offer_code
    ):
        return contract  # the same change, already recorded (applied now or on D)
    if contract.status != S.ACTIVE:
        raise DomainError("Seul un contrat en service peut changer d'offre.", field="offer_code")
    if contract.offer.code == offer_code:
        raise DomainError("Le contrat a déjà cette offre.", field="offer_code")
    if effective_date < on:
        raise DomainError(
            "Le changement d'offre ne peut pas prendre effet avant la demande.",
            field="effective_date",
        )
    if current is None or effective_date <= current.start_date:
        raise DomainError(
            "Le changement d'offre doit prendre effet après le début de l'offre actuelle.",
            field="effective_date",
        )
    eligible = eligibility_check(address=contract.installation_address).offer(offer_code)
    if eligible is None:
        raise DomainError(
            "Cette offre n'est pas disponible à l'adresse d'installation.", field="offer_code"
        )
    offer: Offer = eligible.offer
    old_code, old_label, old_price = (
        contract.offer.code,
        contract.offer_label,
        contract.monthly_price,
    )
    # B4: the old offer stops the day before D (the run credits what it billed from D on);
    # options keep running untouched.
    if current.end_date is None or current.end_date >= effective_date:
        current.end_date = effective_date - timedelta(days=1)
        current.save(update_fields=["end_date"])
    Subscription.objects.create(
        contract=contract,
        kind=Subscription.Kind.OFFER,
        product=offer.code,
        label=offer.label,
        monthly_price=eligible.monthly_price,
        vat_rate=offer.vat_rate,
        start_date=effective_date,
    )
    new_subscription = Subscription.objects.filter(
        contract=contract, kind=Subscription.Kind.OFFER, start_date=effective_date
    ).get()
    # The contract's offer, price and commitment are those in force: a change taking effect
    # later switches them on D (the daily job), so that a termination before D is judged on
    # the commitment in force at E (C9, C11).
    if effective_date <= on:
        _offer_switch(contract=contract, subscription=new_subscription)
    # C9: no set-up fee for a change, unless the catalogue sets a change fee for the new offer.
    fee = None
    if offer.change_fee > 0:
        fee = pending_item_add(
            contract=contract,
            kind=LineKind.CHANGE_FEE,
            label=f"Frais de changement d'offre ({old_label} → {offer.label})",
            amount=offer.change_fee,
            vat_rate=offer.vat_rate,
            created_on=effective_date,
            product=offer.code,
            data={
                "from_offer": old_code,
                "to_offer": offer.code,
                "effective_date": effective_date.isoformat(),
            },
            key=f"c9:{contract.pk}:{effective_date.isoformat()}:{offer.code}"[:80],
        )
    event_record(
        actor=actor,
        verb="contract.offer_changed",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"{contract.reference} : offre {old_label} remplacée par {offer.label} à "
        f"partir du {effective_date:%d/%m/%Y}"
        + (
            f", engagement de {offer.commitment_months} mois à compter de cette date"
            if offer.commitment_months
            else ", sans engagement"
        )
        + (f", frais de changement {fee.amount} €" if fee else ""),
        data={
            "from_offer": old_code,
            "to_offer": offer.code,
            "from_price": str(old_price),
            "to_price": str(eligible.monthly_price),
            "effective_date": effective_date.isoformat(),
            "commitment_start": effective_date.isoformat() if offer.commitment_months else None,
            "commitment_end": _iso(
                commitment_end(start=effective_date, months=offer.commitment_months)
            ),
            "change_fee": str(fee.amount) if fee else "0.00",
        },
    )
    return contract


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _offer_switch(*, contract: Contract, subscription: Subscription) -> None:
    """Make the offer of ``subscription`` the contract's offer from its start date D: the
    copied offer fields, the zone's speeds, and the commitment restarting at D (C7, C9)."""
    offer = Offer.objects.get(code=subscription.product)
    eligible = eligibility_check(address=contract.installation_address).offer(offer.code)
    effective_date = subscription.start_date
    contract.offer = offer
    contract.offer_label = subscription.label
    contract.monthly_price = subscription.monthly_price
    contract.commitment_months = offer.commitment_months
    contract.subsidised_equipment = offer.subsidised_equipment
    contract.termination_fee = offer.termination_fee
    contract.change_fee = offer.change_fee
    contract.vat_rate = subscription.vat_rate
    contract.download_mbps = eligible.download_mbps if eligible else offer.download_mbps
    contract.upload_mbps = eligible.upload_mbps if eligible else offer.upload_mbps
    if eligible is not None:
        contract.zone = eligible.zone
    contract.commitment_start = effective_date if offer.commitment_months else None
    contract.commitment_end = commitment_end(start=effective_date, months=offer.commitment_months)
    contract.save(
        update_fields=[
            "offer",
            "offer_label",
            "monthly_price",
            "commitment_months",
            "subsidised_equipment",
            "termination_fee",
            "change_fee",
            "vat_rate",
            "download_mbps",
            "upload_mbps",
            "zone",
            "commitment_start",
            "commitment_end",
        ]
    )


def offer_changes_due(*, on: date) -> list[int]:
    """Contracts in service whose latest offer subscription started on or before ``on`` but is
    not yet their offer (a change recorded in advance, reaching D)."""
    return list(
        Subscription.objects.filter(
            kind=Subscription.Kind.OFFER, start_date__lte=on, contract__status=S.ACTIVE
        )
        .exclude(product=F("contract__offer__code"))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")))
        .values_list("contract_id", flat=True)
        .distinct()
    )


@transaction.atomic
def contract_offer_change_apply(*, contract: Contract, on: date, actor: Actor) -> Contract:
    """The daily job's half of a change recorded in advance: on D, the new offer becomes the
    contract's offer. Idempotent."""
    contract = _locked(contract)
    latest = (
        Subscription.objects.filter(
            contract=contract, kind=Subscription.Kind.OFFER, start_date__lte=on
        )
        .order_by("-start_date", "-pk")
        .first()
    )
    if latest is None or latest.product == contract.offer.code or contract.status != S.ACTIVE:
        return contract
    if latest.end_date is not None and latest.end_date < latest.start_date:
        return contract  # cancelled by a termination before D
    _offer_switch(contract=contract, subscription=latest)
    event_record(
        actor=actor,
        verb="contract.offer_switched",
        at=_at(latest.start_date),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"{contract.reference} : l'offre {contract.offer_label} est en vigueur depuis le "
        f"{latest.start_date:%d/%m/%Y}",
        data={"offer": contract.offer.code, "effective_date": latest.start_date.isoformat()},
    )
    return contract
