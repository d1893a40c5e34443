"""Public endpoints (no token), rate-limited per client address: address type-ahead and the
eligibility test (C1)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from raccord.api.schemas import MAX_ID, AddressOut, EligibilityOut, Error
from raccord.api.selectors import options_by_offer
from raccord.api.throttling import PublicApiThrottle
from raccord.catalog.models import Technology
from raccord.core.errors import NotFound
from raccord.eligibility.selectors import address_get, address_search
from raccord.eligibility.services import eligibility_check

router = Router(tags=["Public"], throttle=PublicApiThrottle())

PUBLIC_ERRORS: dict[int, Any] = {404: Error, 422: Error, 429: Error}


class AddressQuery(Schema):
    q: str = Field(max_length=200, description="Texte tapé : numéro, voie, commune.")
    limit: int = Field(10, ge=1, le=50)


class EligibilityQuery(Schema):
    address_id: int = Field(ge=1, le=MAX_ID, description="Identifiant renvoyé par /addresses.")


@router.get("/addresses", response={200: list[AddressOut], **PUBLIC_ERRORS})
def addresses_search(request: HttpRequest, params: Query[AddressQuery]) -> Any:
    """Adresses correspondant au texte tapé, les meilleures d'abord."""
    return address_search(query=params.q, limit=params.limit)


@router.get("/eligibility", response={200: EligibilityOut, **PUBLIC_ERRORS})
def eligibility(request: HttpRequest, params: Query[EligibilityQuery]) -> Any:
    """Offres disponibles à une adresse, avec les prix et subventions locaux (C1)."""
    address = address_get(address_id=params.address_id)
    if address is None:
        raise NotFound(
            "Cette adresse est inconnue : cherchez-la avec /addresses.", field="address_id"
        )
    result = eligibility_check(address=address)
    options = options_by_offer(offer_ids=[item.offer.pk for item in result.offers])
    technologies = dict(Technology.choices)
    return {
        "address": address,
        "premises_equipped": result.premises_equipped,
        "eligible": result.eligible,
        "offers": [
            {
                "code": item.offer.code,
                "label": item.offer.label,
                "technology": item.offer.technology,
                "technology_label": str(technologies.get(item.offer.technology, "")),
                "download_mbps": item.download_mbps,
                "upload_mbps": item.upload_mbps,
                "monthly_price": item.monthly_price,
                "setup_fee": item.setup_fee,
                "setup_subsidy": item.setup_subsidy,
                "setup_fee_due": item.setup_fee_due,
                "equipment_subsidy": item.equipment_subsidy,
                "subsidy_authority": item.subsidy_authority,
                "commitment_months": item.offer.commitment_months,
                "lead_time_days": item.lead_time_days,
                "options": options.get(item.offer.pk, []),
            }
            for item in result.offers
        ],
    }
