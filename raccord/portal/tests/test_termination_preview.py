"""« Combien coûte ma résiliation aujourd'hui ? » in Mon Compte: a preview that writes nothing
(C10, C11, C12, S2)."""

from __future__ import annotations

import html
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from raccord.billing.models import Document, PendingItem
from raccord.conftest import paris
from raccord.contracts.models import Contract, Subscription
from raccord.contracts.services import (
    contract_activate,
    contract_equipment_receive,
    contract_kit_ship,
)
from raccord.core.events import Actor
from raccord.core.models import Event, Policy
from raccord.core.money import days_in_month, round_half_up
from raccord.equipment.models import EquipmentReturn, EquipmentUnit

PREVIEW = reverse("portal:termination_preview")
SYSTEM = Actor.system()
NBSP = "\u00a0"


def _text(response) -> str:
    return html.unescape(response.content.decode()).replace(NBSP, " ").replace("\u202f", " ")


def _activate(contract: Contract, on: date = date(2027, 1, 20)) -> Contract:
    if contract.installation_mode == Contract.InstallationMode.KIT:
        contract_kit_ship(contract=contract, on=on - timedelta(days=10), actor=SYSTEM)
    contract_equipment_receive(contract=contract, on=on - timedelta(days=5), actor=SYSTEM)
    return contract_activate(contract=contract, on=on, source="radius", actor=SYSTEM)


def _fee_by_hand(monthly: Decimal, first: date, last: date) -> Decimal:
    """C11 with weight 1 on every day (all within the first 12 months), M3 day by day."""
    exact = Fraction(0)
    day = first
    while day <= last:
        exact += Fraction(monthly) / days_in_month(day)
        day += timedelta(days=1)
    return round_half_up(exact)


@pytest.fixture
def active(contract: Contract) -> Contract:
    return _activate(contract)


@pytest.fixture
def march(clock):
    clock.current = paris(2027, 3, 5, 9, 30)
    return clock


def test_today_the_quote_gives_the_notice_date_the_fee_and_the_commitment__C10_C11(
    logged_in, customer, active, march
):
    # when the customer opens the page on 5 March 2027 (activation 20 January, 12 months)
    response = logged_in.get(PREVIEW)
    # then
    assert response.status_code == 200
    page = _text(response)
    # C10: request + 10 days
    assert "votre résiliation prendrait effet le 15 mars 2027, 10 jours après votre demande" in (
        page
    )
    # the notice is the default, not an obligation (C10): an earlier date may be chosen
    assert "Vous pouvez aussi choisir une autre date, dès le lendemain de votre demande." in page
    assert "Votre engagement court jusqu'au 19 janvier 2028." in page
    # C11: the offer's price (options excluded) from 16 March 2027 to 19 January 2028
    fee = _fee_by_hand(Decimal("29.90"), date(2027, 3, 16), date(2028, 1, 19))
    fee_text = f"{fee:.2f}".replace(".", ",") + " €"
    assert "Indemnité de résiliation anticipée : votre contrat prend fin le 15 mars 2027" in page
    assert "il restait 10 mois et 4 jours au prix de l'offre (29,90 € par mois" in page
    assert "tous dus, car ils sont dans les 12 premiers mois de votre engagement" in page
    assert f"À payer : {fee_text}" in page
    # B3: days billed after E come back
    assert "les jours déjà facturés après cette date vous seront rendus" in page
    # how to actually terminate
    assert "Comment résilier ?" in page


def test_a_chosen_later_date_is_the_effective_date__C10(logged_in, customer, active, march):
    page = _text(logged_in.get(PREVIEW, {"contrat": active.pk, "date": "2027-06-30"}))
    assert "Votre résiliation prendrait effet le 30 juin 2027, la date que vous avez choisie." in (
        page
    )
    fee = _fee_by_hand(Decimal("29.90"), date(2027, 7, 1), date(2028, 1, 19))
    assert f"À payer : {fee:.2f}".replace(".", ",") in page


def test_after_the_commitment_end_nothing_is_due__C7_C11(logged_in, customer, active, clock):
    clock.current = paris(2028, 2, 1)
    page = _text(logged_in.get(PREVIEW))
    assert "Votre engagement se termine le 19 janvier 2028, avant la date d'effet" in page
    assert "Votre résiliation ne coûterait rien." in page
    assert "Indemnité de résiliation anticipée" not in page


