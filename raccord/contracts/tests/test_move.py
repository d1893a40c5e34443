"""Move (C8): the eligibility test of the new address first (C1), equipped premises (C14)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from raccord.catalog.models import Offer, Zone, ZoneOffer
from raccord.contracts.models import Contract
from raccord.contracts.move import UNCOVERED_MOVE_REASON, contract_move, contract_move_check
from raccord.contracts.offer_change import contract_offer_change
from raccord.contracts.services import contract_cancel
from raccord.contracts.termination import (
    contract_termination_complete,
    contract_termination_request,
)
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event, Policy
from raccord.eligibility.models import Address, Premises

SIGNED = date(2027, 1, 5)
ACTIVATED = date(2027, 1, 20)
MOVE_DAY = date(2027, 6, 15)


@pytest.fixture
def active(subscribe) -> Contract:
    return subscribe(signed=SIGNED, activated=ACTIVATED)


def _moves(contract: Contract) -> list[Event]:
    return list(Event.objects.filter(subject_id=contract.pk, verb="contract.moved"))


def _state(contract: Contract) -> tuple:
    contract.refresh_from_db()
    return (
        contract.installation_address_id,
        contract.installation_complement,
        contract.premises_id,
        contract.monthly_price,
        contract.offer_id,
    )


def _fibre_only_address(catalogue) -> Address:
    """A commune outside Alsace where only the fibre offer is sold."""
    address = Address.objects.create(
        ban_id="57463_0300_00005",
        numero=5,
        nom_voie="Rue Serpenoise",
        code_postal="57000",
        code_insee="57463",
        nom_commune="Metz",
    )
    zone = Zone.objects.create(code="metz", name="Metz", communes=["57463"])
    ZoneOffer.objects.create(zone=zone, offer=catalogue.fibre)
    return address


# --- the check: a preview -------------------------------------------------------------------


def test_the_check_writes_nothing__C8(active: Contract, catalogue) -> None:
    # given the policy row already exists (reading it the first time creates it)
    Policy.get()
    events = Event.objects.count()
    before = _state(active)
    # when
    with CaptureQueriesContext(connection) as queries:
        for address in (catalogue.address_subsidised, catalogue.address_uncovered):
            contract_move_check(contract=active, address=address)
    # then
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert Event.objects.count() == events
    assert _state(active) == before


def test_the_check_gives_the_local_price_and_keeps_the_signed_one_apart__C8_C1(
    active: Contract, catalogue
) -> None:
    check = contract_move_check(contract=active, address=catalogue.address_subsidised)
    assert check.available
    assert check.signed_price == Decimal("29.90")
    assert check.local_price == Decimal("24.90")  # the Saint-Dié zone price
    assert check.price_difference == Decimal("-5.00")
    assert check.price_differs
    assert check.lead_time_days == catalogue.thd30.lead_time_days
    assert not check.premises_equipped and check.premises is None
    assert check.alternatives == ()  # only THD30 is sold in Saint-Dié
    assert "24,90" in check.message and "29,90" in check.message
    assert "garde son prix signé" in check.message


def test_the_check_within_the_same_zone_says_the_price_is_the_signed_one__C8(
    active: Contract, catalogue
) -> None:
    address = Address.objects.create(
        ban_id="67462_0001_00002",
        numero=2,
        nom_voie="Rue du Château",
        code_postal="67600",
        code_insee="67462",
        nom_commune="Sélestat",
    )
    check = contract_move_check(contract=active, address=address)
    assert check.available and not check.price_differs
    assert check.local_price == active.monthly_price
    assert [item.offer.code for item in check.alternatives] == ["FIBRE300"]
    assert "Son prix y est le prix signé" in check.message


def test_the_check_flags_equipped_premises_and_their_shorter_lead_time__C14_C1(
    active: Contract, catalogue
) -> None:
    check = contract_move_check(contract=active, address=catalogue.address_equipped)
    assert check.available and check.premises_equipped
    assert check.premises == Premises.objects.get(address=catalogue.address_equipped)
    assert check.lead_time_days == catalogue.thd30.equipped_lead_time_days
    assert "déjà équipé" in check.message


@pytest.mark.parametrize("where", ["address_uncovered", "address_excluded"])
def test_the_check_refuses_an_uncovered_address_and_gives_the_options__C8_C1_C13(
    active: Contract, catalogue, where: str
) -> None:
    check = contract_move_check(contract=active, address=getattr(catalogue, where))
    assert not check.available
    assert check.local_price is None and check.lead_time_days is None
    assert check.alternatives == ()
    assert check.legitimate_reason == UNCOVERED_MOVE_REASON
    assert "n'est couverte par aucune de nos offres" in check.message
    assert f"motif légitime « {UNCOVERED_MOVE_REASON} »" in check.message
    assert "sans indemnité de résiliation anticipée" in check.message


def test_without_the_policy_reason_the_check_offers_a_plain_termination__C8_C13(
    active: Contract, catalogue
) -> None:
    policy = Policy.get()
    policy.legitimate_reasons = [r for r in policy.legitimate_reasons if r != UNCOVERED_MOVE_REASON]
    policy.save()
    check = contract_move_check(contract=active, address=catalogue.address_uncovered)
    assert check.legitimate_reason == ""
    assert "motif légitime" not in check.message
    assert "Il peut aussi résilier ce contrat." in check.message


def test_the_check_proposes_an_offer_change_when_another_offer_is_sold_there__C8_C9(
    active: Contract, catalogue
) -> None:
    # given an address where only the fibre offer is sold (also sold in Strasbourg)
    address = _fibre_only_address(catalogue)
    # when
    check = contract_move_check(contract=active, address=address)
    # then
    assert not check.available
    assert [item.offer.code for item in check.alternatives] == ["FIBRE300"]
    assert [item.offer.code for item in check.alternatives_here] == ["FIBRE300"]
    assert "L'offre THD Radio 30 du contrat n'est pas disponible" in check.message
    assert "Fibre 300 (39,90" in check.message
    assert "changer d'offre pour Fibre 300" in check.message


def test_an_offer_sold_only_there_cannot_be_changed_to_before_the_move__C8_C9(
    active: Contract, catalogue
) -> None:
    # given an offer sold at the new address but not at the current one
    local = Offer.objects.create(
        code="MOSELLE",
        label="Radio Moselle",
        technology="radio",
        download_mbps=20,
        upload_mbps=2,
        monthly_price=Decimal("19.90"),
        setup_fee=Decimal("0"),
        commitment_months=0,
    )
    address = _fibre_only_address(catalogue)
    ZoneOffer.objects.create(zone=Zone.objects.get(code="metz"), offer=local)
    check = contract_move_check(contract=active, address=address)
    assert {item.offer.code for item in check.alternatives} == {"FIBRE300", "MOSELLE"}
    assert [item.offer.code for item in check.alternatives_here] == ["FIBRE300"]
    assert "Radio Moselle" not in check.message.split("changer d'offre pour")[1]


def test_the_check_of_an_order_not_yet_in_service_offers_a_free_cancellation__C8_C6(
    subscribe, catalogue
) -> None:
    ordered = subscribe(signed=SIGNED)
    check = contract_move_check(contract=ordered, address=catalogue.address_uncovered)
    assert not check.available
    assert "annulée sans frais" in check.message
    assert "motif légitime" not in check.message


def test_a_withdrawn_offer_is_not_installed_at_a_new_address__C8(
    active: Contract, catalogue
) -> None:
    Offer.objects.filter(pk=catalogue.thd30.pk).update(is_active=False)
    active.refresh_from_db()
    check = contract_move_check(contract=active, address=catalogue.address_subsidised)
    assert not check.available
    assert "n'est plus commercialisée" in check.message


def test_an_offer_change_recorded_in_advance_must_be_sold_there_too__C8_C9(
    active: Contract, catalogue, agent: Actor
) -> None:
    # given a change to the fibre offer recorded today for a later date
    change_day = MOVE_DAY + timedelta(days=20)
    contract = contract_offer_change(
        contract=active, offer_code="FIBRE300", effective_date=change_day, actor=agent, on=MOVE_DAY
    )
    assert contract.offer.code == "THD30"  # switched on D only
    # when the new address sells THD30 but not the fibre offer (Saint-Dié)
    check = contract_move_check(contract=contract, address=catalogue.address_subsidised)
    # then the move is not possible while that change is planned
    assert check.local_offer is not None
    assert not check.available
    assert check.scheduled_change is not None and check.scheduled_offer is None
    assert f"prévu le {change_day:%d/%m/%Y}" in check.message
    with pytest.raises(DomainError) as refused:
        contract_move(
            contract=contract, address=catalogue.address_subsidised, on=MOVE_DAY, actor=agent
        )
    assert refused.value.field == "address_id"
    assert _moves(contract) == []
    # and an address selling both offers (Colmar) is fine
    check = contract_move_check(contract=contract, address=catalogue.address_equipped)
    assert check.available and check.scheduled_offer is not None
    assert "y reste possible" in check.message
    moved = contract_move(
        contract=contract, address=catalogue.address_equipped, on=MOVE_DAY, actor=agent
    )
    [event] = _moves(moved)
    assert event.data["eligibility"]["scheduled_offer"] == "FIBRE300"
    assert event.data["eligibility"]["scheduled_offer_available"] is True


# --- the move -------------------------------------------------------------------------------


def test_move_to_an_uncovered_address_is_refused_and_changes_nothing__C8(
    active: Contract, catalogue, agent: Actor
) -> None:
    before = _state(active)
    events = Event.objects.count()
    with pytest.raises(DomainError) as refused:
        contract_move(
            contract=active, address=catalogue.address_uncovered, on=MOVE_DAY, actor=agent
        )
    assert refused.value.field == "address_id"
    assert refused.value.message.startswith(
        "Déménagement impossible sans test d'éligibilité positif."
    )
    assert "aucune de nos offres" in refused.value.message
    assert _state(active) == before
    assert Event.objects.count() == events


def test_move_within_coverage_updates_the_address_and_records_the_agent__C8(
    active: Contract, catalogue, agent: Actor
) -> None:
    # given a move inside Alsace, from Strasbourg to another Strasbourg address
    new = Address.objects.create(
        ban_id="67482_0020_00040",
        numero=40,
        nom_voie="Avenue de la Forêt-Noire",
        code_postal="67000",
        code_insee="67482",
        nom_commune="Strasbourg",
    )
    old = active.installation_address
    # when
    moved = contract_move(
        contract=active,
        address=new,
        installation_complement="  Bâtiment B,   3e étage ",
        on=MOVE_DAY,
        actor=agent,
    )
    # then
    moved.refresh_from_db()
    assert moved.installation_address == new
    assert moved.installation_complement == "Bâtiment B, 3e étage"
    assert moved.premises is None
    assert moved.status == Contract.Status.ACTIVE
    [event] = _moves(moved)
    assert event.actor_kind == Event.ActorKind.AGENT
    assert event.actor_user == agent.user
    assert event.customer_id == moved.customer_id
    assert event.at.date() == MOVE_DAY
    assert event.data["from_address"] == {
        "id": old.pk,
        "ban_id": old.ban_id,
        "label": old.label,
        "complement": "",
    }
    assert event.data["to_address"]["id"] == new.pk
    assert event.data["to_address"]["complement"] == "Bâtiment B, 3e étage"
    assert event.data["eligibility"]["offer_available"] is True
    assert event.data["eligibility"]["zone"] == "alsace"
    assert old.label in event.summary and new.label in event.summary


def test_move_to_equipped_premises_attaches_them__C14(
    active: Contract, catalogue, agent: Actor
) -> None:
    moved = contract_move(
        contract=active, address=catalogue.address_equipped, on=MOVE_DAY, actor=agent
    )
    moved.refresh_from_db()
    premises = Premises.objects.get(address=catalogue.address_equipped)
    assert moved.premises == premises
    [event] = _moves(moved)
    assert event.data["to_premises_id"] == premises.pk
    assert event.data["eligibility"]["premises_equipped"] is True
    assert event.data["eligibility"]["lead_time_days"] == catalogue.thd30.equipped_lead_time_days


def test_moving_away_from_equipped_premises_detaches_them__C14(
    subscribe, catalogue, agent: Actor
) -> None:
    contract = subscribe(
        signed=SIGNED,
        activated=ACTIVATED,
        address_id=catalogue.address_equipped.pk,
        installation_mode="equipped",
    )
    assert contract.premises is not None
    moved = contract_move(contract=contract, address=catalogue.address, on=MOVE_DAY, actor=agent)
    moved.refresh_from_db()
    assert moved.premises is None
    [event] = _moves(moved)
    assert event.data["from_premises_id"] == contract.premises.pk


def test_move_keeps_the_signed_price_and_reports_the_local_one__C8_M1(
    active: Contract, catalogue, agent: Actor
) -> None:
    moved = contract_move(
        contract=active, address=catalogue.address_subsidised, on=MOVE_DAY, actor=agent
    )
    moved.refresh_from_db()
    assert moved.monthly_price == Decimal("29.90")
    assert moved.offer.code == "THD30"
    assert moved.subscriptions.get(kind="offer").monthly_price == Decimal("29.90")
    [event] = _moves(moved)
    assert event.data["eligibility"]["signed_monthly_price"] == "29.90"
    assert event.data["eligibility"]["local_monthly_price"] == "24.90"
    assert event.data["eligibility"]["price_difference"] == "-5.00"
    assert event.data["eligibility"]["price_differs"] is True
    assert "prix local 24,90" in event.summary


def test_move_is_idempotent__C8(active: Contract, catalogue, agent: Actor) -> None:
    for _attempt in range(2):
        contract_move(
            contract=active,
            address=catalogue.address_subsidised,
            installation_complement="Appartement 4",
            on=MOVE_DAY,
            actor=agent,
        )
    assert len(_moves(active)) == 1


def test_a_new_complement_at_the_same_address_is_a_move__C8(
    active: Contract, catalogue, agent: Actor
) -> None:
    contract_move(
        contract=active,
        address=active.installation_address,
        installation_complement="Appartement 12",
        on=MOVE_DAY,
        actor=agent,
    )
    active.refresh_from_db()
    assert active.installation_complement == "Appartement 12"
    assert len(_moves(active)) == 1


def test_an_order_not_yet_in_service_can_move__C8(subscribe, catalogue, agent: Actor) -> None:
    ordered = subscribe(signed=SIGNED)
    moved = contract_move(
        contract=ordered, address=catalogue.address_equipped, on=SIGNED, actor=agent
    )
    moved.refresh_from_db()
    assert moved.status == Contract.Status.ORDERED
    assert moved.installation_address == catalogue.address_equipped


def test_a_terminated_contract_cannot_move__C8(active: Contract, catalogue, agent: Actor) -> None:
    # given a contract terminated
    requested = date(2027, 4, 1)
    contract = contract_termination_request(
        contract=active, requested_on=requested, actor=Actor.customer(None)
    )
    effective = contract.termination_effective_date
    assert effective is not None
    contract = contract_termination_complete(contract=contract, on=effective, actor=agent)
    assert contract.status == Contract.Status.TERMINATED
    before = _state(contract)
    # when / then
    with pytest.raises(DomainError) as refused:
        contract_move(
            contract=contract,
            address=catalogue.address_subsidised,
            on=effective + timedelta(days=5),
            actor=agent,
        )
    assert refused.value.field == "contract"
    assert "n'est plus en cours (résilié)" in refused.value.message
    assert _state(contract) == before
    assert _moves(contract) == []
    with pytest.raises(DomainError):
        contract_move_check(contract=contract, address=catalogue.address_subsidised)


def test_a_contract_whose_termination_is_requested_cannot_move__C8(
    active: Contract, catalogue, agent: Actor
) -> None:
    contract = contract_termination_request(
        contract=active, requested_on=date(2027, 4, 1), actor=Actor.customer(None)
    )
    with pytest.raises(DomainError) as refused:
        contract_move(
            contract=contract, address=catalogue.address_subsidised, on=MOVE_DAY, actor=agent
        )
    assert "annulez d'abord la demande de résiliation" in refused.value.message
    assert _moves(contract) == []


def test_a_cancelled_order_cannot_move__C8(subscribe, catalogue, agent: Actor) -> None:
    ordered = subscribe(signed=SIGNED)
    cancelled = contract_cancel(contract=ordered, on=SIGNED, actor=agent)
    with pytest.raises(DomainError) as refused:
        contract_move(
            contract=cancelled, address=catalogue.address_subsidised, on=SIGNED, actor=agent
        )
    assert "(annulé)" in refused.value.message


def test_a_customer_cannot_record_a_move_themselves__C8(active: Contract, catalogue) -> None:
    with pytest.raises(DomainError) as refused:
        contract_move(
            contract=active,
            address=catalogue.address_subsidised,
            on=MOVE_DAY,
            actor=Actor.customer(active.customer.user),
        )
    assert "service client" in refused.value.message
    assert _moves(active) == []


def test_a_too_long_complement_is_refused_next_to_its_field__C8(
    active: Contract, catalogue, agent: Actor
) -> None:
    with pytest.raises(DomainError) as refused:
        contract_move(
            contract=active,
            address=catalogue.address_subsidised,
            installation_complement="x" * 201,
            on=MOVE_DAY,
            actor=agent,
        )
    assert refused.value.field == "installation_complement"
    assert _moves(active) == []
