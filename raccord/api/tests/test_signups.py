"""Sign-ups by partners and agents through the API (C2): the funnel's checks, an idempotency key,
and JSON errors naming the field for every bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from raccord.api.auth import ApiPrincipal
from raccord.api.tests.conftest import bearer
from raccord.conftest import VALID_IBAN, Catalogue
from raccord.contracts.models import Contract
from raccord.core.models import Event
from raccord.customers.models import Customer
from raccord.payments.models import Mandate

pytestmark = pytest.mark.django_db
URL = "/api/v1/signups"


@pytest.fixture
def body(catalogue: Catalogue) -> dict[str, Any]:
    return {
        "address_id": catalogue.address.pk,
        "offer_code": "THD30",
        "option_codes": ["TEL"],
        "civility": "m",
        "first_name": "Yannick",
        "last_name": "Keller",
        "email": "yannick.keller@example.org",
        "phone": "06 98 76 54 32",
        "payment_method": "sepa",
        "iban": VALID_IBAN,
        "account_holder": "Yannick Keller",
        "installation_mode": "kit",
        "cgv_accepted": True,
        "express_start": False,
        "signup_ip": "203.0.113.9",
    }


def _post(client, token: str, payload: Any, **headers: Any):
    data = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(URL, data, content_type="application/json", **bearer(token), **headers)


def _assert_nothing_written() -> None:
    assert Contract.objects.count() == 0
    assert Customer.objects.count() == 0
    assert Mandate.objects.count() == 0


def test_partner_signup_creates_a_contract_on_channel_api__C2(client, integration_token, body):
    # when
    response = _post(client, integration_token, body)
    # then
    assert response.status_code == 201, response.content
    created = response.json()
    contract = Contract.objects.get()
    assert created["id"] == contract.pk
    assert created["status"] == "ordered"
    assert created["network_login"] == contract.network_login
    assert contract.channel == Contract.Channel.API
    assert created["channel"] == "api"
    assert contract.signup_ip == "203.0.113.9"
    assert contract.customer.email == "yannick.keller@example.org"
    assert contract.mandate is not None
    assert contract.mandate.signature_method == Mandate.SignatureMethod.API
    assert [o.option.code for o in contract.options.all()] == ["TEL"]
    assert VALID_IBAN not in response.content.decode()


def test_partner_signup_events_name_the_partner__C2(client, integration_token, body):
    _post(client, integration_token, body)
    ordered = Event.objects.get(verb="contract.ordered")
    assert ordered.actor_kind == Event.ActorKind.PARTNER
    assert ordered.actor_label == "comparateur"
    assert ordered.actor_user is None
    assert ordered.data["channel"] == "api"


def test_zone_prices_are_copied_to_the_contract__C1_C2(client, integration_token, body, catalogue):
    body["address_id"] = catalogue.address_subsidised.pk
    response = _post(client, integration_token, body)
    assert response.status_code == 201
    created = response.json()
    assert created["monthly_price"] == "24.90"
    assert created["setup_subsidy"] == "49.00"
    assert created["setup_fee_due"] == "0.00"
    assert created["subsidy_authority"] == "Conseil départemental des Vosges"


def test_agent_signup_by_phone_by_default_names_the_agent__C2(
    client, agent_token, agent_user, body
):
    # when
    response = _post(client, agent_token, body)
    # then
    assert response.status_code == 201, response.content
    contract = Contract.objects.get()
    assert contract.channel == Contract.Channel.PHONE
    assert contract.signup_agent == agent_user
    assert contract.signup_ip is None  # no customer address on a phone call
    ordered = Event.objects.get(verb="contract.ordered")
    assert ordered.actor_kind == Event.ActorKind.AGENT
    assert ordered.actor_user == agent_user


def test_agent_may_record_a_paper_form__C2(client, agent_token, body):
    body["channel"] = "paper"
    response = _post(client, agent_token, body)
    assert response.status_code == 201
    contract = Contract.objects.get()
    assert contract.channel == Contract.Channel.PAPER
    assert contract.mandate is not None
    assert contract.mandate.signature_method == Mandate.SignatureMethod.PAPER


@pytest.mark.parametrize("channel", ["phone", "paper"])
def test_integration_token_cannot_pass_an_agent_channel__C2(
    client, integration_token, body, channel
):
    body["channel"] = channel
    response = _post(client, integration_token, body)
    assert response.status_code == 403
    assert response.json()["field"] == "channel"
    assert response.json()["code"] == "forbidden"
    _assert_nothing_written()


def test_agent_token_cannot_pass_channel_api__C2(client, agent_token, body):
    body["channel"] = "api"
    assert _post(client, agent_token, body).status_code == 403
    _assert_nothing_written()


def test_idempotency_key_gives_one_contract__C2(client, integration_token, body):
    key = str(uuid.uuid4())
    # when the same sign-up is sent twice with the same key
    first = _post(client, integration_token, body, HTTP_IDEMPOTENCY_KEY=key)
    second = _post(client, integration_token, body, HTTP_IDEMPOTENCY_KEY=key)
    # then one contract exists and both answers show it
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()
    assert Contract.objects.count() == 1
    assert str(Contract.objects.get().signup_key) == key
    assert Event.objects.filter(verb="contract.ordered").count() == 1


def test_without_key_a_retry_is_refused_on_the_email__C2(client, integration_token, body):
    assert _post(client, integration_token, body).status_code == 201
    retry = _post(client, integration_token, body)
    assert retry.status_code == 400
    assert retry.json()["field"] == "email"
    assert Contract.objects.count() == 1


def test_bad_idempotency_key_is_a_json_error(client, integration_token, body):
    response = _post(client, integration_token, body, HTTP_IDEMPOTENCY_KEY="pas-un-uuid")
    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
    _assert_nothing_written()


# --- bad input: the funnel's checks, one JSON error per field -------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"address_id": 987654}, "address_id"),
        ({"offer_code": "INCONNUE"}, "offer_code"),
        ({"offer_code": ""}, "offer_code"),
        ({"option_codes": ["NOPE"]}, "option_codes"),
        ({"first_name": "  "}, "first_name"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"birth_date": "2020-01-01"}, "birth_date"),
        ({"iban": "FR7630006000011234567890188"}, "iban"),
        ({"account_holder": ""}, "account_holder"),
        ({"installation_mode": "equipped"}, "installation_mode"),
        ({"cgv_accepted": False}, "cgv_accepted"),
        ({"cgv_version_id": 999}, "cgv_accepted"),
        ({"delivery_same_as_installation": False}, "delivery_address"),
    ],
)
def test_signup_refused_by_a_check_is_a_400_naming_the_field__C2(
    client, integration_token, body, changes, field
):
    # when
    response = _post(client, integration_token, {**body, **changes})
    # then
    assert response.status_code == 400, response.content
    error = response.json()
    assert field in {e["field"] for e in error["errors"]}
    assert error["field"] == error["errors"][0]["field"]
    assert all(e["message"] for e in error["errors"])
    _assert_nothing_written()


def test_uncovered_address_is_refused__C1_C2(client, integration_token, body, catalogue):
    body["address_id"] = catalogue.address_uncovered.pk
    response = _post(client, integration_token, body)
    assert response.status_code == 400
    assert response.json()["field"] == "address_id"
    _assert_nothing_written()


def test_several_wrong_fields_are_all_listed__C2(client, integration_token, body):
    body.update(email="x", phone="1", account_holder="")
    response = _post(client, integration_token, body)
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"email", "phone", "account_holder"} <= fields


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("{pas du json", None),
        ("", None),
        ("[]", None),
        ('"texte"', None),
        ("null", None),
        ({"address_id": "abc"}, "address_id"),
        ({"address_id": 1.5}, "address_id"),
        ({"address_id": 10**30}, "address_id"),
        ({"address_id": -1}, "address_id"),
        ({"cgv_version_id": 10**30}, "cgv_version_id"),
        ({"email": ["a"]}, "email"),
        ({"cgv_accepted": "peut-être"}, "cgv_accepted"),
        ({"birth_date": "31/12/1980"}, "birth_date"),
        ({"option_codes": "TEL"}, "option_codes"),
        ({"option_codes": ["TEL"] * 50}, "option_codes"),
        ({"payment_method": "bitcoin"}, "payment_method"),
        ({"installation_mode": "drone"}, "installation_mode"),
        ({"channel": "pigeon"}, "channel"),
        ({"signup_ip": "999.1.1.1"}, "signup_ip"),
        ({"first_name": "x" * 5000}, "first_name"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_malformed_signups_get_a_json_4xx_and_write_nothing(
    client, integration_token, body, payload, field
):
    data = payload if isinstance(payload, str) else {**body, **payload}
    response = _post(client, integration_token, data)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()
    assert set(error) >= {"message", "field", "code"}
    if field is not None:
        assert error["field"] == field
    _assert_nothing_written()


def test_malformed_json_says_so(client, integration_token):
    response = _post(client, integration_token, "{pas du json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_empty_body_says_so(client, integration_token):
    response = _post(client, integration_token, "")
    assert response.status_code == 422
    assert "vide" in response.json()["message"]


def test_missing_fields_are_all_listed(client, integration_token):
    response = _post(client, integration_token, {})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"address_id", "offer_code", "email", "payment_method", "installation_mode"} <= fields


def test_key_used_by_a_sign_up_the_caller_cannot_read_is_a_conflict(
    client, integration_token, body, contract, monkeypatch
):
    # given a contract signed elsewhere, and a caller whose view does not include it (the way a
    # customer principal would see only its own contracts)
    monkeypatch.setattr(ApiPrincipal, "contracts", lambda self: Contract.objects.none())
    # when its key is sent again
    response = _post(client, integration_token, body, HTTP_IDEMPOTENCY_KEY=str(contract.signup_key))
    # then nothing of that contract is shown
    assert response.status_code == 409
    assert response.json()["field"] == "Idempotency-Key"
    assert contract.reference not in response.content.decode()
    assert Contract.objects.count() == 1
