"""Public endpoints: address type-ahead and eligibility (C1), rate-limited per client address."""

from __future__ import annotations

import pytest
from django.test import override_settings

from raccord.api.throttling import PublicApiThrottle

pytestmark = pytest.mark.django_db


def _json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"message", "field", "code"}
    return body


# --- addresses ------------------------------------------------------------------------------


def test_address_search_returns_ids_and_labels(client, catalogue):
    # when
    response = client.get("/api/v1/addresses", {"q": "Marché"})
    # then
    assert response.status_code == 200
    results = response.json()
    assert results[0] == {
        "id": catalogue.address_subsidised.pk,
        "label": catalogue.address_subsidised.label,
        "numero": 3,
        "rep": "",
        "street": "Place du Marché",
        "postal_code": "88100",
        "insee_code": "88413",
        "commune": "Saint-Dié-des-Vosges",
    }


def test_address_search_honours_limit(client, catalogue):
    response = client.get("/api/v1/addresses", {"q": "Strasbourg", "limit": 1})
    assert response.status_code == 200
    assert len(response.json()) == 1


def test_blank_query_finds_nothing(client, catalogue):
    response = client.get("/api/v1/addresses", {"q": "  "})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "rue", "limit": "beaucoup"}, "limit"),
        ({"q": "rue", "limit": "0"}, "limit"),
        ({"q": "rue", "limit": "51"}, "limit"),
        ({"q": "rue", "limit": "9" * 40}, "limit"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_address_queries_get_a_json_error_naming_the_field(client, catalogue, params, field):
    body = _json_error(client.get("/api/v1/addresses", params), 422)
    assert body["field"] == field
    assert body["message"]


# --- eligibility (C1) -----------------------------------------------------------------------


def test_covered_address_lists_offers_with_catalogue_prices__C1(client, catalogue):
    # when
    response = client.get("/api/v1/eligibility", {"address_id": catalogue.address.pk})
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["eligible"] is True
    assert body["premises_equipped"] is False
    assert body["address"]["id"] == catalogue.address.pk
    offers = {o["code"]: o for o in body["offers"]}
    assert set(offers) == {"THD30", "FIBRE300"}
    thd = offers["THD30"]
    assert thd["label"] == "THD Radio 30"
    assert thd["technology"] == "radio"
    assert (thd["download_mbps"], thd["upload_mbps"]) == (30, 5)
    assert thd["monthly_price"] == "29.90"
    assert thd["setup_fee"] == "49.00"
    assert thd["setup_subsidy"] == "0.00"
    assert thd["setup_fee_due"] == "49.00"
    assert thd["commitment_months"] == 12
    assert thd["lead_time_days"] == catalogue.thd30.lead_time_days
    assert thd["options"] == [{"code": "TEL", "label": "Téléphonie", "monthly_price": "5.00"}]
    assert offers["FIBRE300"]["commitment_months"] == 24


def test_zone_price_override_and_subsidy_are_shown__C1(client, catalogue):
    response = client.get("/api/v1/eligibility", {"address_id": catalogue.address_subsidised.pk})
    assert response.status_code == 200
    (offer,) = response.json()["offers"]
    assert offer["code"] == "THD30"
    assert offer["monthly_price"] == "24.90"  # the zone's price, not the catalogue's 29.90
    assert offer["download_mbps"] == 50
    assert offer["setup_fee"] == "49.00"
    assert offer["setup_subsidy"] == "49.00"
    assert offer["setup_fee_due"] == "0.00"
    assert offer["subsidy_authority"] == "Conseil départemental des Vosges"


def test_uncovered_address_has_no_offer__C1(client, catalogue):
    response = client.get("/api/v1/eligibility", {"address_id": catalogue.address_uncovered.pk})
    assert response.status_code == 200
    assert response.json()["eligible"] is False
    assert response.json()["offers"] == []


def test_excluded_address_has_no_offer__C1(client, catalogue):
    response = client.get("/api/v1/eligibility", {"address_id": catalogue.address_excluded.pk})
    assert response.json()["offers"] == []


def test_equipped_premises_are_flagged_with_the_short_lead_time__C1(client, catalogue):
    response = client.get("/api/v1/eligibility", {"address_id": catalogue.address_equipped.pk})
    body = response.json()
    assert body["premises_equipped"] is True
    thd = next(o for o in body["offers"] if o["code"] == "THD30")
    assert thd["lead_time_days"] == catalogue.thd30.equipped_lead_time_days
    assert thd["lead_time_days"] != catalogue.thd30.lead_time_days


def test_eligibility_costs_a_fixed_number_of_queries__C1(
    client, catalogue, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/eligibility", {"address_id": catalogue.address.pk})
    assert len(response.json()["offers"]) == 2


def test_unknown_address_id_is_a_404_on_the_field__C1(client, catalogue):
    body = _json_error(client.get("/api/v1/eligibility", {"address_id": 987654}), 404)
    assert body["field"] == "address_id"
    assert body["code"] == "not_found"


@pytest.mark.parametrize("value", [None, "", "abc", "1.5", "-3", "0", "9" * 30])
def test_bad_address_ids_get_a_json_error__C1(client, catalogue, value):
    params = {} if value is None else {"address_id": value}
    body = _json_error(client.get("/api/v1/eligibility", params), 422)
    assert body["field"] == "address_id"


# --- rate limit ------------------------------------------------------------------------------


@override_settings(RACCORD_RATE_LIMITS={"public_api": 3, "login": 5})
def test_public_endpoints_are_rate_limited_per_client_address(client, catalogue, monkeypatch):
    # Hold the clock 20 s into a window so that no window boundary falls inside the test.
    monkeypatch.setattr(PublicApiThrottle, "timer", staticmethod(lambda: 1_800_000_020.0))
    # given three requests, the limit, from one address (bad requests count too)
    assert client.get("/api/v1/addresses", {"q": "rue"}).status_code == 200
    assert client.get("/api/v1/eligibility", {"address_id": "x"}).status_code == 422
    assert client.get("/api/v1/addresses", {"q": "rue"}).status_code == 200
    # when a fourth arrives
    response = client.get("/api/v1/eligibility", {"address_id": catalogue.address.pk})
    # then it is refused with a JSON 429 and a delay to wait
    body = _json_error(response, 429)
    assert body["code"] == "rate_limited"
    assert response["Retry-After"] == "40"
    # while another address still gets answers
    other = client.get("/api/v1/addresses", {"q": "rue"}, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200
