"""A customer only ever sees their own data in Mon Compte (security, C3)."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

PAGES = ["portal:home", "portal:offer", "portal:invoices", "portal:informations"]


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _secrets(contract) -> list[str]:
    """What would betray that a page shows this contract or its customer."""
    customer = contract.customer
    return [
        contract.reference,
        contract.network_login,
        contract.mandate.reference,
        customer.reference,
        customer.email,
        customer.last_name,
        contract.offer_label,
        contract.installation_address.nom_commune,
    ]


@pytest.mark.parametrize("name", PAGES)
def test_customer_a_never_sees_customer_b__C3(logged_in, contract, other_contract, name):
    # given A (THD Radio 30 in Strasbourg) logged in, and B (Fibre 300 in Colmar)
    page = _text(logged_in.get(reverse(name)))
    # then no page of A's shows anything of B's
    for secret in _secrets(other_contract):
        assert secret not in page, f"{secret!r} of customer B appears on {name}"


def test_ids_in_the_query_string_are_ignored__C3(logged_in, contract, other_contract):
    # A tries to point the offer page at B's contract and customer
    url = reverse("portal:offer")
    for query in (
        f"?contract={other_contract.pk}",
        f"?customer={other_contract.customer_id}",
        f"?id={other_contract.pk}&reference={other_contract.reference}",
    ):
        page = _text(logged_in.get(url + query))
        assert contract.reference in page
        assert other_contract.reference not in page
        assert other_contract.mandate.reference not in page


def test_each_customer_sees_their_own_offer__C3(client, customer, other_customer, contract):
    client.force_login(other_customer.user)
    page = _text(client.get(reverse("portal:offer")))
    assert "Fibre 300" in page
    assert "THD Radio 30" not in page
    assert "engagement de 24 mois" in page
    assert contract.reference not in page


def test_a_change_posted_by_a_only_touches_a__C8(logged_in, customer, other_customer, clock):
    logged_in.post(
        reverse("portal:phone_change"),
        {
            "phone": "06 99 88 77 66",
            "customer": other_customer.pk,
            "customer_id": other_customer.pk,
        },
    )
    customer.refresh_from_db()
    other_customer.refresh_from_db()
    assert customer.phone == "0699887766"
    assert other_customer.phone == "0711223344"
