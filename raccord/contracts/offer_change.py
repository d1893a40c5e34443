"""Offer change (C9, B4): the old offer is billed up to D-1 and the new one from D, at the price
of the zone; the commitment restarts at D with the new offer's duration and falls under the
termination regime in force at D (C11)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

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
        contract.offer.code == offer_code
        and current is not None
        and current.start_date == effective_date
        and current.product == offer_code
    ):
        return contract
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
    contract.offer = offer
    contract.offer_label = offer.label
    contract.monthly_price = eligible.monthly_price
    contract.commitment_months = offer.commitment_months
    contract.subsidised_equipment = offer.subsidised_equipment
    contract.termination_fee = offer.termination_fee
    contract.change_fee = offer.change_fee
    contract.vat_rate = offer.vat_rate
    contract.download_mbps = eligible.download_mbps
    contract.upload_mbps = eligible.upload_mbps
    contract.zone = eligible.zone
    # C7, C9: the commitment restarts at D with the new offer's duration.
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
            f", engagement jusqu'au {contract.commitment_end:%d/%m/%Y}"
            if contract.commitment_end
            else ""
        )
        + (f", frais de changement {fee.amount} €" if fee else ""),
        data={
            "from_offer": old_code,
            "to_offer": offer.code,
            "from_price": str(old_price),
            "to_price": str(eligible.monthly_price),
            "effective_date": effective_date.isoformat(),
            "commitment_start": contract.commitment_start.isoformat()
            if contract.commitment_start
            else None,
            "commitment_end": contract.commitment_end.isoformat()
            if contract.commitment_end
            else None,
            "change_fee": str(fee.amount) if fee else "0.00",
        },
    )
    return contract