def test_the_catalogue_termination_fee_is_listed__C12(logged_in, customer, active, march):
    Contract.objects.filter(pk=active.pk).update(termination_fee=Decimal("30.00"))
    page = _text(logged_in.get(PREVIEW))
    assert (
        "Frais de résiliation prévus par votre offre (résiliation effective le 15 mars 2027) : 30,00 €"
        in (page)
    )


def test_the_equipment_to_return_and_its_deadline__S2(
    logged_in, customer, active, march, catalogue
):
    EquipmentUnit.objects.create(
        model=catalogue.antenna, serial="ANT-0042", contract=active, status="installed"
    )
    page = _text(logged_in.get(PREVIEW))
    deadline = date(2027, 3, 15) + timedelta(days=Policy.get().equipment_return_days)
    day = f"{deadline.day} avril 2027" if deadline.month == 4 else ""
    assert day
    assert (
        f"Antenne radio (n° de série ANT-0042) : à renvoyer au plus tard le {day}, sinon 150,00 € de frais de non-restitution."
        in (page)
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2027-02-01", "Choisissez une date à partir d'aujourd'hui (05/03/2027)."),
        ("pas une date", "Indiquez une date, par exemple 31/03/2027."),
        ("2031-01-01", "Choisissez une date dans les deux prochaines années."),
    ],
)
def test_a_bad_date_gets_a_french_error_next_to_its_field(
    logged_in, customer, active, march, value, message
):
    response = logged_in.get(PREVIEW, {"contrat": active.pk, "date": value})
    assert response.status_code == 400
    page = _text(response)
    assert f'<p class="error" id="id_date_error">{message}</p>' in page
    assert 'aria-invalid="true" aria-describedby="id_date_helptext id_date_error"' in page
    assert "À payer" not in page


def test_another_customers_contract_cannot_be_quoted__security(
    logged_in, customer, active, other_contract, march
):
    other = _activate(other_contract, on=date(2027, 1, 25))
    response = logged_in.get(PREVIEW, {"contrat": other.pk})
    assert response.status_code == 400
    page = _text(response)
    assert "Choisissez un de vos contrats en service." in page
    assert other.reference not in page


def test_a_contract_not_yet_active_has_nothing_to_quote__C6(logged_in, customer, contract, march):
    page = _text(logged_in.get(PREVIEW))
    assert "Vous n'avez pas de contrat en service à résilier." in page


def test_the_preview_writes_nothing__C10(logged_in, customer, active, march, catalogue):
    # given
    EquipmentUnit.objects.create(
        model=catalogue.antenna, serial="ANT-0043", contract=active, status="installed"
    )
    Policy.get()
    logged_in.get(PREVIEW)  # warm up
    counts = [
        m.objects.count()
        for m in (PendingItem, Event, EquipmentReturn, Document, Subscription, Contract)
    ]
    # when
    with CaptureQueriesContext(connection) as queries:
        response = logged_in.get(PREVIEW, {"contrat": active.pk, "date": "2027-04-30"})
    # then
    assert response.status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert counts == [
        m.objects.count()
        for m in (PendingItem, Event, EquipmentReturn, Document, Subscription, Contract)
    ]
    active.refresh_from_db()
    assert active.status == Contract.Status.ACTIVE
    assert active.termination_effective_date is None
    assert not Subscription.objects.filter(contract=active, end_date__isnull=False).exists()


def test_with_two_contracts_the_customer_picks_one(
    logged_in, customer, active, march, other_contract
):
    # given a second line of the same customer (moved over: the funnel refuses a second
    # account for one email)
    Contract.objects.filter(pk=other_contract.pk).update(customer=customer)
    second = _activate(Contract.objects.get(pk=other_contract.pk), on=date(2027, 1, 22))
    # when
    page = _text(logged_in.get(PREVIEW, {"contrat": second.pk}))
    # then the chosen contract is quoted, and both can be chosen
    assert f"Fibre 300 ({second.reference})" in page
    assert "Votre engagement court jusqu'au 21 janvier 2029." in page
    assert f'<option value="{active.pk}">' in page
