"""Eligibility (C1): which offers an address can have, at which local price; the address base
import (BAN) and the street index the type-ahead searches."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction

from raccord.catalog.models import Offer, Zone, ZoneOffer
from raccord.core.money import ZERO
from raccord.eligibility.ban_import import BAN_COLUMNS, address_import
from raccord.eligibility.models import Address, Premises, Street, StreetToken
from raccord.eligibility.search_keys import street_keys

__all__ = [
    "BAN_COLUMNS",
    "EligibilityResult",
    "EligibleOffer",
    "address_import",
    "address_index_missing",
    "eligibility_check",
    "street_ensure",
]


@dataclass(frozen=True)
class EligibleOffer:
    offer: Offer
    zone: Zone
    monthly_price: Decimal
    setup_fee: Decimal
    setup_subsidy: Decimal
    equipment_subsidy: Decimal
    download_mbps: int
    upload_mbps: int
    lead_time_days: int
    subsidy_authority: str

    @property
    def setup_fee_due(self) -> Decimal:
        """What the subscriber pays for the set-up once the local subsidy is deducted."""
        return max(ZERO, self.setup_fee - self.setup_subsidy)


@dataclass(frozen=True)
class EligibilityResult:
    address: Address
    premises_equipped: bool
    offers: list[EligibleOffer] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return bool(self.offers)

    def offer(self, code: str) -> EligibleOffer | None:
        return next((item for item in self.offers if item.offer.code == code), None)


def eligibility_check(*, address: Address) -> EligibilityResult:
    """Offers available at ``address`` with their local prices and subsidies (C1).

    When several zones cover the address and sell the same offer, the most specific zone wins:
    an address-level inclusion, then a commune, then a department."""
    premises = Premises.objects.filter(address=address, equipped=True).exists()
    zone_offers = (
        ZoneOffer.objects.filter(offer__is_active=True)
        .select_related("zone", "offer")
        .order_by("offer__position", "offer__monthly_price", "offer__code")
    )
    best: dict[int, tuple[int, ZoneOffer]] = {}
    for zone_offer in zone_offers:
        zone = zone_offer.zone
        if not zone.covers(insee_code=address.code_insee, ban_id=address.ban_id):
            continue
        specificity = (
            3
            if address.ban_id in zone.included_addresses
            else 2
            if address.code_insee in zone.communes
            else 1
        )
        current = best.get(zone_offer.offer_id)
        if current is None or specificity > current[0]:
            best[zone_offer.offer_id] = (specificity, zone_offer)
    offers = []
    for _specificity, zo in best.values():
        offer = zo.offer
        offers.append(
            EligibleOffer(
                offer=offer,
                zone=zo.zone,
                monthly_price=zo.monthly_price
                if zo.monthly_price is not None
                else offer.monthly_price,
                setup_fee=zo.setup_fee if zo.setup_fee is not None else offer.setup_fee,
                setup_subsidy=zo.setup_subsidy,
                equipment_subsidy=zo.equipment_subsidy,
                download_mbps=zo.download_mbps or offer.download_mbps,
                upload_mbps=zo.upload_mbps or offer.upload_mbps,
                lead_time_days=offer.equipped_lead_time_days if premises else offer.lead_time_days,
                subsidy_authority=zo.zone.subsidy_authority,
            )
        )
    offers.sort(key=lambda item: (item.offer.position, item.monthly_price, item.offer.code))
    return EligibilityResult(address=address, premises_equipped=premises, offers=offers)


def street_ensure(*, code_insee: str, code_postal: str, nom_commune: str, nom_voie: str) -> int:
    """The id of the street these fields define, creating it and its search tokens if needed.

    Used when addresses are saved one at a time; the import does the same in bulk."""
    keys = street_keys(
        code_insee=code_insee, code_postal=code_postal, nom_commune=nom_commune, nom_voie=nom_voie
    )
    if not Street.objects.filter(pk=keys.street_id).exists():
        try:
            with transaction.atomic():
                Street.objects.create(
                    id=keys.street_id,
                    code_insee=code_insee,
                    code_postal=code_postal,
                    nom_commune=nom_commune,
                    nom_voie=nom_voie,
                    street_key=keys.street_key,
                    commune_key=keys.commune_key,
                    search_text=keys.search_text,
                )
                StreetToken.objects.bulk_create(
                    StreetToken(token=token, street_id=keys.street_id) for token in keys.tokens
                )
        except IntegrityError:
            # Another writer created the same street meanwhile: its row is identical to ours.
            pass
    return keys.street_id


def address_index_missing() -> int:
    """Attach to their street the addresses written without ``save()`` nor the import
    (``bulk_create``, raw SQL), so that the type-ahead finds them. Returns how many."""
    attached = 0
    for address in Address.objects.filter(street__isnull=True).iterator(chunk_size=2000):
        street_id = street_ensure(
            code_insee=address.code_insee,
            code_postal=address.code_postal,
            nom_commune=address.nom_commune,
            nom_voie=address.nom_voie,
        )
        Address.objects.filter(pk=address.pk).update(street_id=street_id)
        attached += 1
    return attached
