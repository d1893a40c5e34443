"""Back-office: what a termination would cost, on the customer page and for a chosen date or a
legitimate reason (C10-C13, S2). A preview: nothing is written."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from raccord.billing.models import PendingItem
from raccord.contracts.models import Contract, Subscription
from raccord.contracts.services import (
    contract_activate,
    contract_equipment_receive,
    contract_kit_ship,
)
from raccord.contracts.termination import early_termination_fee
from raccord.core.events import Actor
from raccord.core.models import Event, OperatorProfile, Policy
from raccord.equipment.models import EquipmentReturn, EquipmentUnit

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = date(2027, 3, 5)


def _text(response) -> str:
    return unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def _euros(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",") + " €"


@pytest.fixture
def today(monkeypatch) -> date:
    # The back-office reads the local date once per request; tests pin it.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    return TODAY


@pytest.fixture
def active(contract: Contract, catalogue) -> Contract:
    contract_kit_ship(contract=contract, on=date(2027, 1, 10), actor=SYSTEM)
    contract_equipment_receive(contract=contract, on=date(2027, 1, 15), actor=SYSTEM)
    contract = contract_activate(
        contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM
    )
    EquipmentUnit.objects.create(
        model=catalogue.antenna, serial="ANT-0007", contract=contract, status="installed"
    )
    return contract


def _expected_fee(effective: date) -> Decimal:
    return early_termination_fee(
        monthly_price=Decimal("29.90"),
        commitment_start=date(2027, 1, 20),
        commitment_end=date(2028, 1, 19),
        effective_date=effective,
        subsidised_equipment=False,
    ).amount


def test_the_customer_page_quotes_a_termination_today__C10_C11_S2(
    agent_client: Client, active: Contract, today: date
) -> None:
    html = _text(agent_client.get(reverse("backoffice:customer_detail", args=[active.customer_id])))
    effective = TODAY + timedelta(days=Policy.get().termination_notice_days)
    deadline = effective + timedelta(days=Policy.get().equipment_return_days)
    assert "Combien coûte la résiliation aujourd'hui ?" in html
    assert f"<dd>{effective:%d/%m/%Y}<br>" in html  # effective date
    assert "19/01/2028" in html  # commitment end
    assert "loi du 16 août 2022" in html  # its regime
    assert _euros(_expected_fee(effective)) in html
    assert "Antenne radio (n° de série ANT-0007) : à renvoyer au plus tard le" in html
    assert f"{deadline.day} " in html
    assert reverse("backoffice:termination_preview", args=[active.pk]) in html


def test_a_contract_not_yet_active_has_no_quote(agent_client: Client, contract: Contract) -> None:
    html = _text(agent_client.get(reverse("backoffice:customer_detail", args=[contract.pk])))
    assert "Combien coûte la résiliation aujourd'hui ?" not in html


def test_a_chosen_date_moves_the_effective_date_and_the_fee__C10(
    agent_client: Client, active: Contract, today: date
) -> None:
    url = reverse("backoffice:termination_preview", args=[active.pk])
    html = _text(agent_client.get(url, {"date": "2027-09-30"}))
    assert "la date que vous avez choisie" in html
    assert "<dd>30/09/2027<br>" in html
    assert _euros(_expected_fee(date(2027, 9, 30))) in html


def test_a_legitimate_reason_waives_the_early_termination_fee__C13(
    agent_client: Client, active: Contract, today: date
) -> None:
    url = reverse("backoffice:termination_preview", args=[active.pk])
    reason = Policy.get().legitimate_reasons[0]
    response = agent_client.get(url, {"motif": reason})
    assert response.status_code == 200
    html = _text(response)
    waived = _expected_fee(TODAY + timedelta(days=10))
    assert (
        f"Motif légitime « {reason} » : l'indemnité de résiliation anticipée de {_euros(waived)} n'est pas due."
        in html
    )
    assert "<strong>0,00 €</strong>" in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"date": "2027-03-01"},
            "date",
            "Choisissez une date à partir d'aujourd'hui (05/03/2027).",
        ),
        ({"date": "n'importe"}, "date", "Indiquez une date, par exemple 31/03/2027."),
        (
            {"motif": "j'ai changé d'avis"},
            "motif",
            "Choisissez un motif de la liste de l'opérateur.",
        ),
    ],
)
def test_bad_input_gets_a_french_error_next_to_its_field(
    agent_client: Client, active: Contract, today: date, params, field, message
) -> None:
    response = agent_client.get(reverse("backoffice:termination_preview", args=[active.pk]), params)
    assert response.status_code == 400
    html = _text(response)
    assert f'<p class="error" id="id_{field}-error">{message}</p>' in html
    assert 'aria-invalid="true"' in html
    assert "Résultat" not in html


def test_the_preview_writes_nothing__C10(
    agent_client: Client, active: Contract, today: date
) -> None:
    OperatorProfile.get()
    Policy.get()
    models = (PendingItem, Event, EquipmentReturn, Subscription, Contract)
    before = [m.objects.count() for m in models]
    with CaptureQueriesContext(connection) as queries:
        agent_client.get(reverse("backoffice:customer_detail", args=[active.customer_id]))
        agent_client.get(
            reverse("backoffice:termination_preview", args=[active.pk]),
            {"date": "2027-05-31", "motif": Policy.get().legitimate_reasons[0]},
        )
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert [m.objects.count() for m in models] == before
    active.refresh_from_db()
    assert active.status == Contract.Status.ACTIVE


def test_an_ended_contract_has_nothing_to_quote(
    agent_client: Client, contract: Contract, today: date
) -> None:
    response = agent_client.get(reverse("backoffice:termination_preview", args=[contract.pk]))
    assert response.status_code == 200
    assert "Ce contrat n'est pas en service" in _text(response)


def test_an_unknown_contract_is_a_404(agent_client: Client, db: None) -> None:
    response = agent_client.get(reverse("backoffice:termination_preview", args=[424242]))
    assert response.status_code == 404
