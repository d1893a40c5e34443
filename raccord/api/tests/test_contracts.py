"""Customers and contracts read with a token; the full IBAN never leaves the server."""

from __future__ import annotations

from datetime import date

import pytest

from raccord.api.tests.conftest import bearer
from raccord.conftest import VALID_IBAN, paris
from raccord.contracts.models import Contract
from raccord.contracts.services import (
    contract_activate,
    contract_equipment_receive,
    contract_kit_ship,
)
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.core.masking import iban_mask

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def _sign(signup_request: SignupRequest, n: int, **changes) -> Contract:
    """Another customer's sign-up, from the shared valid request."""
    request = SignupRequest(**{**signup_request.__dict__, **changes})
    request.email = f"client{n}@example.org"
    request.first_name = f"Client{n}"
    request.signup_key = None
    return signup_create(request=request, actor=Actor.customer(None), at=paris(2027, 1, 5))


def _activate(contract: Contract) -> Contract:
    contract_kit_ship(contract=contract, on=date(2027, 1, 8), actor=SYSTEM)
    contract_equipment_receive(contract=contract, on=date(2027, 1, 12), actor=SYSTEM)
    return contract_activate(contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM)


# --- contracts ----------------------------------------------------------------------------


def test_contract_detail_shows_what_was_signed__C2(client, integration_token, contract):
    # given
    contract = _activate(contract)
    # when
    response = client.get(f"/api/v1/contracts/{contract.pk}", **bearer(integration_token))
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == contract.pk
    assert body["reference"] == contract.reference
    assert body["customer_id"] == contract.customer_id
    assert body["network_login"] == contract.network_login
    assert body["status"] == "active"
    assert body["activation_date"] == "2027-01-20"
    assert body["commitment_start"] == "2027-01-20"
    assert body["commitment_end"] == "2028-01-19"
    assert body["commitment_months"] == 12
    assert (body["offer_code"], body["offer_label"]) == ("THD30", "THD Radio 30")
    assert body["monthly_price"] == "29.90"
    assert body["total_monthly_price"] == "34.90"
    assert body["setup_fee_due"] == "49.00"
    assert body["options"] == [{"code": "TEL", "label": "Téléphonie", "monthly_price": "5.00"}]
    assert body["installation_address"]["id"] == contract.installation_address_id
    assert body["channel"] == "online"
    assert body["cgv_version"] == "2026-01"
    assert body["payment"]["method"] == "sepa"
    assert body["payment"]["mandate_reference"] == contract.mandate.reference


def test_contract_detail_masks_the_iban(client, integration_token, contract):
    response = client.get(f"/api/v1/contracts/{contract.pk}", **bearer(integration_token))
    assert response.json()["payment"]["iban_masked"] == iban_mask(VALID_IBAN)
    raw = response.content.decode()
    assert VALID_IBAN not in raw
    assert VALID_IBAN[4:-4] not in raw  # not even the middle digits


def test_cheque_contract_has_no_mandate(client, integration_token, signup_request):
    contract = _sign(signup_request, 2, payment_method="cheque", iban="", account_holder="")
    body = client.get(f"/api/v1/contracts/{contract.pk}", **bearer(integration_token)).json()
    assert body["payment"] == {
        "method": "cheque",
        "mandate_reference": None,
        "iban_masked": None,
        "bic": None,
        "account_holder": None,
    }


def test_contracts_filter_by_status(client, agent_token, contract, signup_request):
    # given one active contract and one still ordered
    _activate(contract)
    ordered = _sign(signup_request, 2)
    # when
    active = client.get("/api/v1/contracts", {"status": "active"}, **bearer(agent_token)).json()
    pending = client.get("/api/v1/contracts", {"status": "ordered"}, **bearer(agent_token)).json()
    everything = client.get("/api/v1/contracts", **bearer(agent_token)).json()
    # then
    assert [c["id"] for c in active["items"]] == [contract.pk]
    assert [c["id"] for c in pending["items"]] == [ordered.pk]
    assert everything["count"] == 2


