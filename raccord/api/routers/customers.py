"""Customers and contracts, read with a token (agents and partners)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from raccord.api.auth import principal_of, token_auth
from raccord.api.schemas import (
    MAX_ID,
    ContractOut,
    ContractPage,
    CustomerDetailOut,
    CustomerPage,
    Error,
)
from raccord.api.selectors import contract_get, contract_list, customer_get, customer_list
from raccord.contracts.models import Contract
from raccord.core.errors import NotFound

router = Router(tags=["Clients et contrats"], auth=token_auth)

READ_ERRORS: dict[int, Any] = {401: Error, 404: Error, 422: Error}


class PageQuery(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)


class CustomerQuery(PageQuery):
    q: str = Field("", max_length=200, description="Nom, email, numéro client ou téléphone.")


class ContractQuery(PageQuery):
    status: Contract.Status | None = Field(None, description="Filtre sur le statut.")


def _page(qs: Any, params: PageQuery) -> dict[str, Any]:
    return {
        "count": qs.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": list(qs[params.offset : params.offset + params.limit]),
    }


@router.get("/customers", response={200: CustomerPage, **READ_ERRORS})
def customers_list(request: HttpRequest, params: Query[CustomerQuery]) -> Any:
    return _page(customer_list(principal=principal_of(request), q=params.q), params)


@router.get("/customers/{customer_id}", response={200: CustomerDetailOut, **READ_ERRORS})
def customers_get(request: HttpRequest, customer_id: int) -> Any:
    customer = None
    if 0 < customer_id < MAX_ID:
        customer = customer_get(principal=principal_of(request), customer_id=customer_id)
    if customer is None:
        raise NotFound("Client introuvable.", field="customer_id")
    return customer


@router.get("/contracts", response={200: ContractPage, **READ_ERRORS})
def contracts_list(request: HttpRequest, params: Query[ContractQuery]) -> Any:
    status = params.status.value if params.status else None
    return _page(contract_list(principal=principal_of(request), status=status), params)


@router.get("/contracts/{contract_id}", response={200: ContractOut, **READ_ERRORS})
def contracts_get(request: HttpRequest, contract_id: int) -> Any:
    contract = None
    if 0 < contract_id < MAX_ID:
        contract = contract_get(principal=principal_of(request), contract_id=contract_id)
    if contract is None:
        raise NotFound("Contrat introuvable.", field="contract_id")
    return contract
