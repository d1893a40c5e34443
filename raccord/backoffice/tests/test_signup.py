"""Sign-ups taken by an agent by phone or from a paper form (C2)."""

from __future__ import annotations

import re
import uuid
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from raccord.conftest import VALID_IBAN, Catalogue
from raccord.contracts.models import Contract
from raccord.core.models import Event
from raccord.customers.models import Customer
from raccord.payments.models import Mandate

pytestmark = pytest.mark.django_db

SIGNUP = "/gestion/souscription/nouvelle/"


def _form(catalogue: Catalogue, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "phone",
        "address_id": catalogue.address.pk,
        "signup_key": str(uuid.uuid4()),
        "cgv_version_id": catalogue.cgv.pk,
        "offer_code": "THD30",
        "option_codes": ["TEL"],
        "civility": "mme",
        "first_name": "Camille",
        "last_name": "Martin",
        "email": "camille.martin@example.org",
        "phone": "06 12 34 56 78",
        "birth_date": "",
        "installation_complement": "",
        "delivery_same_as_installation": "on",
        "installation_mode": "kit",
        "payment_method": "sepa",
        "iban": VALID_IBAN,
        "account_holder": "Camille Martin",
        "cgv_accepted": "on",
        "express_start": "on",
        "special_mentions": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _nothing_written(users_before: int) -> None:
    assert Contract.objects.count() == 0
    assert Customer.objects.count() == 0
    assert Mandate.objects.count() == 0
    assert Event.objects.count() == 0
    assert User.objects.count() == users_before


def test_address_step_lists_matching_addresses(agent_client: Client, catalogue: Catalogue) -> None:
    response = agent_client.get(SIGNUP, {"adresse": "Strasbourg"})
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "12 Rue des Écoles, 67000 Strasbourg" in html
    assert f"?address_id={catalogue.address.pk}" in html
    assert "Place du Marché" not in html


def test_form_step_shows_the_offers_at_local_prices_and_a_signup_key(
    agent_client: Client, catalogue: Catalogue
) -> None:
    response = agent_client.get(SIGNUP, {"address_id": catalogue.address_subsidised.pk})
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "THD Radio 30 – 24,90 € par mois, mise en service 0,00 €" in html  # zone price (C1)
    assert 'name="signup_key"' in html and 'name="channel"' in html
    assert "Par téléphone" in html and "Formulaire papier" in html
    assert "version 2026-01" in html


def test_uncovered_address_shows_no_form(agent_client: Client, catalogue: Catalogue) -> None:
    response = agent_client.get(SIGNUP, {"address_id": catalogue.address_uncovered.pk})
    html = unescape(response.content.decode())
    assert "Aucune offre n'est disponible à cette adresse" in html
    assert 'name="signup_key"' not in html


def test_sign_up_by_phone_creates_the_contract_for_the_agent__C2(
    agent_client: Client, agent: User, catalogue: Catalogue
) -> None:
    # when an agent records a phone sign-up
    response = agent_client.post(SIGNUP, _form(catalogue))
    # then the contract exists, by phone, entered by this agent
    contract = Contract.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "backoffice:customer_detail", args=[contract.customer_id]
    )
    assert contract.channel == Contract.Channel.PHONE
    assert contract.signup_agent == agent
    assert contract.signup_ip is None  # the agent's address is not the customer's
    assert contract.express_start is True and contract.cgv_version == catalogue.cgv
    assert [o.label for o in contract.options.all()] == ["Téléphonie"]
    assert contract.mandate is not None
    assert contract.mandate.signature_method == Mandate.SignatureMethod.PHONE
    # and the history says an agent did it
    ordered = Event.objects.get(verb="contract.ordered", customer_id=contract.customer_id)
    assert ordered.actor_kind == Event.ActorKind.AGENT
    assert ordered.actor_user == agent and ordered.data["channel"] == "phone"
    assert set(
        Event.objects.filter(customer_id=contract.customer_id).values_list("actor_kind", flat=True)
    ) == {Event.ActorKind.AGENT}
    # and the customer page confirms it
    page = unescape(agent_client.get(response["Location"]).content.decode())
    assert f"Souscription enregistrée : contrat {contract.reference}." in page


