"""The customer page: identity, contracts as signed, mandates with a masked IBAN, history."""

from __future__ import annotations

import uuid
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from raccord.conftest import VALID_IBAN, paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor, event_record
from raccord.core.masking import iban_mask
from raccord.core.models import Event, OperatorProfile

pytestmark = pytest.mark.django_db


CUSTOMER_PAGE_QUERIES = 30


def _page(client: Client, contract: Contract) -> str:
    response = client.get(reverse("backoffice:customer_detail", args=[contract.customer_id]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_customer_page_shows_identity_and_the_contract_as_signed__C2(
    agent_client: Client, contract: Contract
) -> None:
    html = _page(agent_client, contract)
    customer = contract.customer
    assert customer.full_name in html and customer.email in html and customer.phone in html
    assert contract.reference in html and "THD Radio 30" in html
    assert "29,90 €" in html  # price copied at signature
    assert "Téléphonie" in html and "5,00 €" in html  # option at its signed price
    assert contract.network_login in html
    assert "kit expédié par transporteur" in html  # installation mode
    assert "en ligne" in html  # channel
    assert "version 2026-01" in html  # CGV accepted
    assert "<dd>demandé</dd>" in html  # express start
    assert "12 rue des écoles, 67000 strasbourg" in html.lower()


def test_customer_page_shows_the_masked_iban_and_never_the_full_one(
    agent_client: Client, contract: Contract
) -> None:
    html = _page(agent_client, contract)
    mandate = contract.mandate
    assert mandate is not None
    assert mandate.reference in html and mandate.bic in html and "Camille Martin" in html
    assert iban_mask(VALID_IBAN) in html
    assert VALID_IBAN not in html
    assert VALID_IBAN[4:] not in html  # not even without the country prefix


def test_history_is_listed_newest_first_with_actor_and_summary(
    agent_client: Client, contract: Contract, agent
) -> None:
    # given a later agent note in the customer's history
    event_record(
        actor=Actor.agent(agent),
        verb="note.added",
        summary="Appel du client au sujet de la livraison",
        at=paris(2027, 1, 9, 15, 0),
        subject_type="customer",
        subject_id=contract.customer_id,
        customer_id=contract.customer_id,
    )
    html = _page(agent_client, contract)
    # then every event of the customer is there, the newest first, with who did it
    assert html.index("Appel du client au sujet de la livraison") < html.index(
        f"Commande {contract.reference}"
    )
    assert "09/01/2027 15:00" in html
    assert f'<td>Agent<br><span class="muted small">{agent.get_username()}</span></td>' in html
    # the sign-up's own events, written by the customer
    assert f"Client {contract.customer.reference} créé" in html
    assert (
        html.count('<tr data-verb="')
        == Event.objects.filter(customer_id=contract.customer_id).count()
    )


def test_another_customers_history_is_not_shown(
    agent_client: Client, contract: Contract, signup_request: SignupRequest
) -> None:
    other_request = SignupRequest(
        **{
            **signup_request.__dict__,
            "email": "autre@example.org",
            "first_name": "Alix",
            "signup_key": uuid.uuid4(),
        }
    )
    other = signup_create(request=other_request, actor=Actor.customer(None), at=paris(2027, 1, 6))
    html = _page(agent_client, contract)
    assert other.reference not in html


def test_viewing_a_customer_does_not_write_history(
    agent_client: Client, contract: Contract
) -> None:
    before = Event.objects.count()
    _page(agent_client, contract)
    _page(agent_client, contract)
    assert Event.objects.count() == before


def test_unknown_customer_is_a_404(agent_client: Client, db: None) -> None:
    response = agent_client.get(reverse("backoffice:customer_detail", args=[999999]))
    assert response.status_code == 404


def test_customer_page_query_count_is_fixed(
    agent_client: Client, contract: Contract, django_assert_max_num_queries
) -> None:
    OperatorProfile.get()
    # session, user, role, profile, customer, contracts, options, history count, history page,
    # latest documents (10), then the payments panel (balance, dues, payments, mandates,
    # refunds) and the network panel (lines, usage, sessions, outages, incidents)
    with django_assert_max_num_queries(CUSTOMER_PAGE_QUERIES):
        _page(agent_client, contract)
