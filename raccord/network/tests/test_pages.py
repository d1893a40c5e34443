"""Usage in Mon Compte and the back-office, the line's state (suspension) everywhere it shows,
and the S1 gesture proposed from the outages with its amount."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from raccord.backoffice.services import agent_create
from raccord.billing.models import LineKind, PendingItem
from raccord.conftest import paris
from raccord.contracts.suspension import contract_suspend
from raccord.core.events import Actor
from raccord.core.money import round_half_up
from raccord.network.accounting import INTERIM, START
from raccord.network.incidents import incident_declare
from raccord.network.models import Outage
from raccord.network.tests.conftest import SYSTEM, record

GB = 10**9


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    now = paris(2027, 6, 20, 9)
    monkeypatch.setattr("raccord.portal.clock.now", lambda: now)
    monkeypatch.setattr("raccord.network.clock.now", lambda: now)


@pytest.fixture
def line(make_line):
    # THD30 29.90 + TEL 5.00
    return make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))


@pytest.fixture
def agent_client(db) -> Client:
    client = Client()
    client.force_login(agent_create(email="a@raccord.test", role="agent", password="x" * 12))
    return client


def _usage(store, line) -> None:
    """3.2 GB received on 18 June, 1.5 GB more on the 19th."""
    login = line.network_login
    store.store(
        [
            record(START, login=login, at=paris(2027, 6, 18, 8), session="u"),
            record(
                INTERIM,
                login=login,
                at=paris(2027, 6, 18, 20),
                session="u",
                session_time=43200,
                out=3_200_000_000,
                inp=200_000_000,
            ),
            record(
                INTERIM,
                login=login,
                at=paris(2027, 6, 19, 20),
                session="u",
                session_time=129600,
                out=4_700_000_000,
                inp=300_000_000,
            ),
        ]
    )


def test_mon_compte_shows_the_30_day_chart_of_its_own_line_only(line, make_line, store, clock):
    # given
    _usage(store, line)
    other = make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))
    store.store(
        [
            record(
                INTERIM,
                login=other.network_login,
                at=paris(2027, 6, 18, 9),
                session="o",
                session_time=60,
                out=987_654_321_000,
            )
        ]
    )
    client = Client()
    client.force_login(line.customer.user)
    # when
    response = client.get(reverse("portal:network_usage"))
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<rect") == 4  # two days with traffic, received and sent each
    # SVG numbers are never localised (a French decimal comma breaks the drawing)
    assert re.findall(r'<rect x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="[0-9.]+"', page)
    assert not re.search(r'(?:x|y|width|height)="[0-9]+,[0-9]', page)
    assert "Du 22/05/2027 au 20/06/2027 : 4,7 Go reçus et 300 Mo envoyés" in page
    assert "vendredi 18 juin : 3,2 Go reçus, 200 Mo envoyés" in page
    assert "987" not in page
    assert 'aria-current="page">Ma consommation' in page
    # the home page sums up and links to it
    home = client.get(reverse("portal:home")).content.decode()
    assert "4,7 Go reçus et 300 Mo envoyés ces 30 derniers jours" in home


def test_the_usage_page_reads_a_fixed_number_of_queries(line, make_line, store, clock):
    _usage(store, line)
    client = Client()
    client.force_login(line.customer.user)
    client.get(reverse("portal:network_usage"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("portal:network_usage"))
    # a second line of the same customer
    second = make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))
    second.customer = line.customer
    second.save(update_fields=["customer"])
    with CaptureQueriesContext(connection) as two:
        client.get(reverse("portal:network_usage"))
    # the last session is read per line (one index lookup each)
    assert len(two.captured_queries) <= len(one.captured_queries) + 1


def test_a_suspended_line_is_shown_so_in_mon_compte_and_the_back_office__P6(
    line, store, clock, agent_client
):
    _usage(store, line)
    contract_suspend(contract=line, on=date(2027, 6, 15), reason="impayé du 5 juin", actor=SYSTEM)
    client = Client()
    client.force_login(line.customer.user)
    home = client.get(reverse("portal:home")).content.decode()
    assert "est suspendue depuis le 15 juin 2027" in home
    usage = client.get(reverse("portal:network_usage")).content.decode()
    assert "Ligne suspendue (accès restreint)" in usage
    customer_page = agent_client.get(
        reverse("backoffice:network_contract", args=[line.pk])
    ).content.decode()
    assert "Ligne suspendue (accès restreint)" in customer_page
    assert "impayé du 5 juin" in customer_page


def test_agents_see_the_sessions_of_a_line(line, store, agent_client):
    _usage(store, line)
    page = agent_client.get(reverse("backoffice:network_contract", args=[line.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-session="u"' in html
    assert "Connectée" in html
    assert "4,7 Go" in html


def test_an_outage_proposes_the_s1_gesture_with_its_amount_and_grants_it__S1(line, agent_client):
    # given: an outage of 49 hours found in the sessions
    Outage.objects.create(
        contract=line,
        started_at=paris(2027, 6, 1, 8),
        ended_at=paris(2027, 6, 3, 9),
        detected_on=date(2027, 6, 4),
    )
    url = reverse("backoffice:network_contract", args=[line.pk])
    # when
    html = agent_client.get(url).content.decode()
    # then: (29.90 + 5.00) × ceil(49 / 24) / 30 days of June, nothing written by the quote
    expected = round_half_up(Fraction(Decimal("34.90")) * 3 / 30)
    assert expected == Decimal("3.49")
    assert "Accorder 3,49" in html
    assert not PendingItem.objects.exists()
    # when: the agent grants it
    found = re.search(r'name="outage" value="([^"]+)"', html)
    assert found is not None
    key = found.group(1)
    response = agent_client.post(
        reverse("backoffice:network_gesture_grant", args=[line.pk]), {"outage": key}
    )
    # then: one credit, and the outage shows it is done
    assert response.status_code == 302
    item = PendingItem.objects.get(contract=line, kind=LineKind.GESTURE)
    assert item.amount == -expected
    assert "déjà accordé" in agent_client.get(url).content.decode()
    agent_client.post(reverse("backoffice:network_gesture_grant", args=[line.pk]), {"outage": key})
    assert PendingItem.objects.filter(kind=LineKind.GESTURE).count() == 1


def test_an_ended_incident_on_the_line_s_commune_opens_the_gesture_a_short_one_does_not__S1(
    line, agent_client
):
    agent = Actor.system("test")
    incident_declare(
        title="Relais en panne",
        communes=["67482"],
        started_at=paris(2027, 6, 1, 8),
        ended_at=paris(2027, 6, 4, 8),
        actor=agent,
    )
    incident_declare(
        title="Micro-coupure",
        communes=["67482"],
        started_at=paris(2027, 6, 10, 8),
        ended_at=paris(2027, 6, 11, 8),
        actor=agent,
    )
    incident_declare(
        title="Ailleurs",
        communes=["88413"],
        started_at=paris(2027, 6, 1),
        ended_at=paris(2027, 6, 9),
        actor=agent,
    )
    html = agent_client.get(reverse("backoffice:network_contract", args=[line.pk])).content.decode()
    assert "Incident réseau : Relais en panne" in html
    # 34.90 × 3 / 30
    assert "Accorder 3,49" in html
    assert "Micro-coupure" not in html
    assert "Ailleurs" not in html


def test_the_customer_page_shows_the_network_panel(line, store, agent_client):
    from django.template import Context, Template

    _usage(store, line)
    html = Template("{% load network_tags %}{% network_backoffice_customer customer %}").render(
        Context({"customer": line.customer})
    )
    assert line.network_login in html
    assert reverse("backoffice:network_contract", args=[line.pk]) in html
    assert "4,7 Go reçus" in html
