"""Reads for the eligibility test: address type-ahead search."""

from __future__ import annotations

from raccord.eligibility.models import Address


def address_search(*, query: str, limit: int = 10) -> list[Address]:
    """Addresses matching a typed query (street, number, commune), best first.

    Placeholder implementation: the fast, accent-tolerant ranked search replaces it."""
    words = [w for w in query.split() if w]
    if not words:
        return []
    qs = Address.objects.all()
    for word in words:
        qs = qs.filter(nom_voie__icontains=word) | qs.filter(nom_commune__icontains=word)
    return list(qs.order_by("nom_commune", "nom_voie", "numero")[:limit])


def address_get(*, address_id: int) -> Address | None:
    return Address.objects.filter(pk=address_id).first()