def test_sign_up_from_a_paper_form_records_the_paper_channel__C2(
    agent_client: Client, catalogue: Catalogue
) -> None:
    agent_client.post(
        SIGNUP, _form(catalogue, channel="paper", payment_method="cheque", express_start=None)
    )
    contract = Contract.objects.get()
    assert contract.channel == Contract.Channel.PAPER
    assert contract.payment_method == "cheque" and contract.mandate is None
    assert contract.express_start is False


def test_channel_is_required(agent_client: Client, catalogue: Catalogue) -> None:
    users = User.objects.count()
    response = agent_client.post(SIGNUP, _form(catalogue, channel=None))
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert "Indiquez comment la souscription a été reçue" in html
    _nothing_written(users)


def test_online_channel_is_not_an_agent_channel(agent_client: Client, catalogue: Catalogue) -> None:
    users = User.objects.count()
    response = agent_client.post(SIGNUP, _form(catalogue, channel="online"))
    assert response.status_code == 400
    assert "Choisissez « par téléphone » ou « formulaire papier »." in unescape(
        response.content.decode()
    )
    _nothing_written(users)


def test_bad_input_shows_french_errors_next_to_each_field_and_writes_nothing(
    agent_client: Client, catalogue: Catalogue
) -> None:
    users = User.objects.count()
    # given several mistakes at once
    data = _form(
        catalogue,
        first_name="",
        phone="12 34",
        iban="FR7630006000011234567890188",  # wrong RIB key
        birth_date="31/02/1980",
        cgv_accepted=None,
    )
    response = agent_client.post(SIGNUP, data)
    html = unescape(response.content.decode())
    # then the page comes back with every error, in French, each linked to its field
    assert response.status_code == 400
    expected = {
        "first_name": "Indiquez votre prénom.",
        "phone": "Indiquez un numéro de téléphone français à 10 chiffres",
        "iban": "Cet IBAN n'est pas valide",
        "birth_date": "Saisissez une date valide",
        "cgv_accepted": "Cochez cette case une fois que le client a accepté",
    }
    for field, message in expected.items():
        error_id = f"id_{field}-error"
        assert f'id="{error_id}"' in html, field
        block = html[html.index(f'id="{error_id}"') :][:300]
        assert message in block, field
        assert re.search(rf'aria-describedby="[^"]*{error_id}', html), field
        assert re.search(rf'aria-invalid="true"[^>]*id="id_{field}"', html), field
    assert "Corrigez les points suivants" in html
    # the typed values come back, but never the IBAN
    assert 'value="Martin"' in html
    assert "FR7630006000011234567890188" not in html and VALID_IBAN not in html
    # and nothing was written
    _nothing_written(users)


def test_double_submit_creates_one_contract__C2(agent_client: Client, catalogue: Catalogue) -> None:
    data = _form(catalogue)
    first = agent_client.post(SIGNUP, data)
    second = agent_client.post(SIGNUP, data)
    assert Contract.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Event.objects.filter(verb="contract.ordered").count() == 1


def test_existing_email_is_refused_in_french(
    agent_client: Client, catalogue: Catalogue, contract: Contract
) -> None:
    response = agent_client.post(SIGNUP, _form(catalogue, email=contract.customer.email))
    assert response.status_code == 400
    assert "Un compte existe déjà avec cette adresse email" in unescape(response.content.decode())
    assert Contract.objects.count() == 1


def test_unknown_address_sends_back_to_the_address_search(
    agent_client: Client, catalogue: Catalogue
) -> None:
    users = User.objects.count()
    response = agent_client.post(SIGNUP, _form(catalogue, address_id="999999"))
    assert response.status_code == 400
    assert "Cette adresse est inconnue" in unescape(response.content.decode())
    _nothing_written(users)


def test_equipped_mode_is_offered_only_for_equipped_premises(
    agent_client: Client, catalogue: Catalogue
) -> None:
    plain = agent_client.get(SIGNUP, {"address_id": catalogue.address.pk}).content.decode()
    equipped = agent_client.get(
        SIGNUP, {"address_id": catalogue.address_equipped.pk}
    ).content.decode()
    assert 'value="equipped"' not in plain
    assert 'value="equipped"' in equipped
