"""Back-office « Et si… ? » (what if): a contract's real life replayed in the simulator with one
hypothetical event, on a throw-away database (C10, C11, S1, C9; SIMULATOR.md)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from raccord.backoffice import whatif_views
from raccord.contracts.models import Contract
from raccord.contracts.services import contract_activate, contract_equipment_receive
from raccord.contracts.termination import termination_quote
from raccord.core.events import Actor
from raccord.core.models import Event, OperatorProfile
from raccord.eligibility.services import eligibility_check
from raccord.simulator.from_contract import TEST_IBAN
from raccord.simulator.sandbox import ChildResult
from raccord.site.templatetags.raccord_site import euros

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = date(2027, 6, 15)


def _text(response) -> str:
    return unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def _url(contract: Contract) -> str:
    return reverse("backoffice:contract_whatif", args=[contract.pk])


def _counts() -> dict[str, int]:
    # The page layout creates the operator's profile row on first use anywhere (context
    # processor): make it exist first so that only the what-if's own writes would show.
    OperatorProfile.get()
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    # The page reads the local date once per request; tests pin it.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    return TODAY


@pytest.fixture
def active(contract: Contract, today: date) -> Contract:
    contract_equipment_receive(contract=contract, on=date(2027, 1, 15), actor=SYSTEM)
    return contract_activate(contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM)


@pytest.fixture
def no_child(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the scenarios sent to the simulator instead of starting a child process."""
    sent: list[str] = []

    def fake(scenario_json: str, *, timeout: float = 600) -> ChildResult:
        sent.append(scenario_json)
        return ChildResult(
            0,
            '{"activation_date": null, "status": "active", '
            '"commitment": null, "termination_effective_date": null, '
            '"documents": []}',
            "",
        )

    monkeypatch.setattr(whatif_views, "sandbox_play", fake)
    return sent


# --- who reaches it -------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_the_agents_login(active: Contract) -> None:
    response = Client().get(_url(active))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("backoffice:login") + "?next=")


@pytest.mark.parametrize("role", ["agent", "billing", "admin"])
def test_each_back_office_role_reaches_the_page(
    role: str, make_staff: Callable[..., User], active: Contract
) -> None:
    client = Client()
    client.force_login(make_staff(role))
    assert client.get(_url(active)).status_code == 200


