"""Delivery and activation (C4) and the commitment dates they set (C7)."""

from datetime import date

import pytest

from raccord.conftest import paris
from raccord.contracts.commitment import commitment_end, commitment_regime
from raccord.contracts.models import Contract
from raccord.contracts.services import (
    contract_activate,
    contract_equipment_receive,
    contract_installation_book,
    contract_kit_ship,
)
from raccord.contracts.signup import signup_create
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event

SYSTEM = Actor.system()


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2027, 1, 20), 12, date(2028, 1, 19)),  # the rulebook's example
        (date(2027, 1, 20), 24, date(2029, 1, 19)),
        (date(2027, 1, 1), 12, date(2027, 12, 31)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # no 29 February in 2029
    ],
)
def test_commitment_ends_the_day_before_the_same_day_n_months_later__C7(start, months, end):
    assert commitment_end(start=start, months=months) == end


def test_no_commitment_has_no_end__C7():
    assert commitment_end(start=date(2027, 1, 20), months=0) is None


def test_regime_depends_on_the_commitment_start__C11():
    assert commitment_regime(start=date(2022, 12, 31)) == "chatel"
    assert commitment_regime(start=date(2023, 1, 1)) == "2023"


@pytest.fixture
def contract(signup_request) -> Contract:
    return signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))


def test_first_connection_activates_and_starts_the_commitment__C4_C7(contract):
    contract_kit_ship(contract=contract, on=date(2027, 1, 8), actor=SYSTEM)
    contract_equipment_receive(contract=contract, on=date(2027, 1, 12), actor=SYSTEM)
    contract = contract_activate(
        contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM
    )
    assert contract.status == Contract.Status.ACTIVE
    assert contract.activation_date == date(2027, 1, 20)
    assert (contract.commitment_start, contract.commitment_end) == (
        date(2027, 1, 20),
        date(2028, 1, 19),
    )


def test_a_late_first_connection_is_capped_at_reception_plus_30_days__C4(contract):
    contract_equipment_receive(contract=contract, on=date(2027, 1, 12), actor=SYSTEM)
    contract = contract_activate(
        contract=contract, on=date(2027, 3, 1), source="radius", actor=SYSTEM
    )
    assert contract.activation_date == date(2027, 2, 11)


def test_activation_happens_exactly_once__C4(contract):
    contract_equipment_receive(contract=contract, on=date(2027, 1, 12), actor=SYSTEM)
    contract_activate(contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM)
    again = contract_activate(
        contract=contract, on=date(2027, 1, 25), source="radius", actor=SYSTEM
    )
    assert again.activation_date == date(2027, 1, 20)
    assert Event.objects.filter(verb="contract.activated").count() == 1


def test_an_installer_visit_counts_as_reception__C4(signup_request):
    signup_request.installation_mode = "installer"
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    contract_installation_book(
        contract=contract, on=date(2027, 1, 6), appointment=date(2027, 1, 15), actor=SYSTEM
    )
    contract = contract_equipment_receive(contract=contract, on=date(2027, 1, 15), actor=SYSTEM)
    assert contract.status == Contract.Status.EQUIPMENT_RECEIVED
    contract = contract_activate(
        contract=contract, on=date(2027, 3, 1), source="fallback", actor=SYSTEM
    )
    assert contract.activation_date == date(2027, 2, 14)


def test_shipping_a_kit_to_an_installer_contract_is_refused(signup_request):
    signup_request.installation_mode = "installer"
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    with pytest.raises(DomainError):
        contract_kit_ship(contract=contract, on=date(2027, 1, 6), actor=SYSTEM)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ORDERED


def test_withdrawal_deadline_is_signup_plus_fourteen_days__C6(db):
    from raccord.contracts.selectors import withdrawal_deadline

    assert withdrawal_deadline(signup_date=date(2027, 1, 5)) == date(2027, 1, 19)


def test_activation_opens_one_billable_subscription_per_product__B2(contract):
    contract = contract_activate(
        contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM
    )
    subs = {
        (s.kind, s.product, str(s.monthly_price), s.start_date)
        for s in contract.subscriptions.all()
    }
    assert subs == {
        ("offer", "THD30", "29.90", date(2027, 1, 20)),
        ("option", "TEL", "5.00", date(2027, 1, 20)),
    }
    # activating again opens nothing more
    contract_activate(contract=contract, on=date(2027, 1, 21), source="radius", actor=SYSTEM)
    assert contract.subscriptions.count() == 2
