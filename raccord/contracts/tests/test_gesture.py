"""Commercial gesture after an outage (S1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from raccord.conftest import paris
from raccord.contracts.gesture import gesture_grant
from raccord.contracts.offer_change import contract_offer_change
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event
from raccord.core.money import round_half_up

CUSTOMER = Actor.customer(None)


@pytest.fixture
def contract(subscribe):
    # THD30 29.90 + TEL 5.00
    return subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))


def test_an_outage_of_exactly_48_hours_gets_nothing__S1(contract):
    with pytest.raises(DomainError) as error:
        gesture_grant(
            contract=contract,
            outage_start=paris(2027, 6, 1, 8),
            outage_end=paris(2027, 6, 3, 8),
            requested_on=date(2027, 6, 10),
            actor=CUSTOMER,
        )
    assert "plus de 48 heures" in error.value.message
    assert "48 heures" in error.value.message.split(";")[1]
    assert not contract.pending_items.exists()


def test_an_outage_of_49_hours_counts_three_days__S1(contract):
    item = gesture_grant(
        contract=contract,
        outage_start=paris(2027, 6, 1, 8),
        outage_end=paris(2027, 6, 3, 9),
        requested_on=date(2027, 6, 10),
        actor=CUSTOMER,
    )
    # (29.90 + 5.00) × ceil(49 / 24) / 30 days of June = 3.49
    assert item.amount == -round_half_up(Fraction(Decimal("34.90")) * 3 / 30)
    assert item.amount == Decimal("-3.49")
    assert item.kind == "gesture"
    assert item.created_on == date(2027, 6, 10)
    assert item.data["hours"] == "49"
    assert item.data["days_counted"] == 3
    assert item.data["days_in_month"] == 30
    assert item.data["monthly_total"] == "34.90"


def test_the_month_where_the_outage_started_gives_the_days__S1(contract):
    item = gesture_grant(
        contract=contract,
        outage_start=paris(2027, 2, 27, 20),
        outage_end=paris(2027, 3, 2, 7),  # 59 h → 3 days, February has 28 days
        requested_on=date(2027, 3, 2),
        actor=CUSTOMER,
    )
    assert item.amount == -round_half_up(Fraction(Decimal("34.90")) * 3 / 28)
    assert item.data["days_in_month"] == 28


def test_the_prices_in_force_at_the_outage_start_apply__S1(contract):
    contract_offer_change(
        contract=contract,
        offer_code="FIBRE300",
        effective_date=date(2027, 5, 10),
        actor=CUSTOMER,
        on=date(2027, 5, 1),
    )
    before = gesture_grant(
        contract=contract,
        outage_start=paris(2027, 5, 5, 0),
        outage_end=paris(2027, 5, 7, 12),
        requested_on=date(2027, 5, 20),
        actor=CUSTOMER,
    )
    after = gesture_grant(
        contract=contract,
        outage_start=paris(2027, 5, 15, 0),
        outage_end=paris(2027, 5, 17, 12),
        requested_on=date(2027, 5, 20),
        actor=CUSTOMER,
    )
    assert before.data["monthly_total"] == "34.90"
    assert after.data["monthly_total"] == "44.90"


def test_once_per_outage__S1(contract):
    first = gesture_grant(
        contract=contract,
        outage_start=paris(2027, 6, 1, 8),
        outage_end=paris(2027, 6, 4, 9),
        requested_on=date(2027, 6, 10),
        actor=CUSTOMER,
    )
    again = gesture_grant(
        contract=contract,
        outage_start=paris(2027, 6, 1, 8),
        outage_end=paris(2027, 6, 4, 9),
        requested_on=date(2027, 6, 11),
        actor=CUSTOMER,
    )
    overlapping = gesture_grant(
        contract=contract,
        outage_start=paris(2027, 6, 2, 0),
        outage_end=paris(2027, 6, 5, 0),
        requested_on=date(2027, 6, 12),
        actor=CUSTOMER,
    )
    assert again.pk == first.pk == overlapping.pk
    assert contract.pending_items.count() == 1
    assert Event.objects.filter(verb="contract.gesture_granted").count() == 1


def test_the_outage_must_have_ended_before_the_request__S1(contract):
    with pytest.raises(DomainError, match="terminée"):
        gesture_grant(
            contract=contract,
            outage_start=paris(2027, 6, 1, 8),
            outage_end=paris(2027, 6, 4, 9),
            requested_on=date(2027, 6, 3),
            actor=CUSTOMER,
        )


def test_an_outage_before_activation_gets_nothing__S1(contract):
    with pytest.raises(DomainError) as error:
        gesture_grant(
            contract=contract,
            outage_start=paris(2027, 1, 10, 8),
            outage_end=paris(2027, 1, 14, 9),
            requested_on=date(2027, 1, 25),
            actor=CUSTOMER,
        )
    assert error.value.field == "outage_start"


def test_outage_hours_are_real_elapsed_hours_across_a_clock_change__S1():
    from datetime import datetime
    from fractions import Fraction
    from zoneinfo import ZoneInfo

    from raccord.contracts.gesture import outage_hours

    paris = ZoneInfo("Europe/Paris")
    # clocks go back on 31 October 2027: the wall clock shows 47.5 h, 48.5 h really passed
    autumn = outage_hours(
        start=datetime(2027, 10, 30, 12, 0, tzinfo=paris),
        end=datetime(2027, 11, 1, 11, 30, tzinfo=paris),
    )
    assert autumn == Fraction(97, 2)
    # and forward on 28 March 2027: one hour less than the wall clock
    spring = outage_hours(
        start=datetime(2027, 3, 27, 12, 0, tzinfo=paris),
        end=datetime(2027, 3, 29, 12, 30, tzinfo=paris),
    )
    assert spring == Fraction(95, 2)
