"""Equipment returns (S2) and equipment reused by new occupants (C14)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from raccord.billing.models import PendingItem
from raccord.contracts.daily import daily_run
from raccord.contracts.models import Contract
from raccord.contracts.termination import contract_termination_request
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event
from raccord.equipment.models import EquipmentReturn, EquipmentUnit
from raccord.equipment.services import (
    equipment_deadlines_run,
    equipment_exchange,
    equipment_return_confirm,
    equipment_return_record,
    equipment_units_assign,
)

SYSTEM = Actor.system()
CUSTOMER = Actor.customer(None)
U = EquipmentUnit.Status


@pytest.fixture
def terminated(subscribe, catalogue) -> EquipmentReturn:
    """An antenna (non-return fee 150.00, VAT 0) to return after E = 2027-03-11:
    deadline 2027-04-10."""
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    equipment_units_assign(contract=contract, models=["ANT"], on=date(2027, 1, 12))
    contract_termination_request(contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER)
    return EquipmentReturn.objects.get(contract=contract)


def _fees() -> list[PendingItem]:
    return list(PendingItem.objects.filter(kind="non_return_fee"))


def test_units_are_lent_once_per_model(subscribe, catalogue):
    contract = subscribe(signed=date(2027, 1, 5))
    first = equipment_units_assign(contract=contract, models=["ANT"], on=date(2027, 1, 8))
    again = equipment_units_assign(contract=contract, models=["ANT"], on=date(2027, 1, 9))
    assert len(first) == 1 and again == []
    assert EquipmentUnit.objects.get().serial.startswith("ANT-")


def test_termination_opens_a_return_due_30_days_after_E__S2(terminated):
    assert terminated.reference.startswith("RM-")
    assert terminated.deadline == date(2027, 4, 10)
    assert terminated.reason == EquipmentReturn.Reason.TERMINATION
    assert terminated.unit.status == U.AWAITING_RETURN


def test_a_return_on_the_deadline_day_is_in_time__S2(terminated):
    equipment_return_record(return_=terminated, returned_on=date(2027, 4, 10), actor=SYSTEM)
    for day in (date(2027, 4, 11), date(2027, 5, 1)):
        daily_run(on=day)
    assert _fees() == []
    terminated.refresh_from_db()
    assert terminated.outcome == EquipmentReturn.Outcome.RETURNED
    assert terminated.unit.status == U.RETURNED


def test_not_returned_by_the_deadline_costs_the_fee_the_day_after__S2(terminated):
    # on the deadline day nothing happens yet
    daily_run(on=date(2027, 4, 10))
    assert _fees() == []
    # the day after: the model's non-return fee, created that day
    daily_run(on=date(2027, 4, 11))
    (fee,) = _fees()
    assert fee.amount == Decimal("150.00")
    assert fee.vat_rate == Decimal("0")
    assert fee.created_on == date(2027, 4, 11)
    assert fee.product == "ANT"
    terminated.refresh_from_db()
    assert fee.data == {
        "model": "ANT",
        "serial": terminated.unit.serial,
        "deadline": "2027-04-10",
        "return_reference": terminated.reference,
    }
    assert terminated.fee == fee
    assert terminated.unit.status == U.LOST


def test_the_fee_is_dated_the_day_after_the_deadline_even_when_caught_up_late__S2(terminated):
    equipment_deadlines_run(on=date(2027, 4, 25))
    equipment_deadlines_run(on=date(2027, 4, 26))
    (fee,) = _fees()
    assert fee.created_on == date(2027, 4, 11)


def test_a_late_return_recorded_before_the_daily_job_still_costs_the_fee__S2(terminated):
    equipment_return_record(return_=terminated, returned_on=date(2027, 4, 12), actor=SYSTEM)
    (fee,) = _fees()
    assert fee.created_on == date(2027, 4, 11)
    assert not PendingItem.objects.filter(kind="non_return_refund").exists()


def test_a_later_return_with_proof_of_deposit_confirmed_by_an_agent_is_refunded__S2(
    terminated, agent
):
    # given: the fee was charged; the parcel arrives later with a deposit receipt
    daily_run(on=date(2027, 4, 11))
    item = equipment_return_record(
        return_=terminated,
        returned_on=date(2027, 4, 20),
        deposit_date=date(2027, 4, 15),
        actor=SYSTEM,
    )
    assert not PendingItem.objects.filter(kind="non_return_refund").exists()
    with pytest.raises(DomainError):  # only an agent confirms
        equipment_return_confirm(return_=item, on=date(2027, 4, 21), actor=CUSTOMER)
    # when
    item = equipment_return_confirm(return_=item, on=date(2027, 4, 21), actor=agent)
    # then
    refund = PendingItem.objects.get(kind="non_return_refund")
    assert item.fee is not None
    assert refund.amount == -item.fee.amount == Decimal("-150.00")
    assert refund.created_on == date(2027, 4, 21)
    assert refund.data["returned_on"] == "2027-04-20"
    assert refund.data["deposit_date"] == "2027-04-15"
    assert refund.data["return_reference"] == item.reference
    assert item.refund == refund
    # confirming again refunds nothing more
    equipment_return_confirm(return_=item, on=date(2027, 4, 22), actor=agent)
    assert PendingItem.objects.filter(kind="non_return_refund").count() == 1


def test_an_agent_recording_a_late_return_with_its_deposit_refunds_at_once__S2(terminated, agent):
    daily_run(on=date(2027, 4, 11))
    equipment_return_record(
        return_=terminated,
        returned_on=date(2027, 4, 20),
        deposit_date=date(2027, 4, 16),
        actor=agent,
    )
    assert PendingItem.objects.get(kind="non_return_refund").created_on == date(2027, 4, 20)


def test_no_refund_without_a_proof_of_deposit__S2(terminated, agent):
    daily_run(on=date(2027, 4, 11))
    item = equipment_return_record(return_=terminated, returned_on=date(2027, 4, 20), actor=agent)
    with pytest.raises(DomainError) as error:
        equipment_return_confirm(return_=item, on=date(2027, 4, 21), actor=agent)
    assert error.value.field == "deposit_date"
    assert not PendingItem.objects.filter(kind="non_return_refund").exists()


def test_exchanged_units_are_due_40_days_after_the_replacement_delivery__S2(subscribe, catalogue):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    (old,) = equipment_units_assign(contract=contract, models=["ANT"], on=date(2027, 1, 12))
    # when
    (returned,) = equipment_exchange(
        contract=contract, models=["ANT"], delivered=date(2027, 5, 3), actor=SYSTEM
    )
    # then
    assert returned.unit == old
    assert returned.reason == EquipmentReturn.Reason.EXCHANGE
    assert returned.deadline == date(2027, 6, 12)
    new = EquipmentUnit.objects.get(contract=contract, status=U.INSTALLED)
    assert new.pk != old.pk and new.delivered_on == date(2027, 5, 3)
    # the same exchange recorded twice changes nothing
    again = equipment_exchange(
        contract=contract, models=["ANT"], delivered=date(2027, 5, 3), actor=SYSTEM
    )
    assert [r.pk for r in again] == [returned.pk]
    assert EquipmentUnit.objects.filter(contract=contract).count() == 2
    # on the deadline day: in time; the day after: the fee
    daily_run(on=date(2027, 6, 12))
    assert _fees() == []
    daily_run(on=date(2027, 6, 13))
    assert [f.created_on for f in _fees()] == [date(2027, 6, 13)]
    # a termination later asks back the replacement only
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 7, 1), actor=CUSTOMER
    )
    termination = EquipmentReturn.objects.get(contract=contract, reason="termination")
    assert termination.unit == new


def test_exchanging_a_model_the_contract_does_not_have_is_refused__S2(subscribe, catalogue):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    with pytest.raises(DomainError) as error:
        equipment_exchange(
            contract=contract, models=["ANT"], delivered=date(2027, 5, 3), actor=SYSTEM
        )
    assert error.value.field == "models"


def test_new_occupants_reuse_the_installed_equipment__C14(subscribe, catalogue):
    # given: the former occupant of equipped premises leaves
    former = subscribe(
        signed=date(2027, 1, 5),
        activated=date(2027, 1, 20),
        address_id=catalogue.address_equipped.pk,
        installation_mode="kit",
    )
    (unit,) = equipment_units_assign(contract=former, models=["ANT"], on=date(2027, 1, 12))
    assert unit.premises == former.premises
    contract_termination_request(contract=former, requested_on=date(2027, 6, 1), actor=CUSTOMER)
    # when: new occupants subscribe there with the installation kept
    newcomer = subscribe(
        signed=date(2027, 6, 5),
        activated=date(2027, 6, 20),
        address_id=catalogue.address_equipped.pk,
        installation_mode="equipped",
    )
    # then: the unit is theirs, the former occupant has nothing to return
    unit.refresh_from_db()
    assert unit.contract == newcomer
    assert unit.status == U.INSTALLED
    former_return = EquipmentReturn.objects.get(contract=former)
    assert former_return.outcome == EquipmentReturn.Outcome.TRANSFERRED
    daily_run(on=date(2027, 8, 1))
    assert _fees() == []
    assert Event.objects.filter(verb="equipment.transferred", customer_id=newcomer.customer_id)


def test_units_of_a_running_contract_are_not_taken_over__C14(subscribe, catalogue):
    current = subscribe(
        signed=date(2027, 1, 5),
        activated=date(2027, 1, 20),
        address_id=catalogue.address_equipped.pk,
        installation_mode="kit",
    )
    (unit,) = equipment_units_assign(contract=current, models=["ANT"], on=date(2027, 1, 12))
    subscribe(
        signed=date(2027, 6, 5),
        activated=date(2027, 6, 20),
        address_id=catalogue.address_equipped.pk,
        installation_mode="equipped",
    )
    unit.refresh_from_db()
    assert unit.contract == current
    assert Contract.objects.count() == 2
