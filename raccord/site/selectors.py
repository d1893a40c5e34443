"""Reads for the public site's pages (content only; prices and eligibility come from the
catalogue and eligibility domains)."""

from __future__ import annotations

from dataclasses import dataclass

from raccord.catalog.models import Offer, Option
from raccord.site.models import FaqEntry


@dataclass(frozen=True)
class OfferOnSale:
    offer: Offer
    options: list[Option]


def offers_on_sale() -> list[OfferOnSale]:
    """Active offers with their compatible options on sale, in catalogue order (2 queries)."""
    offers = Offer.objects.filter(is_active=True).prefetch_related("options")
    return [
        OfferOnSale(offer=offer, options=[o for o in offer.options.all() if o.is_active])
        for offer in offers
    ]


@dataclass(frozen=True)
class FaqCategory:
    name: str
    entries: list[FaqEntry]


def faq_published() -> list[FaqCategory]:
    """Published entries grouped by category, categories in the order of their first entry."""
    groups: dict[str, list[FaqEntry]] = {}
    for entry in FaqEntry.objects.filter(published=True).order_by("position", "id"):
        groups.setdefault(entry.category.strip() or "Questions générales", []).append(entry)
    return [FaqCategory(name=name, entries=entries) for name, entries in groups.items()]
