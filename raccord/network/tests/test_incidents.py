"""Network incidents: declared by agents, shown on the portal of the subscribers they cover."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from raccord.backoffice.services import agent_create
from raccord.conftest import paris
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event
from raccord.network.incidents import communes_parse, incident_declare
from raccord.network.models import Incident

PASSWORD = "gestion-Raccord-2027"


@pytest.fixture
def agent(db):
    return agent_create(email="agent@raccord.test", role="agent", password=PASSWORD)


@pytest.fixture
def agent_client(agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr("raccord.portal.clock.now", lambda: paris(2027, 6, 2, 9))


@pytest.fixture
def lines(make_line, catalogue):
    """A line in Strasbourg (67482) and one in Saint-Dié (88413), both active."""
    strasbourg = make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))
    saint_die = make_line(
        received=date(2027, 1, 8),
        activated=date(2027, 1, 10),
        address=catalogue.address_subsidised,
    )
    return strasbourg, saint_die


def _home(contract) -> str:
    client = Client()
    client.force_login(contract.customer.user)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_current_incident_shows_only_on_the_portals_it_covers__N3(lines, agent, clock):
    # given: the Saint-Dié relay is down since yesterday, back tomorrow 18:00
    strasbourg, saint_die = lines
    incident_declare(
        title="Panne du relais de la Madeleine",
        relay_site="La Madeleine",
        communes=["88413"],
        started_at=paris(2027, 6, 1, 14),
        expected_end_at=paris(2027, 6, 3, 18),
        public_message="Un technicien intervient sur l'antenne.",
        actor=Actor.agent(agent),
    )
    # when / then
    page = _home(saint_die)
    assert "Incident en cours sur votre secteur" in page
    assert "Rétablissement prévu le jeudi 3 juin à 18:00" in page
    assert "Un technicien intervient sur l&#x27;antenne." in page
    assert saint_die.reference in page
    assert "Incident en cours" not in _home(strasbourg)


def test_a_zone_incident_covers_its_communes_and_an_ended_one_shows_no_more(
    lines, agent, clock, catalogue
):
    strasbourg, saint_die = lines
    incident = incident_declare(
        title="Coupure de la collecte Alsace",
        zone=catalogue.alsace,
        started_at=paris(2027, 6, 2, 7),
        actor=Actor.agent(agent),
    )
    assert "Incident en cours" in _home(strasbourg)
    assert "Incident en cours" not in _home(saint_die)
    incident.ended_at = paris(2027, 6, 2, 8, 30)
    incident.save()
    assert "Incident en cours" not in _home(strasbourg)


def test_an_incident_needs_a_zone_or_communes_and_valid_codes(agent):
    with pytest.raises(DomainError) as error:
        incident_declare(title="Panne", started_at=paris(2027, 6, 1), actor=Actor.agent(agent))
    assert error.value.field == "communes"
    with pytest.raises(DomainError):
        communes_parse("67482, Strasbourg")
    assert communes_parse("67482 2a004\n67482") == ["67482", "2A004"]


def test_an_agent_declares_and_ends_an_incident_in_the_back_office(agent_client, lines):
    # given
    url = reverse("backoffice:network_incident_new")
    assert agent_client.get(url).status_code == 200
    # when
    response = agent_client.post(
        url,
        {
            "title": "Relais de la Madeleine",
            "zone": "",
            "relay_site": "La Madeleine",
            "communes": "88413",
            "started_at": "2027-06-01T14:00",
            "expected_end_at": "2027-06-03T18:00",
            "ended_at": "",
            "public_message": "Intervention en cours.",
        },
    )
    # then
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.communes == ["88413"]
    assert incident.started_at == paris(2027, 6, 1, 14)
    assert Event.objects.filter(verb="network.incident_declared", subject_id=incident.pk).exists()
    listing = agent_client.get(reverse("backoffice:network_incidents")).content.decode()
    assert "Relais de la Madeleine" in listing
    # when: the end is recorded
    edit = reverse("backoffice:network_incident", args=[incident.pk])
    assert "1 ligne active dans le secteur" in agent_client.get(edit).content.decode()
    agent_client.post(
        edit,
        {
            "title": "Relais de la Madeleine",
            "relay_site": "La Madeleine",
            "communes": "88413",
            "started_at": "2027-06-01T14:00",
            "expected_end_at": "2027-06-03T18:00",
            "ended_at": "2027-06-03T16:30",
            "public_message": "Intervention en cours.",
        },
    )
    incident.refresh_from_db()
    assert incident.ended_at == paris(2027, 6, 3, 16, 30)
    assert Event.objects.filter(verb="network.incident_closed").count() == 1


def test_the_form_reports_a_missing_sector_in_french(agent_client, db):
    response = agent_client.post(
        reverse("backoffice:network_incident_new"),
        {"title": "Panne", "started_at": "2027-06-01T14:00", "communes": ""},
    )
    assert response.status_code == 400
    assert "Indiquez la zone touchée ou la liste des communes" in response.content.decode()
    assert not Incident.objects.exists()


def test_incident_pages_are_for_agents_only(lines, client):
    saint_die = lines[1]
    url = reverse("backoffice:network_incidents")
    assert client.get(url).status_code == 302  # to the agents' login
    client.force_login(saint_die.customer.user)
    assert client.get(url).status_code == 403
