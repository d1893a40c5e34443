"""Customer search: each criterion finds the customer, in a fixed number of queries."""

from __future__ import annotations

import uuid
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.core.models import OperatorProfile

pytestmark = pytest.mark.django_db

SEARCH = "/gestion/clients/"


@pytest.fixture
def customers(signup_request: SignupRequest, catalogue) -> list[Contract]:
    """Camille Martin in Strasbourg (the fixture's request) and Jean Dupont in Colmar."""
    first = signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))
    other = SignupRequest(
        **{
            **signup_request.__dict__,
            "address_id": catalogue.address_equipped.pk,
            "first_name": "Jean",
            "last_name": "Dupont",
            "email": "jean.dupont@example.net",
            "phone": "03 89 12 34 56",
            "account_holder": "Jean Dupont",
            "installation_mode": "equipped",
            "signup_key": uuid.uuid4(),
        }
    )
    second = signup_create(request=other, actor=Actor.customer(None), at=paris(2027, 1, 6))
    return [first, second]


def _found(client: Client, query: str) -> str:
    response = client.get(SEARCH, {"q": query})
    assert response.status_code == 200
    return unescape(response.content.decode())


@pytest.mark.parametrize(
    "query",
    [
        "Martin",  # last name
        "camille",  # first name, any case
        "Camille Martin",  # both words must match
        "camille.martin@example.org",  # email
        "06 12 34 56 78",  # phone with spaces
        "06.12.34.56.78",  # phone with dots
        "+33 6 12 34 56 78",  # international form
        "Rue des Écoles",  # installation street
        "ecoles",  # installation street, typed without accent nor capital
        "Strasbourg",  # installation commune
        "strasbourg",  # installation commune, lower case
        "67000",  # installation postal code
    ],
)
def test_search_finds_camille_by_each_criterion(
    agent_client: Client, customers: list[Contract], query: str
) -> None:
    html = _found(agent_client, query)
    assert "Camille Martin" in html
    assert "Jean Dupont" not in html


def test_search_by_contract_reference_and_mandate_reference(
    agent_client: Client, customers: list[Contract]
) -> None:
    camille, jean = customers
    assert jean.mandate is not None
    html = _found(agent_client, camille.reference)
    assert "Camille Martin" in html and "Jean Dupont" not in html
    html = _found(agent_client, jean.mandate.reference)
    assert "Jean Dupont" in html and "Camille Martin" not in html


def test_search_by_commune_of_the_other_customer(
    agent_client: Client, customers: list[Contract]
) -> None:
    html = _found(agent_client, "colmar")
    assert "Jean Dupont" in html and "Camille Martin" not in html


def test_search_with_no_match_says_so(agent_client: Client, customers: list[Contract]) -> None:
    html = _found(agent_client, "Zorglub")
    assert "Aucun client ne correspond" in html


def test_empty_search_lists_nobody(agent_client: Client, customers: list[Contract]) -> None:
    html = _found(agent_client, "")
    assert "Camille Martin" not in html


def test_search_query_count_does_not_grow_with_results(
    agent_client: Client,
    signup_request: SignupRequest,
    django_assert_max_num_queries,
) -> None:
    # given twelve customers in the same street, each with a contract and a mandate
    for n in range(12):
        request = SignupRequest(
            **{
                **signup_request.__dict__,
                "first_name": f"Client{n}",
                "email": f"client{n}@example.org",
                "option_codes": [],
                "signup_key": uuid.uuid4(),
            }
        )
        signup_create(request=request, actor=Actor.customer(None), at=paris(2027, 1, 5))
    OperatorProfile.get()
    # when an agent searches the street
    # then: session, user, role, operator profile, count, page, contracts prefetch, whatever
    # the number of results
    with django_assert_max_num_queries(7):
        response = agent_client.get(SEARCH, {"q": "écoles strasbourg"})
    html = unescape(response.content.decode())
    assert html.count("Client1") >= 1 and "Client11" in html
    assert "12 clients trouvés" in html


def test_search_is_paginated(agent_client: Client, signup_request: SignupRequest) -> None:
    for n in range(27):
        request = SignupRequest(
            **{
                **signup_request.__dict__,
                "last_name": f"Martin{n:02d}",
                "email": f"m{n}@example.org",
                "signup_key": uuid.uuid4(),
            }
        )
        signup_create(request=request, actor=Actor.customer(None), at=paris(2027, 1, 5))
    page1 = _found(agent_client, "martin")
    assert "Page 1 sur 2" in page1 and "Martin00" in page1 and "Martin26" not in page1
    page2 = agent_client.get(reverse("backoffice:customer_search"), {"q": "martin", "page": "2"})
    assert "Martin26" in unescape(page2.content.decode())