def test_staff_without_a_role_is_refused(active: Contract) -> None:
    user = User.objects.create_user(username="sans.role", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get(_url(active)).status_code in (302, 403)


def test_an_unknown_contract_is_a_404(agent_client: Client) -> None:
    assert agent_client.get(reverse("backoffice:contract_whatif", args=[999999])).status_code == 404


def test_the_customer_page_links_each_contract_to_its_simulation(
    agent_client: Client, active: Contract
) -> None:
    response = agent_client.get(reverse("backoffice:customer_detail", args=[active.customer_id]))
    assert _url(active) in response.content.decode()


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_rebuilt_life_of_a_real_contract_and_the_test_iban(
    agent_client: Client, active: Contract
) -> None:
    response = agent_client.get(_url(active))
    text = re.sub(r"<[^>]+>", "", _text(response))
    assert response.status_code == 200
    assert "05/01/2027 – Souscription" in text
    assert "15/01/2027 – Matériel reçu" in text
    assert "20/01/2027 – Première connexion" in text
    assert TEST_IBAN in text
    # the form proposes the offers sold at the address, not the current one
    html = response.content.decode()
    assert 'value="FIBRE300"' in html and 'value="THD30"' not in html
    # the default end of the simulation: 12 months after today
    assert 'value="2028-06-15"' in html


def test_a_hypothetical_termination_shows_the_early_termination_line_of_the_real_quote__C11(
    agent_client: Client, active: Contract, caplog: pytest.LogCaptureFixture
) -> None:
    # given the engine's own quote for a termination requested today
    quote = termination_quote(contract=active, on=TODAY)
    assert quote.early_termination_fee > 0
    before = _counts()
    # when the agent simulates that termination
    with caplog.at_level(logging.INFO, logger="raccord.backoffice.whatif_views"):
        response = agent_client.post(
            _url(active),
            {
                "jusqu_au": "2027-12-31",
                "hypothese": "termination_request",
                "date_evenement": TODAY.isoformat(),
            },
        )
    # then an early-termination line of the same amount, shown as a difference too
    text = _text(response)
    assert response.status_code == 200, text
    simulation = response.context["simulation"]
    assert not simulation.error, simulation.error
    lines = [
        line
        for document in simulation.documents
        for line in document["lines"]
        if line["kind"] == "early_termination"
    ]
    assert [line["amount_value"] for line in lines] == [quote.early_termination_fee]
    added = response.context["differences"]["added"]
    assert [x["amount_value"] for x in added if x["kind"] == "early_termination"] == [
        quote.early_termination_fee
    ]
    assert euros(quote.early_termination_fee).replace("\xa0", " ").replace("\u202f", " ") in text
    assert simulation.result["termination_effective_date"] == quote.effective_date.isoformat()
    # and nothing was written in the real database, not even the history
    assert _counts() == before
    active.refresh_from_db()
    assert active.status == Contract.Status.ACTIVE
    assert active.termination_requested_on is None
    # the use is logged without personal data
    logged = [r.getMessage() for r in caplog.records if "what-if" in r.getMessage()]
    assert logged and f"contract={active.pk}" in logged[0]
    assert active.customer.last_name not in logged[0]
    assert active.customer.email not in logged[0]


def test_a_refused_hypothesis_is_listed_with_the_rules_message__S1(
    agent_client: Client, active: Contract
) -> None:
    # given an outage too short for a gesture (S1 threshold)
    response = agent_client.post(
        _url(active),
        {
            "jusqu_au": "2027-08-31",
            "hypothese": "gesture_request",
            "date_evenement": "2027-06-20",
            "coupure_debut": "2027-06-18T08:00",
            "coupure_fin": "2027-06-18T10:00",
        },
    )
    assert response.status_code == 200
    simulation = response.context["simulation"]
    assert simulation.errors, simulation.result
    assert simulation.errors[0]["event"] == "Demande de geste commercial"
    assert simulation.errors[0]["message"] in _text(response)
    assert not [
        line for d in simulation.documents for line in d["lines"] if line["kind"] == "gesture"
    ]


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"jusqu_au": ""}, "jusqu_au", "Indiquez une date."),
        ({"jusqu_au": "2099-01-01"}, "jusqu_au", "cinq ans"),
        ({"jusqu_au": "31/02/2027"}, "jusqu_au", "Date invalide"),
        ({"jusqu_au": "2026-01-01"}, "jusqu_au", "après la souscription"),
        ({"hypothese": "demolition"}, "hypothese", "Choisissez un événement"),
        ({"hypothese": "termination_request", "date_evenement": ""}, "date_evenement", "date"),
        ({"hypothese": "offer_change"}, "offre", "Choisissez la nouvelle offre."),
        ({"hypothese": "offer_change", "offre": "THD30"}, "offre", "disponible"),
        (
            {"hypothese": "offer_change", "offre": "FIBRE300", "date_effet": "2027-06-01"},
            "date_effet",
            "précéder la demande",
        ),
        ({"hypothese": "gesture_request"}, "coupure_debut", "début de la coupure"),
        (
            {
                "hypothese": "gesture_request",
                "coupure_debut": "2027-06-10T10:00",
                "coupure_fin": "2027-06-10T08:00",
            },
            "coupure_fin",
            "suivre son début",
        ),
        (
            {"hypothese": "termination_request", "date_souhaitee": "2027-06-01"},
            "date_souhaitee",
            "précéder la demande",
        ),
    ],
)
def test_bad_input_gets_a_french_error_next_to_its_field_and_runs_nothing(
    agent_client: Client,
    active: Contract,
    no_child: list[str],
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    posted = {"jusqu_au": "2027-12-31", "date_evenement": TODAY.isoformat(), **data}
    before = _counts()
    response = agent_client.post(_url(active), posted)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    html = response.content.decode()
    assert f'id="id_{field}-error"' in html
    assert 'aria-invalid="true"' in html
    assert no_child == []
    assert _counts() == before


def test_an_end_before_the_last_real_event_is_refused_next_to_the_date(
    agent_client: Client, active: Contract, no_child: list[str]
) -> None:
    # given a real life whose last event is the activation on 20/01/2027
    response = agent_client.post(_url(active), {"jusqu_au": "2027-01-10"})
    assert response.status_code == 400
    assert "dernier événement réel" in " ".join(response.context["form"].errors["jusqu_au"])
    assert 'id="id_jusqu_au-error"' in response.content.decode()
    assert no_child == []


def test_an_agent_over_the_rate_limit_is_asked_to_wait(
    agent_client: Client, active: Contract, no_child: list[str]
) -> None:
    posted = {"jusqu_au": "2027-12-31"}
    for _ in range(whatif_views.RATE_LIMIT):
        assert agent_client.post(_url(active), posted).status_code == 200
    response = agent_client.post(_url(active), posted)
    assert response.status_code == 429
    assert "patientez" in _text(response)
    assert len(no_child) == whatif_views.RATE_LIMIT


def test_the_page_sends_the_simulator_the_test_iban_never_the_real_one(
    agent_client: Client, active: Contract, no_child: list[str]
) -> None:
    agent_client.post(_url(active), {"jusqu_au": "2027-12-31"})
    assert len(no_child) == 1
    assert TEST_IBAN in no_child[0]
    assert active.customer.email not in no_child[0]


def test_the_page_writes_nothing_and_records_nothing_in_the_history(
    agent_client: Client, active: Contract, no_child: list[str]
) -> None:
    events = Event.objects.count()
    before = _counts()
    agent_client.get(_url(active))
    agent_client.post(
        _url(active),
        {
            "jusqu_au": "2027-12-31",
            "hypothese": "offer_change",
            "offre": "FIBRE300",
            "date_evenement": TODAY.isoformat(),
        },
    )
    assert Event.objects.count() == events
    assert _counts() == before
    # the hypothesis reached the simulator at the local price of the address
    scenario = json.loads(no_child[0])
    assert scenario["events"][-1]["type"] == "offer_change"
    fibre = next(o for o in scenario["catalog"]["offers"] if o["code"] == "FIBRE300")
    local = eligibility_check(address=active.installation_address).offer("FIBRE300")
    assert local is not None
    assert Decimal(fibre["monthly_price"]) == local.monthly_price


def test_the_page_reads_the_contract_in_a_bounded_number_of_queries(
    agent_client: Client, active: Contract, django_assert_max_num_queries
) -> None:
    agent_client.get(_url(active))  # warm the session and the operator profile
    with django_assert_max_num_queries(26):
        assert agent_client.get(_url(active)).status_code == 200


@pytest.mark.parametrize(
    ("played", "message"),
    [
        (ChildResult(2, "", "Scénario invalide : la souscription est refusée."), "refusée"),
        (ChildResult(1, "", "Traceback (most recent call last): …"), "a échoué"),
        (ChildResult(0, "pas du JSON", ""), "a échoué"),
    ],
)
def test_a_simulator_failure_shows_a_french_message_not_an_error_page(
    agent_client: Client,
    active: Contract,
    monkeypatch: pytest.MonkeyPatch,
    played: ChildResult,
    message: str,
) -> None:
    monkeypatch.setattr(whatif_views, "sandbox_play", lambda *a, **k: played)
    response = agent_client.post(_url(active), {"jusqu_au": "2027-12-31"})
    assert response.status_code == 200
    assert message in _text(response)
    assert "Traceback" not in _text(response)
