"""Reads behind the API endpoints, each fetching everything its schema shows in a fixed number
of queries (no query per row)."""

from __future__ import annotations

import re
from collections import defaultdict

from django.db.models import Prefetch, Q, QuerySet

from raccord.api.auth import ApiPrincipal
from raccord.catalog.models import Option
from raccord.contracts.models import Contract, ContractOption
from raccord.customers.models import Customer

_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def customer_list(*, principal: ApiPrincipal, q: str = "") -> QuerySet[Customer]:
    """Customers matching ``q``: a phone number typed any way (``06 12 34``, ``+33 6…``), or
    words that each appear in a name, the email or the reference."""
    qs = principal.customers()
    compact = _PHONE_SEPARATORS.sub("", q)
    if len(compact) >= 4 and compact.lstrip("+").isdigit():
        # Phones are stored as 10 national digits (``normalize_phone``).
        digits = compact.lstrip("+")
        if compact.startswith("+33"):
            digits = "0" + digits[2:]
        elif compact.startswith("0033"):
            digits = "0" + digits[4:]
        return qs.filter(phone__contains=digits).order_by("last_name", "first_name", "id")
    for word in q.split()[:6]:
        qs = qs.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(reference__iexact=word)
        )
    return qs.order_by("last_name", "first_name", "id")


def customer_get(*, principal: ApiPrincipal, customer_id: int) -> Customer | None:
    return (
        principal.customers()
        .prefetch_related(
            Prefetch(
                "contracts",
                queryset=Contract.objects.only(
                    "id", "reference", "status", "offer_label", "customer_id"
                ),
            )
        )
        .filter(pk=customer_id)
        .first()
    )


def _contracts_with_relations(qs: QuerySet[Contract]) -> QuerySet[Contract]:
    return qs.select_related(
        "offer", "cgv_version", "installation_address", "mandate"
    ).prefetch_related(
        Prefetch("options", queryset=ContractOption.objects.select_related("option").order_by("id"))
    )


def contract_list(*, principal: ApiPrincipal, status: str | None = None) -> QuerySet[Contract]:
    qs = principal.contracts()
    if status:
        qs = qs.filter(status=status)
    return _contracts_with_relations(qs).order_by("-signed_at", "-id")


def contract_get(*, principal: ApiPrincipal, contract_id: int) -> Contract | None:
    return _contracts_with_relations(principal.contracts()).filter(pk=contract_id).first()


def options_by_offer(*, offer_ids: list[int]) -> dict[int, list[Option]]:
    """Active options of each offer, in one query for all the offers of an eligibility answer."""
    through = Option.offers.through
    rows = (
        through.objects.filter(offer_id__in=offer_ids, option__is_active=True)
        .select_related("option")
        .order_by("option__monthly_price", "option__code")
    )
    result: dict[int, list[Option]] = defaultdict(list)
    for row in rows:
        result[row.offer_id].append(row.option)
    return dict(result)
