"""The Django admin: themed, role-restricted, IBANs masked, signed orders read-only, and every
change to a customer, contract or mandate written in the customer's history."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from raccord.backoffice.tests.conftest import admin_form_data
from raccord.conftest import VALID_IBAN, Catalogue
from raccord.contracts.models import Contract
from raccord.core.events import Actor, event_record
from raccord.core.masking import iban_mask
from raccord.core.models import Event, OperatorProfile, Policy
from raccord.eligibility.models import AddressImport, Premises
from raccord.payments.models import Mandate

pytestmark = pytest.mark.django_db


def _url(model: type, view: str, *args: object) -> str:
    meta = model._meta  # type: ignore[attr-defined]
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


@pytest.fixture
def everything(contract: Contract, catalogue: Catalogue, agent: User) -> Contract:
    """At least one row of every registered model, so that change lists render real rows."""
    OperatorProfile.get()
    Policy.get()
    AddressImport.objects.create(file_name="adresses-67.csv", started_at=contract.signed_at)
    event_record(
        actor=Actor.agent(agent),
        verb="note.added",
        summary="note",
        at=contract.signed_at,
        subject_type="customer",
        customer_id=contract.customer_id,
    )
    return contract


def test_admin_is_themed(admin_agent_client: Client) -> None:
    html = unescape(admin_agent_client.get(reverse("admin:index")).content.decode())
    assert "Raccord – gestion" in html


def test_every_changelist_and_change_page_loads_for_an_admin(
    admin_agent_client: Client, everything: Contract
) -> None:
    assert len(admin.site._registry) >= 16
    for model in admin.site._registry:
        response = admin_agent_client.get(_url(model, "changelist"))
        assert response.status_code == 200, model
        row = model._default_manager.first()
        if row is not None:
            response = admin_agent_client.get(_url(model, "change", row.pk))
            assert response.status_code == 200, model


def test_every_changelist_search_works(admin_agent_client: Client, everything: Contract) -> None:
    for model, model_admin in admin.site._registry.items():
        if model_admin.search_fields:
            response = admin_agent_client.get(_url(model, "changelist"), {"q": "12"})
            assert response.status_code == 200, model


def test_mandate_admin_never_shows_the_iban(admin_agent_client: Client, contract: Contract) -> None:
    mandate = contract.mandate
    assert mandate is not None
    masked = iban_mask(VALID_IBAN)
    for url in (_url(Mandate, "changelist"), _url(Mandate, "change", mandate.pk)):
        html = unescape(admin_agent_client.get(url).content.decode())
        assert masked in html, url
        assert VALID_IBAN not in html and VALID_IBAN[4:] not in html, url
    # nor on the customer's admin page, nor in the history
    html = unescape(
        admin_agent_client.get(
            _url(type(contract.customer), "change", contract.customer_id)
        ).content.decode()
    )
    assert masked in html and VALID_IBAN not in html
    html = unescape(admin_agent_client.get(_url(Event, "changelist")).content.decode())
    assert VALID_IBAN not in html


def test_mandate_iban_cannot_be_changed_through_the_admin(
    admin_agent_client: Client, contract: Contract
) -> None:
    mandate = contract.mandate
    assert mandate is not None
    url = _url(Mandate, "change", mandate.pk)
    data = admin_form_data(admin_agent_client, url)
    assert "iban" not in data
    data["iban"] = "DE89370400440532013000"
    data["debtor_name"] = "Camille Martin-Durand"
    response = admin_agent_client.post(url, data)
    assert response.status_code == 302
    mandate.refresh_from_db()
    assert mandate.iban == VALID_IBAN
    assert mandate.debtor_name == "Camille Martin-Durand"
    event = Event.objects.get(verb="mandate.updated")
    assert event.customer_id == contract.customer_id and event.actor_kind == "agent"
    assert VALID_IBAN not in str(event.data) and "iban" not in event.data["fields"]


def test_admin_change_to_a_customer_is_recorded_in_the_history(
    admin_agent_client: Client, admin_agent: User, contract: Contract
) -> None:
    customer = contract.customer
    url = _url(type(customer), "change", customer.pk)
    data = admin_form_data(admin_agent_client, url)
    data["last_name"] = "Martin-Durand"
    data["phone"] = "07 11 22 33 44"
    response = admin_agent_client.post(url, data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.last_name == "Martin-Durand"
    assert customer.phone == "0711223344"  # normalised like at sign-up
    event = Event.objects.get(verb="customer.updated")
    assert event.actor_kind == Event.ActorKind.AGENT and event.actor_user == admin_agent
    assert event.customer_id == customer.pk and event.subject_id == customer.pk
    assert event.data["changes"]["last_name"] == ["Martin", "Martin-Durand"]
    assert "Nom, Téléphone" in event.summary


def test_saving_without_changes_writes_no_history(
    admin_agent_client: Client, contract: Contract
) -> None:
    url = _url(type(contract.customer), "change", contract.customer_id)
    before = Event.objects.count()
    response = admin_agent_client.post(url, admin_form_data(admin_agent_client, url))
    assert response.status_code == 302
    assert Event.objects.count() == before


def test_bad_phone_in_the_admin_gets_a_french_error(
    admin_agent_client: Client, contract: Contract
) -> None:
    url = _url(type(contract.customer), "change", contract.customer_id)
    data = admin_form_data(admin_agent_client, url)
    data["phone"] = "12"
    response = admin_agent_client.post(url, data)
    assert response.status_code == 200
    assert "numéro de téléphone français" in unescape(response.content.decode())
    assert not Event.objects.filter(verb="customer.updated").exists()


def test_signed_prices_are_read_only_but_delivery_can_be_corrected(
    admin_agent_client: Client, contract: Contract
) -> None:
    url = _url(Contract, "change", contract.pk)
    data = admin_form_data(admin_agent_client, url)
    assert "monthly_price" not in data and "status" not in data
    data["monthly_price"] = "1.00"
    data["delivery_name"] = "Camille Martin, chez M. Weber"
    response = admin_agent_client.post(url, data)
    assert response.status_code == 302
    contract.refresh_from_db()
    assert str(contract.monthly_price) == "29.90"
    assert contract.delivery_name == "Camille Martin, chez M. Weber"
    event = Event.objects.get(verb="contract.updated")
    assert event.customer_id == contract.customer_id and event.subject_id == contract.pk


def test_contracts_customers_and_mandates_are_never_added_or_deleted_in_the_admin(
    admin_agent_client: Client, contract: Contract
) -> None:
    mandate = contract.mandate
    assert mandate is not None
    for model, pk in (
        (Contract, contract.pk),
        (type(contract.customer), contract.customer_id),
        (Mandate, mandate.pk),
    ):
        assert admin_agent_client.get(_url(model, "add")).status_code == 403, model
        assert admin_agent_client.get(_url(model, "delete", pk)).status_code == 403, model


def test_history_is_read_only_even_for_an_admin(
    admin_agent_client: Client, everything: Contract
) -> None:
    event = Event.objects.first()
    assert event is not None
    assert admin_agent_client.get(_url(Event, "add")).status_code == 403
    assert admin_agent_client.get(_url(Event, "delete", event.pk)).status_code == 403
    response = admin_agent_client.post(_url(Event, "change", event.pk), {"summary": "x"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.summary != "x"


def test_operator_profile_and_policy_are_singletons(admin_agent_client: Client, db: None) -> None:
    # with no row yet, the admin may create it
    assert admin_agent_client.get(_url(Policy, "add")).status_code == 200
    profile = OperatorProfile.get()
    policy = Policy.get()
    for model, row in ((OperatorProfile, profile), (Policy, policy)):
        assert admin_agent_client.get(_url(model, "add")).status_code == 403, model
        assert admin_agent_client.get(_url(model, "delete", row.pk)).status_code == 403, model
    # and edits them
    url = _url(Policy, "change", policy.pk)
    data = admin_form_data(admin_agent_client, url)
    data["debit_day"] = "6"
    assert admin_agent_client.post(url, data).status_code == 302
    policy.refresh_from_db()
    assert policy.debit_day == 6


def test_catalogue_is_edited_by_admins_only(
    admin_agent_client: Client, agent_client: Client, catalogue: Catalogue
) -> None:
    url = _url(type(catalogue.thd30), "change", catalogue.thd30.pk)
    data = admin_form_data(admin_agent_client, url)
    data["label"] = "THD Radio 30+"
    assert agent_client.post(url, data).status_code == 403
    assert admin_agent_client.post(url, data).status_code == 302
    catalogue.thd30.refresh_from_db()
    assert catalogue.thd30.label == "THD Radio 30+"


def test_zone_page_shows_its_offers_inline(
    admin_agent_client: Client, catalogue: Catalogue
) -> None:
    url = _url(type(catalogue.vosges_commune), "change", catalogue.vosges_commune.pk)
    html = unescape(admin_agent_client.get(url).content.decode())
    assert "zone_offers-TOTAL_FORMS" in html and "24.90" in html


def test_billing_may_change_a_mandate_status_but_an_agent_may_not(
    make_staff, contract: Contract
) -> None:
    mandate = contract.mandate
    assert mandate is not None
    url = _url(Mandate, "change", mandate.pk)
    billing = Client()
    billing.force_login(make_staff("billing"))
    agent = Client()
    agent.force_login(make_staff("agent"))
    data = admin_form_data(billing, url)
    data["status"] = Mandate.Status.REVOKED
    assert agent.post(url, data).status_code == 403
    assert billing.post(url, data).status_code == 302
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.REVOKED


def test_premises_are_listed_with_their_address(
    admin_agent_client: Client, catalogue: Catalogue
) -> None:
    html = unescape(admin_agent_client.get(_url(Premises, "changelist")).content.decode())
    assert "Chemin du Moulin" in html
