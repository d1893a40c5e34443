"""Back-office move of a contract (C8): address search, eligibility test of the new address for
the contract (a preview that writes nothing, C1, C14), then confirmation by an agent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from raccord.catalog.models import Zone, ZoneOffer
from raccord.contracts.models import Contract
from raccord.contracts.move import UNCOVERED_MOVE_REASON
from raccord.contracts.offer_change import contract_offer_change
from raccord.contracts.services import (
    contract_activate,
    contract_cancel,
    contract_equipment_receive,
)
from raccord.core.events import Actor
from raccord.core.models import Event, OperatorProfile, Policy
from raccord.eligibility.models import Address, Premises

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = date(2027, 6, 15)


def _text(response) -> str:
    return unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def _url(contract: Contract) -> str:
    return reverse("backoffice:contract_move", args=[contract.pk])


@pytest.fixture
def today(monkeypatch) -> date:
    # The back-office reads the local date once per request; tests pin it.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    return TODAY


@pytest.fixture
def active(contract: Contract) -> Contract:
    contract_equipment_receive(contract=contract, on=date(2027, 1, 15), actor=SYSTEM)
    return contract_activate(contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM)


def _state(contract: Contract) -> tuple:
    contract.refresh_from_db()
    return (
        contract.installation_address_id,
        contract.installation_complement,
        contract.premises_id,
        contract.monthly_price,
    )


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


# --- who reaches it -------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_the_agents_login__C8(active: Contract) -> None:
    response = Client().get(_url(active))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("backoffice:login") + "?next=")
    response = Client().post(_url(active), {"address_id": active.installation_address_id})
    assert response.status_code == 302


def test_a_customer_never_reaches_the_move_page__C8(active: Contract, catalogue) -> None:
    # given the customer logged in to Mon Compte
    user = active.customer.user
    assert user is not None and not user.is_staff
    client = Client()
    client.force_login(user)
    before = _state(active)
    # when / then
    assert client.get(_url(active)).status_code == 403
    response = client.post(_url(active), {"address_id": catalogue.address_subsidised.pk})
    assert response.status_code == 403
    assert _state(active) == before


@pytest.mark.parametrize("role", ["agent", "billing", "admin"])
def test_every_agent_role_opens_the_move_page__C8(
    make_staff: Callable[..., User], active: Contract, role: str
) -> None:
    client = Client()
    client.force_login(make_staff(role))
    response = client.get(_url(active))
    assert response.status_code == 200
    assert "Nouvelle adresse d'installation" in _text(response)


def test_an_unknown_contract_is_a_404(agent_client: Client, db: None) -> None:
    assert agent_client.get(reverse("backoffice:contract_move", args=[424242])).status_code == 404


# --- the customer page ----------------------------------------------------------------------


def test_the_customer_page_links_a_contract_in_service_to_its_move__C8(
    agent_client: Client, active: Contract
) -> None:
    html = _text(agent_client.get(reverse("backoffice:customer_detail", args=[active.customer_id])))
    assert f'href="{_url(active)}"' in html
    assert f'aria-label="Déménagement de {active.reference}">Déménagement</a>' in html


def test_the_customer_page_has_no_move_link_for_an_ended_contract__C8(
    agent_client: Client, contract: Contract
) -> None:
    cancelled = contract_cancel(contract=contract, on=date(2027, 1, 7), actor=SYSTEM)
    url = reverse("backoffice:customer_detail", args=[cancelled.customer_id])
    html = _text(agent_client.get(url))
    assert cancelled.reference in html
    assert _url(cancelled) not in html


# --- search and preview ---------------------------------------------------------------------


def test_the_address_search_lists_addresses_linked_to_their_test__C8(
    agent_client: Client, active: Contract, catalogue
) -> None:
    response = agent_client.get(_url(active), {"adresse": "place du marché saint-dié"})
    assert response.status_code == 200
    html = _text(response)
    assert "Adresses trouvées" in html
    assert f'href="{_url(active)}?address_id={catalogue.address_subsidised.pk}"' in html
    assert catalogue.address_subsidised.label in html


def test_an_address_nobody_lives_at_is_said_so__C8(agent_client: Client, active: Contract) -> None:
    html = _text(agent_client.get(_url(active), {"adresse": "zzzz introuvable"}))
    assert "Aucune adresse ne correspond" in html


def test_the_preview_gives_the_local_price_and_offers_the_confirmation__C8_C1(
    agent_client: Client, active: Contract, catalogue, today: date
) -> None:
    response = agent_client.get(_url(active), {"address_id": catalogue.address_subsidised.pk})
    assert response.status_code == 200
    html = _text(response)
    assert "Test d'éligibilité de la nouvelle adresse" in html
    assert catalogue.address_subsidised.label in html
    assert '<span class="badge badge--info">disponible</span>' in html
    assert "29,90 € (prix signé, inchangé)" in html
    assert "prix local à cette adresse : 24,90 €" in html
    assert f"{catalogue.thd30.lead_time_days} jours" in html
    assert "Confirmer le déménagement" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'name="address_id" value="{catalogue.address_subsidised.pk}"' in html
    assert '<label for="id_installation_complement">' in html


def test_the_preview_flags_equipped_premises__C14(
    agent_client: Client, active: Contract, catalogue
) -> None:
    html = _text(agent_client.get(_url(active), {"address_id": catalogue.address_equipped.pk}))
    assert "déjà équipé (pas de visite d'installateur)" in html
    assert f"{catalogue.thd30.equipped_lead_time_days} jours" in html


def test_the_preview_refuses_an_address_where_a_planned_offer_change_is_not_sold__C8_C9(
    agent_client: Client, active: Contract, catalogue, today: date
) -> None:
    contract_offer_change(
        contract=active,
        offer_code="FIBRE300",
        effective_date=date(2027, 7, 1),
        actor=SYSTEM,
        on=TODAY,
    )
    html = _text(agent_client.get(_url(active), {"address_id": catalogue.address_subsidised.pk}))
    assert (
        "<dt>Changement prévu le 01/07/2027 vers Fibre 300</dt><dd>"
        '<span class="badge badge--warning">non disponible</span>' in html
    )
    assert "le déménagement n'est pas possible tant que ce changement est prévu" in html
    assert "Confirmer le déménagement" not in html


@pytest.mark.parametrize("where", ["address_uncovered", "address_excluded"])
def test_the_preview_of_an_uncovered_address_gives_the_options_and_no_confirmation__C8_C13(
    agent_client: Client, active: Contract, catalogue, where: str
) -> None:
    address = getattr(catalogue, where)
    html = _text(agent_client.get(_url(active), {"address_id": address.pk}))
    assert '<span class="badge badge--warning">non disponible</span>' in html
    assert "n'est couverte par aucune de nos offres" in html
    assert f"motif légitime « {UNCOVERED_MOVE_REASON} »" in html
    assert "Confirmer le déménagement" not in html
    assert 'method="post"' not in html.split("Test d'éligibilité")[1]


def test_the_preview_writes_nothing__C8(
    agent_client: Client, active: Contract, catalogue, today: date
) -> None:
    OperatorProfile.get()
    Policy.get()
    before = (_state(active), Event.objects.count(), Premises.objects.count())
    with CaptureQueriesContext(connection) as queries:
        for address in (
            catalogue.address_subsidised,
            catalogue.address_uncovered,
            catalogue.address_equipped,
        ):
            assert agent_client.get(_url(active), {"address_id": address.pk}).status_code == 200
        agent_client.get(_url(active), {"adresse": "strasbourg"})
    assert _writes(queries) == []
    assert (_state(active), Event.objects.count(), Premises.objects.count()) == before


def test_the_preview_page_runs_a_bounded_number_of_queries__C8(
    agent_client: Client, active: Contract, catalogue, django_assert_max_num_queries
) -> None:
    # given a bigger catalogue: more zones and offers must not cost more queries
    for n in range(5):
        zone = Zone.objects.create(code=f"z{n}", name=f"Zone {n}", departments=[f"{10 + n}"])
        ZoneOffer.objects.create(zone=zone, offer=catalogue.fibre)
    metz = Address.objects.create(
        ban_id="57463_0300_00005",
        numero=5,
        nom_voie="Rue Serpenoise",
        code_postal="57000",
        code_insee="57463",
        nom_commune="Metz",
    )
    ZoneOffer.objects.create(
        zone=Zone.objects.create(code="metz", name="Metz", communes=["57463"]),
        offer=catalogue.fibre,
    )
    Policy.get()
    OperatorProfile.get()
    agent_client.get(_url(active))  # warm the session
    # session, user, role, contract, address, premises test, zone offers, then either the
    # equipped premises and a change planned in advance (offer sold there), or the policy and
    # the current address's test for an offer change (not sold there: premises, zone offers),
    # and the operator profile (page footer)
    for address in (catalogue.address_uncovered, catalogue.address_equipped, metz):
        with django_assert_max_num_queries(11):
            response = agent_client.get(_url(active), {"address_id": address.pk})
        assert response.status_code == 200
    assert "changer d'offre pour Fibre 300" in _text(response)


@pytest.mark.parametrize("raw", ["999999", "abc"])
def test_an_unknown_address_gets_an_error_next_to_the_search_field__C8(
    agent_client: Client, active: Contract, raw: str
) -> None:
    response = agent_client.get(_url(active), {"address_id": raw})
    assert response.status_code == 400
    html = _text(response)
    assert (
        '<p class="error" id="id_adresse-error">Cette adresse est inconnue : cherchez-la à '
        "nouveau.</p>" in html
    )
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_adresse-help id_adresse-error"' in html


# --- confirmation ---------------------------------------------------------------------------


def test_the_agent_confirms_the_move_and_it_shows_in_the_history__C8(
    agent_client: Client, agent: User, active: Contract, catalogue, today: date
) -> None:
    # given the preview of the new address
    url = _url(active)
    assert "Confirmer le déménagement" in _text(
        agent_client.get(url, {"address_id": catalogue.address_equipped.pk})
    )
    # when the agent confirms it
    response = agent_client.post(
        url,
        {"address_id": catalogue.address_equipped.pk, "installation_complement": "Maison 2"},
    )
    # then
    customer_url = reverse("backoffice:customer_detail", args=[active.customer_id])
    assert response.status_code == 302
    assert response["Location"] == f"{customer_url}#contrat-{active.pk}"
    active.refresh_from_db()
    assert active.installation_address == catalogue.address_equipped
    assert active.installation_complement == "Maison 2"
    assert active.premises == Premises.objects.get(address=catalogue.address_equipped)
    event = Event.objects.get(verb="contract.moved", subject_id=active.pk)
    assert event.actor_kind == Event.ActorKind.AGENT and event.actor_user == agent
    assert event.at.date() == TODAY
    html = _text(agent_client.get(customer_url))
    assert f"Déménagement de {active.reference} enregistré" in html
    assert '<tr data-verb="contract.moved">' in html
    assert event.summary in html
    assert "Maison 2, 7 Chemin du Moulin, 68000 Colmar" in html


def test_confirming_twice_records_one_move__C8(
    agent_client: Client, active: Contract, catalogue, today: date
) -> None:
    data = {"address_id": catalogue.address_subsidised.pk, "installation_complement": ""}
    assert agent_client.post(_url(active), data).status_code == 302
    assert agent_client.post(_url(active), data).status_code == 302
    assert Event.objects.filter(verb="contract.moved", subject_id=active.pk).count() == 1


def test_a_move_to_an_uncovered_address_is_refused_next_to_the_address__C8(
    agent_client: Client, active: Contract, catalogue, today: date
) -> None:
    before = _state(active)
    response = agent_client.post(_url(active), {"address_id": catalogue.address_uncovered.pk})
    assert response.status_code == 400
    html = _text(response)
    assert '<p class="error" id="id_address_id-error" role="alert">Déménagement impossible' in html
    assert "Confirmer le déménagement" not in html
    assert _state(active) == before
    assert not Event.objects.filter(verb="contract.moved").exists()


def test_a_too_long_complement_gets_its_error_next_to_the_field__C8(
    agent_client: Client, active: Contract, catalogue, today: date
) -> None:
    before = _state(active)
    response = agent_client.post(
        _url(active),
        {"address_id": catalogue.address_subsidised.pk, "installation_complement": "x" * 201},
    )
    assert response.status_code == 400
    html = _text(response)
    assert (
        '<p class="error" id="id_installation_complement-error">Le complément d\'adresse ne doit '
        "pas dépasser 200 caractères.</p>" in html
    )
    assert (
        'aria-describedby="id_installation_complement-help id_installation_complement-error"'
        in (html)
    )
    assert _state(active) == before


def test_a_post_without_an_address_writes_nothing__C8(
    agent_client: Client, active: Contract
) -> None:
    before = _state(active)
    response = agent_client.post(_url(active), {})
    assert response.status_code == 400
    assert "Cette adresse est inconnue" in _text(response)
    assert _state(active) == before


def test_the_confirmation_needs_the_csrf_token__C8(
    agent: User, active: Contract, catalogue
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    before = _state(active)
    response = client.post(_url(active), {"address_id": catalogue.address_subsidised.pk})
    assert response.status_code == 403
    assert _state(active) == before


def test_a_cancelled_contract_cannot_move__C8(
    agent_client: Client, contract: Contract, catalogue
) -> None:
    cancelled = contract_cancel(contract=contract, on=date(2027, 1, 7), actor=SYSTEM)
    page = _text(agent_client.get(_url(cancelled), {"address_id": catalogue.address.pk}))
    assert "Ce contrat n'est plus en cours (annulé)" in page
    assert "Nouvelle adresse d'installation" not in page
    before = _state(cancelled)
    response = agent_client.post(_url(cancelled), {"address_id": catalogue.address.pk})
    assert response.status_code == 400
    assert _state(cancelled) == before
    assert not Event.objects.filter(verb="contract.moved").exists()