def test_contracts_are_paginated(client, agent_token, contract, signup_request):
    for n in range(2, 5):
        _sign(signup_request, n)
    page = client.get("/api/v1/contracts", {"limit": 2, "offset": 1}, **bearer(agent_token))
    body = page.json()
    assert (body["count"], body["limit"], body["offset"]) == (4, 2, 1)
    assert len(body["items"]) == 2
    all_ids = [
        c["id"] for c in client.get("/api/v1/contracts", **bearer(agent_token)).json()["items"]
    ]
    assert [c["id"] for c in body["items"]] == all_ids[1:3]


def test_contract_list_costs_the_same_queries_for_many_contracts_with_options(
    client, integration_token, contract, signup_request, django_assert_max_num_queries
):
    # given 6 contracts, each with an option and a mandate
    for n in range(2, 7):
        _sign(signup_request, n)
    # when / then: token lookup, count, page, options — whatever the page size
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/contracts", {"limit": 50}, **bearer(integration_token))
    items = response.json()["items"]
    assert len(items) == 6
    assert all(item["options"][0]["code"] == "TEL" for item in items)
    assert all(item["payment"]["iban_masked"] for item in items)


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/contracts/abc", 422, "contract_id"),
        ("/api/v1/contracts/1.5", 422, "contract_id"),
        ("/api/v1/contracts/99999999999999999999999999", 404, "contract_id"),
        ("/api/v1/contracts/0", 404, "contract_id"),
        ("/api/v1/contracts/-1", 404, "contract_id"),
        ("/api/v1/contracts/424242", 404, "contract_id"),
        ("/api/v1/contracts?status=inconnu", 422, "status"),
        ("/api/v1/contracts?limit=0", 422, "limit"),
        ("/api/v1/contracts?limit=100000000000000000000000", 422, "limit"),
        ("/api/v1/contracts?offset=-1", 422, "offset"),
        ("/api/v1/contracts?offset=99999999999999999999999", 422, "offset"),
        ("/api/v1/customers/abc", 422, "customer_id"),
        ("/api/v1/customers/424242", 404, "customer_id"),
        ("/api/v1/customers?limit=-5", 422, "limit"),
        ("/api/v1/customers?q=" + "x" * 300, 422, "q"),
    ],
)
def test_bad_ids_and_filters_get_a_json_error(
    client, integration_token, contract, path, status, field
):
    response = client.get(path, **bearer(integration_token))
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field
    assert body["message"]


# --- customers ----------------------------------------------------------------------------


def test_customer_detail_lists_the_contracts(client, agent_token, contract):
    response = client.get(f"/api/v1/customers/{contract.customer_id}", **bearer(agent_token))
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == contract.customer.reference
    assert (body["first_name"], body["last_name"]) == ("Camille", "Martin")
    assert body["email"] == "camille.martin@example.org"
    assert body["contracts"] == [
        {
            "id": contract.pk,
            "reference": contract.reference,
            "status": "ordered",
            "offer_label": "THD Radio 30",
        }
    ]


def test_customers_filter_by_q(client, agent_token, contract, signup_request):
    # given
    other = _sign(signup_request, 2)
    # when
    by_name = client.get("/api/v1/customers", {"q": "martin camille"}, **bearer(agent_token))
    by_email = client.get("/api/v1/customers", {"q": "client2@"}, **bearer(agent_token))
    by_ref = client.get("/api/v1/customers", {"q": other.customer.reference}, **bearer(agent_token))
    by_phone = client.get("/api/v1/customers", {"q": "06 12 34"}, **bearer(agent_token))
    by_intl_phone = client.get("/api/v1/customers", {"q": "+33 6 12"}, **bearer(agent_token))
    nobody = client.get("/api/v1/customers", {"q": "zzz"}, **bearer(agent_token))
    # then
    assert [c["id"] for c in by_name.json()["items"]] == [contract.customer_id]
    assert [c["id"] for c in by_email.json()["items"]] == [other.customer_id]
    assert [c["id"] for c in by_ref.json()["items"]] == [other.customer_id]
    assert by_phone.json()["count"] == 2
    assert by_intl_phone.json()["count"] == 2
    assert nobody.json() == {"count": 0, "limit": 20, "offset": 0, "items": []}


def test_customer_list_costs_a_fixed_number_of_queries(
    client, agent_token, contract, signup_request, django_assert_max_num_queries
):
    for n in range(2, 6):
        _sign(signup_request, n)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/customers", **bearer(agent_token))
    assert response.json()["count"] == 5
