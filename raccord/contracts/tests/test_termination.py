"""Termination (C10-C13, B3, S2): the effective date, the fees it queues, and the quote that
previews exactly what the request queues."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from raccord.billing.models import Document, PendingItem
from raccord.billing.run import billing_run
from raccord.catalog.models import Offer, ZoneOffer
from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.termination import (
    EARLY_TERMINATION_LABEL,
    contract_termination_cancel,
    contract_termination_complete,
    contract_termination_request,
    early_termination_fee,
    termination_effective_date,
    termination_quote,
)
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event, Policy
from raccord.core.money import round_half_up
from raccord.equipment.models import EquipmentReturn, EquipmentUnit
from raccord.equipment.services import equipment_units_assign

CUSTOMER = Actor.customer(None)
S = Contract.Status


def _f(amount: str) -> Fraction:
    return Fraction(Decimal(amount))


@pytest.fixture
def radio24(catalogue) -> Offer:
    """A 24-month offer without subsidised equipment."""
    offer = Offer.objects.create(
        code="RADIO24",
        label="Radio 24 mois",
        technology="radio",
        download_mbps=30,
        upload_mbps=5,
        monthly_price=Decimal("29.90"),
        setup_fee=Decimal("49.00"),
        commitment_months=24,
    )
    ZoneOffer.objects.create(zone=catalogue.alsace, offer=offer)
    catalogue.tel.offers.add(offer)
    return offer


def _item(contract: Contract, kind: str) -> PendingItem:
    return PendingItem.objects.get(contract=contract, kind=kind, cancelled=False)


# --- C10 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested_date", "effective"),
    [
        (None, date(2027, 5, 20)),  # request + 10 days
        (date(2027, 6, 30), date(2027, 6, 30)),  # a later date asked for
        (date(2027, 5, 12), date(2027, 5, 12)),  # later than the request, even if < 10 days
        (date(2027, 5, 10), date(2027, 5, 20)),  # the request day itself is not later
        (date(2027, 5, 1), date(2027, 5, 20)),  # a past date
    ],
)
def test_effective_date_is_the_later_date_asked_or_request_plus_notice__C10(
    db, requested_date, effective
):
    assert (
        termination_effective_date(requested_on=date(2027, 5, 10), requested_date=requested_date)
        == effective
    )


def test_notice_follows_the_policy__C10(db):
    policy = Policy.get()
    policy.termination_notice_days = 30
    policy.save()
    assert termination_effective_date(requested_on=date(2027, 5, 10)) == date(2027, 6, 9)


def test_request_sets_status_dates_and_closes_subscriptions_on_E__C10_B3(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    # when
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 5, 10), reason="déménagement", actor=CUSTOMER
    )
    # then
    assert contract.status == S.TERMINATION_REQUESTED
    assert contract.termination_requested_on == date(2027, 5, 10)
    assert contract.termination_effective_date == date(2027, 5, 20)
    assert contract.termination_reason == "déménagement"
    assert {s.end_date for s in contract.subscriptions.all()} == {date(2027, 5, 20)}
    assert Event.objects.filter(verb="contract.termination_requested").count() == 1


# --- C11 worked examples ------------------------------------------------------------------


def test_loi_chatel_owes_a_quarter_of_the_remaining_months_13_to_24__C11(subscribe, radio24):
    # given: commitment started 2022-06-01 for 24 months (loi Chatel)
    contract = subscribe(signed=date(2022, 5, 20), activated=date(2022, 6, 1), offer_code="RADIO24")
    assert contract.commitment_end == date(2024, 5, 31)
    # when: terminated in month 15 (August 2023), E = 2023-08-15
    contract = contract_termination_request(
        contract=contract, requested_on=date(2023, 8, 5), actor=CUSTOMER
    )
    # then: 16 days of August and September 2023 - May 2024 at 25 %
    item = _item(contract, "early_termination")
    expected = round_half_up(_f("29.90") * Fraction(1, 4) * (Fraction(16, 31) + 9))
    assert item.amount == expected
    assert item.label == EARLY_TERMINATION_LABEL
    assert item.created_on == date(2023, 8, 15)
    assert item.data["regime"] == "chatel"
    segments = item.data["segments"]
    assert segments[0] == {
        "from": "2023-08-16",
        "to": "2023-08-31",
        "days": 16,
        "days_in_month": 31,
        "weight": "0.25",
    }
    assert segments[-1]["to"] == "2024-05-31"
    assert len(segments) == 10
    assert {s["weight"] for s in segments} == {"0.25"}


def test_loi_chatel_owes_in_full_what_remains_of_the_first_12_months__C11(subscribe, radio24):
    contract = subscribe(signed=date(2022, 5, 20), activated=date(2022, 6, 1), offer_code="RADIO24")
    contract = contract_termination_request(
        contract=contract, requested_on=date(2023, 3, 5), actor=CUSTOMER
    )  # E = 2023-03-15, month 10
    item = _item(contract, "early_termination")
    # 16/31 of March + April and May 2023 in full, then June 2023 - May 2024 at 25 %
    expected = round_half_up(_f("29.90") * (Fraction(16, 31) + 2 + Fraction(1, 4) * 12))
    assert item.amount == expected
    weights = [(s["from"], s["weight"]) for s in item.data["segments"]]
    assert weights[:4] == [
        ("2023-03-16", "1"),
        ("2023-04-01", "1"),
        ("2023-05-01", "1"),
        ("2023-06-01", "0.25"),
    ]


def test_2023_regime_owes_only_the_rest_of_the_first_12_months__C11(subscribe, radio24):
    # given: commitment 2027-01-20 → 2029-01-19; month 13 starts 2028-01-20
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20), offer_code="RADIO24")
    # when: E = 2027-05-20
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 5, 10), actor=CUSTOMER
    )
    # then: May 21-31, June-December 2027, 1-19 January 2028; nothing after month 12
    item = _item(contract, "early_termination")
    expected = round_half_up(_f("29.90") * (Fraction(11, 31) + 7 + Fraction(19, 31)))
    assert item.amount == expected
    assert item.data["regime"] == "2023"
    assert item.data["segments"][-1] == {
        "from": "2028-01-01",
        "to": "2028-01-19",
        "days": 19,
        "days_in_month": 31,
        "weight": "1",
    }


def test_2023_regime_after_month_12_owes_nothing__C11(subscribe, radio24):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20), offer_code="RADIO24")
    quote = termination_quote(contract=contract, on=date(2028, 3, 1))
    assert quote.in_commitment
    assert quote.early_termination_fee == Decimal("0.00")
    assert quote.early_termination_segments == ()


def test_subsidised_equipment_owes_20_percent_after_month_12__C11(subscribe, catalogue):
    # given: fibre, subsidised equipment, 24 months from 2027-01-20
    contract = subscribe(
        signed=date(2027, 1, 5), activated=date(2027, 1, 20), offer_code="FIBRE300"
    )
    # when: month 15, E = 2028-04-15
    contract = contract_termination_request(
        contract=contract, requested_on=date(2028, 4, 5), actor=CUSTOMER
    )
    # then: 15/30 of April, May-December 2028 and 19/31 of January 2029, at 20 %
    item = _item(contract, "early_termination")
    expected = round_half_up(
        _f("39.90") * Fraction(1, 5) * (Fraction(15, 30) + 8 + Fraction(19, 31))
    )
    assert item.amount == expected
    assert {s["weight"] for s in item.data["segments"]} == {"0.20"}


def test_fee_is_exact_then_rounded_once__C11_M2(db):
    # three segments whose separately rounded amounts would not add up to the exact total
    fee = early_termination_fee(
        monthly_price=Decimal("29.90"),
        commitment_start=date(2027, 1, 20),
        commitment_end=date(2028, 1, 19),
        effective_date=date(2027, 10, 30),
        subsidised_equipment=False,
    )
    exact = _f("29.90") * (Fraction(1, 31) + 2 + Fraction(19, 31))
    assert fee.amount == round_half_up(exact)
    assert len(fee.segments) == 4


def test_no_fee_once_the_commitment_is_over__C11(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    quote = termination_quote(contract=contract, on=date(2028, 1, 10))  # E = 2028-01-20
    assert not quote.in_commitment
    assert quote.early_termination_fee == Decimal("0.00")


def test_offer_without_commitment_has_no_fee__C11(subscribe, catalogue):
    Offer.objects.filter(pk=catalogue.thd30.pk).update(commitment_months=0)
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 2, 1), actor=CUSTOMER
    )
    assert not PendingItem.objects.filter(contract=contract).exists()


# --- C12, C13 -----------------------------------------------------------------------------


def test_catalogue_termination_fee_is_queued_on_E__C12(subscribe):
    contract = subscribe(
        signed=date(2027, 1, 5), activated=date(2027, 1, 20), offer_code="FIBRE300"
    )
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER
    )
    item = _item(contract, "termination_fee")
    assert item.amount == contract.termination_fee == Decimal("30.00")
    assert item.created_on == date(2027, 3, 11)
    assert item.data == {"effective_date": "2027-03-11"}


def test_no_termination_fee_when_the_catalogue_sets_none__C12(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER
    )
    assert not PendingItem.objects.filter(contract=contract, kind="termination_fee").exists()


def test_legitimate_reason_recorded_by_an_agent_with_proof_waives_the_fee__C13(subscribe, agent):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    without = termination_quote(contract=contract, on=date(2027, 3, 1))
    contract = contract_termination_request(
        contract=contract,
        requested_on=date(2027, 3, 1),
        legitimate_reason="surendettement",
        proof="décision de la commission du 12/02/2027",
        actor=agent,
    )
    assert not PendingItem.objects.filter(contract=contract, kind="early_termination").exists()
    assert contract.legitimate_reason == "surendettement"
    assert contract.legitimate_reason_proof.startswith("décision")
    quote = termination_quote(contract=contract, on=date(2027, 3, 1))
    assert quote.early_termination_fee == Decimal("0.00")
    assert quote.early_termination_waived == without.early_termination_fee > 0


@pytest.mark.parametrize(
    ("reason", "proof", "as_agent", "field"),
    [
        ("surendettement", "attestation", False, "legitimate_reason"),  # customer
        ("surendettement", "  ", True, "legitimate_reason_proof"),  # no proof
        ("changement d'avis", "lettre", True, "legitimate_reason"),  # not in the policy list
    ],
)
def test_legitimate_reason_needs_an_agent_a_proof_and_a_listed_reason__C13(
    subscribe, agent, reason, proof, as_agent, field
):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    with pytest.raises(DomainError) as error:
        contract_termination_request(
            contract=contract,
            requested_on=date(2027, 3, 1),
            legitimate_reason=reason,
            proof=proof,
            actor=agent if as_agent else CUSTOMER,
        )
    assert error.value.field == field
    contract.refresh_from_db()
    assert contract.status == S.ACTIVE
    assert not PendingItem.objects.exists()


# --- the quote, idempotency, cancellation, completion --------------------------------------


def test_quote_equals_what_the_request_queues__C11_C12_S2(subscribe, catalogue):
    # given: fibre (C11 at 1 then 0.20, C12 fee) with an antenna lent
    contract = subscribe(
        signed=date(2027, 1, 5), activated=date(2027, 1, 20), offer_code="FIBRE300"
    )
    equipment_units_assign(contract=contract, models=["ANT"], on=date(2027, 1, 12))
    quote = termination_quote(
        contract=contract, on=date(2027, 11, 3), requested_date=date(2027, 12, 31)
    )
    # when
    contract = contract_termination_request(
        contract=contract,
        requested_on=date(2027, 11, 3),
        requested_date=date(2027, 12, 31),
        actor=CUSTOMER,
    )
    # then: the same figures were queued, and the quote of the request is the same quote
    early = _item(contract, "early_termination")
    fee = _item(contract, "termination_fee")
    assert early.amount == quote.early_termination_fee > 0
    assert early.data == quote.early_termination_data()
    assert {s["weight"] for s in early.data["segments"]} == {"1", "0.20"}
    assert fee.amount == quote.termination_fee
    assert early.amount + fee.amount == quote.total
    assert early.created_on == fee.created_on == quote.effective_date == date(2027, 12, 31)
    returned = EquipmentReturn.objects.get(contract=contract)
    assert returned.deadline == quote.equipment_return_deadline == date(2028, 1, 30)
    assert [e.serial for e in quote.equipment] == [returned.unit.serial]
    after = termination_quote(contract=contract, on=date(2027, 11, 20))
    assert (after.effective_date, after.total, after.early_termination_segments) == (
        quote.effective_date,
        quote.total,
        quote.early_termination_segments,
    )
    assert after.equipment[0].reference == returned.reference


def test_quote_changes_nothing(subscribe, django_assert_max_num_queries):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    events = Event.objects.count()
    with django_assert_max_num_queries(4):
        termination_quote(contract=contract, on=date(2027, 3, 1))
    contract.refresh_from_db()
    assert contract.status == S.ACTIVE
    assert Event.objects.count() == events
    assert not PendingItem.objects.exists()


def test_quote_of_a_contract_not_yet_active_points_to_free_cancellation__C6(subscribe):
    contract = subscribe(signed=date(2027, 1, 5))
    with pytest.raises(DomainError, match="annulation est gratuite"):
        termination_quote(contract=contract, on=date(2027, 1, 10))


def test_a_second_request_returns_the_first(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    first = contract_termination_request(
        contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER
    )
    second = contract_termination_request(
        contract=contract,
        requested_on=date(2027, 3, 5),
        requested_date=date(2027, 6, 30),
        actor=CUSTOMER,
    )
    assert second.termination_effective_date == first.termination_effective_date
    assert PendingItem.objects.filter(contract=contract).count() == 1
    assert Event.objects.filter(verb="contract.termination_requested").count() == 1


def test_an_agent_cancels_the_request_before_E_and_it_can_be_made_again(
    subscribe, agent, catalogue
):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    equipment_units_assign(contract=contract, models=["ANT"], on=date(2027, 1, 12))
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER
    )
    with pytest.raises(DomainError):  # a customer cannot cancel it
        contract_termination_cancel(contract=contract, on=date(2027, 3, 2), actor=CUSTOMER)
    # when
    contract = contract_termination_cancel(contract=contract, on=date(2027, 3, 2), actor=agent)
    # then
    assert contract.status == S.ACTIVE
    assert contract.termination_effective_date is None
    assert {s.end_date for s in contract.subscriptions.all()} == {None}
    assert PendingItem.objects.get(contract=contract).cancelled
    assert EquipmentReturn.objects.get(contract=contract).outcome == "cancelled"
    assert EquipmentUnit.objects.get(contract=contract).status == "installed"
    # and a new request queues a new fee
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 4, 1), actor=CUSTOMER
    )
    assert _item(contract, "early_termination").created_on == date(2027, 4, 11)


def test_a_termination_cannot_be_cancelled_once_effective(subscribe, agent):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER
    )
    with pytest.raises(DomainError, match="11/03/2027"):
        contract_termination_cancel(contract=contract, on=date(2027, 3, 11), actor=agent)


def test_completion_waits_for_E__C10(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER
    )
    early = contract_termination_complete(contract=contract, on=date(2027, 3, 10), actor=CUSTOMER)
    assert early.status == S.TERMINATION_REQUESTED
    done = contract_termination_complete(contract=contract, on=date(2027, 3, 11), actor=CUSTOMER)
    assert done.status == S.TERMINATED
    # the quote of a terminated contract is still the one of its request
    assert termination_quote(contract=done, on=date(2027, 6, 1)).effective_date == date(2027, 3, 11)


def test_without_notice_the_termination_is_effective_at_once__C10(subscribe):
    policy = Policy.get()
    policy.termination_notice_days = 0
    policy.save()
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract = contract_termination_request(
        contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER
    )
    assert contract.status == S.TERMINATED
    assert contract.termination_effective_date == date(2027, 3, 1)


def test_the_next_run_bills_the_fee_and_credits_the_days_after_E__B3_C11(subscribe):
    # given: billed through March, termination effective 2027-03-20
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    for month in (date(2027, 2, 1), date(2027, 3, 1)):
        billing_run(month=month, at=paris(month.year, month.month, 2, 6), render_pdfs=False)
    quote = termination_quote(contract=contract, on=date(2027, 3, 10))
    contract_termination_request(contract=contract, requested_on=date(2027, 3, 10), actor=CUSTOMER)
    # when
    billing_run(month=date(2027, 4, 1), at=paris(2027, 4, 2, 6), render_pdfs=False)
    # then
    april = Document.objects.get(issue_date=date(2027, 4, 2))
    lines = {(line.kind, line.product): line for line in april.lines.all()}
    assert lines[("early_termination", "THD30")].amount == quote.early_termination_fee
    credit = lines[("subscription_credit", "THD30")]
    assert (credit.period_start, credit.period_end) == (date(2027, 3, 21), date(2027, 3, 31))
    assert ("subscription", "THD30") not in lines
    assert quote.effective_date + timedelta(days=1) == credit.period_start
