"""Offer change (C9, B4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from raccord.billing.models import Document, PendingItem
from raccord.billing.run import billing_run
from raccord.catalog.models import Offer, ZoneOffer
from raccord.conftest import paris
from raccord.contracts.daily import daily_run
from raccord.contracts.models import Contract
from raccord.contracts.offer_change import contract_offer_change
from raccord.contracts.termination import termination_quote
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event

CUSTOMER = Actor.customer(None)
D = date(2027, 5, 10)


def _subs(contract: Contract) -> set[tuple[str, str, str, date, date | None]]:
    return {
        (s.kind, s.product, str(s.monthly_price), s.start_date, s.end_date)
        for s in contract.subscriptions.all()
    }


def test_change_splits_the_offer_subscription_and_keeps_the_options__C9_B4(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    # when
    contract = contract_offer_change(
        contract=contract,
        offer_code="FIBRE300",
        effective_date=D,
        actor=CUSTOMER,
        on=date(2027, 5, 2),
    )
    # then
    assert _subs(contract) == {
        ("offer", "THD30", "29.90", date(2027, 1, 20), date(2027, 5, 9)),
        ("offer", "FIBRE300", "39.90", D, None),
        ("option", "TEL", "5.00", date(2027, 1, 20), None),
    }
    # until D the offer in force is still the old one; the daily job of D switches it
    assert contract.offer.code == "THD30" and contract.commitment_end == date(2028, 1, 19)
    daily_run(on=D - timedelta(days=1))
    contract.refresh_from_db()
    assert contract.offer.code == "THD30"
    daily_run(on=D)
    daily_run(on=D)  # idempotent
    contract.refresh_from_db()
    assert Event.objects.filter(verb="contract.offer_switched", subject_id=contract.pk).count() == 1
    assert contract.offer.code == "FIBRE300"
    assert (contract.offer_label, contract.monthly_price) == ("Fibre 300", Decimal("39.90"))
    assert (contract.download_mbps, contract.upload_mbps) == (300, 100)
    assert contract.subsidised_equipment is True
    assert contract.termination_fee == Decimal("30.00")
    assert contract.commitment_months == 24


def test_commitment_restarts_at_D_with_the_new_duration__C9_C7(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract = contract_offer_change(
        contract=contract, offer_code="FIBRE300", effective_date=D, actor=CUSTOMER, on=D
    )
    assert (contract.commitment_start, contract.commitment_end) == (D, date(2029, 5, 9))


def test_the_regime_is_the_one_in_force_at_D__C9_C11(subscribe, catalogue):
    # given: a loi Chatel commitment (2022), changed in 2023
    contract = subscribe(signed=date(2022, 5, 20), activated=date(2022, 6, 1))
    assert termination_quote(contract=contract, on=date(2022, 9, 1)).regime == "chatel"
    contract = contract_offer_change(
        contract=contract,
        offer_code="FIBRE300",
        effective_date=date(2023, 3, 1),
        actor=CUSTOMER,
        on=date(2023, 2, 20),
    )
    # before D the commitment in force is still the 2022 one
    assert termination_quote(contract=contract, on=date(2023, 2, 25)).regime == "chatel"
    daily_run(on=date(2023, 3, 1))
    contract.refresh_from_db()
    assert termination_quote(contract=contract, on=date(2023, 4, 1)).regime == "2023"


def test_the_zone_price_of_the_new_offer_applies__C9_C1(subscribe, catalogue):
    thd50 = Offer.objects.create(
        code="THD50",
        label="THD Radio 50",
        technology="radio",
        download_mbps=50,
        upload_mbps=10,
        monthly_price=Decimal("34.90"),
        commitment_months=12,
    )
    catalogue.tel.offers.add(thd50)
    ZoneOffer.objects.create(
        zone=catalogue.vosges_commune, offer=thd50, monthly_price=Decimal("27.90")
    )
    contract = subscribe(
        signed=date(2027, 1, 5),
        activated=date(2027, 1, 20),
        address_id=catalogue.address_subsidised.pk,
    )
    contract = contract_offer_change(
        contract=contract, offer_code="THD50", effective_date=D, actor=CUSTOMER, on=D
    )
    assert contract.monthly_price == Decimal("27.90")
    assert ("offer", "THD50", "27.90", D, None) in _subs(contract)


def test_an_offer_not_sold_at_the_address_is_refused__C9_C1(subscribe, catalogue):
    contract = subscribe(
        signed=date(2027, 1, 5),
        activated=date(2027, 1, 20),
        address_id=catalogue.address_subsidised.pk,
    )
    with pytest.raises(DomainError) as error:
        contract_offer_change(
            contract=contract, offer_code="FIBRE300", effective_date=D, actor=CUSTOMER, on=D
        )
    assert error.value.field == "offer_code"
    assert contract.subscriptions.count() == 2


def test_the_catalogue_change_fee_is_queued_on_D__C9(subscribe, catalogue):
    Offer.objects.filter(pk=catalogue.fibre.pk).update(change_fee=Decimal("15.00"))
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract = contract_offer_change(
        contract=contract,
        offer_code="FIBRE300",
        effective_date=D,
        actor=CUSTOMER,
        on=date(2027, 5, 2),
    )
    item = PendingItem.objects.get(contract=contract, kind="change_fee")
    assert item.amount == Decimal("15.00")
    assert item.created_on == D
    assert item.data == {
        "from_offer": "THD30",
        "to_offer": "FIBRE300",
        "effective_date": "2027-05-10",
    }


def test_no_fee_without_a_catalogue_change_fee__C9(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract_offer_change(
        contract=contract, offer_code="FIBRE300", effective_date=D, actor=CUSTOMER, on=D
    )
    assert not PendingItem.objects.exists()


def test_only_an_active_contract_changes_offer__C9(subscribe):
    contract = subscribe(signed=date(2027, 1, 5))
    with pytest.raises(DomainError, match="en service"):
        contract_offer_change(
            contract=contract, offer_code="FIBRE300", effective_date=D, actor=CUSTOMER, on=D
        )


def test_a_backdated_change_is_refused__C9(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    with pytest.raises(DomainError) as error:
        contract_offer_change(
            contract=contract,
            offer_code="FIBRE300",
            effective_date=D,
            actor=CUSTOMER,
            on=date(2027, 5, 11),
        )
    assert error.value.field == "effective_date"


def test_the_same_change_twice_changes_nothing_more__C9(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    for _ in range(2):
        contract_offer_change(
            contract=contract, offer_code="FIBRE300", effective_date=D, actor=CUSTOMER, on=D
        )
    assert contract.subscriptions.count() == 3
    assert Event.objects.filter(verb="contract.offer_changed").count() == 1


def test_the_run_credits_the_old_offer_from_D_and_charges_the_new_one__B4(subscribe):
    # given: billed through May
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    for month in range(2, 6):
        billing_run(month=date(2027, month, 1), at=paris(2027, month, 2, 6), render_pdfs=False)
    contract_offer_change(
        contract=contract, offer_code="FIBRE300", effective_date=D, actor=CUSTOMER, on=D
    )
    # when
    billing_run(month=date(2027, 6, 1), at=paris(2027, 6, 2, 6), render_pdfs=False)
    # then
    june = Document.objects.get(issue_date=date(2027, 6, 2))
    lines = {
        (line.kind, line.product, line.period_start, line.period_end) for line in june.lines.all()
    }
    assert ("subscription_credit", "THD30", D, date(2027, 5, 31)) in lines
    assert ("subscription", "FIBRE300", D, date(2027, 5, 31)) in lines
    assert ("subscription", "FIBRE300", date(2027, 6, 1), date(2027, 6, 30)) in lines
    assert ("subscription", "TEL", date(2027, 6, 1), date(2027, 6, 30)) in lines
    assert not any(kind == "setup_fee" for kind, *_ in lines)
