"""The withdrawal right (C6)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from raccord.billing.models import Document, PendingItem
from raccord.billing.run import billing_run
from raccord.billing.services import pending_item_add
from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.withdrawal import contract_withdraw
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event

CUSTOMER = Actor.customer(None)
S = Contract.Status


def test_withdrawal_after_the_deadline_is_refused_with_the_deadline__C6(subscribe):
    contract = subscribe(signed=date(2027, 1, 5))
    with pytest.raises(DomainError) as error:
        contract_withdraw(contract=contract, on=date(2027, 1, 20), actor=CUSTOMER)
    assert "19/01/2027" in error.value.message
    contract.refresh_from_db()
    assert contract.status == S.ORDERED


def test_withdrawal_on_the_deadline_day_is_accepted__C6(subscribe):
    contract = subscribe(signed=date(2027, 1, 5))
    contract = contract_withdraw(contract=contract, on=date(2027, 1, 19), actor=CUSTOMER)
    assert contract.status == S.WITHDRAWN
    assert contract.withdrawn_on == date(2027, 1, 19)


def test_withdrawal_before_activation_costs_nothing__C6(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), received=date(2027, 1, 9))
    waiting = pending_item_add(
        contract=contract,
        kind="calls",
        label="Appels",
        amount=Decimal("2.00"),
        vat_rate=Decimal("0.20"),
        created_on=date(2027, 1, 9),
    )
    contract = contract_withdraw(contract=contract, on=date(2027, 1, 10), actor=CUSTOMER)
    assert contract.status == S.WITHDRAWN
    assert PendingItem.objects.get(pk=waiting.pk).cancelled
    assert not contract.subscriptions.exists()


def test_after_activation_with_express_start_the_days_used_are_owed__C6(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 10), express_start=True)
    contract = contract_withdraw(contract=contract, on=date(2027, 1, 15), actor=CUSTOMER)
    assert contract.status == S.WITHDRAWN
    assert {(s.start_date, s.end_date) for s in contract.subscriptions.all()} == {
        (date(2027, 1, 10), date(2027, 1, 15))
    }
    assert (contract.commitment_start, contract.commitment_end) == (None, None)
    # the set-up fee was never billed: nothing to refund
    assert not PendingItem.objects.filter(contract=contract).exists()


def test_after_activation_without_express_start_nothing_is_owed__C6(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 10), express_start=False)
    contract = contract_withdraw(contract=contract, on=date(2027, 1, 15), actor=CUSTOMER)
    for sub in contract.subscriptions.all():
        assert sub.end_date == sub.start_date - timedelta(days=1)


def test_a_billed_setup_fee_is_refunded_and_days_after_withdrawal_credited__C6_B3(subscribe):
    # given: signed 25 January, active 28 January, first invoice 2 February (set-up fee 49)
    contract = subscribe(signed=date(2027, 1, 25), activated=date(2027, 1, 28), express_start=True)
    billing_run(month=date(2027, 2, 1), at=paris(2027, 2, 2, 6), render_pdfs=False)
    contract.refresh_from_db()
    assert contract.setup_fee_billed
    # when: withdrawal on 5 February (deadline 8 February)
    contract = contract_withdraw(contract=contract, on=date(2027, 2, 5), actor=CUSTOMER)
    # then: the set-up fee billed comes back as a withdrawal item
    item = PendingItem.objects.get(contract=contract, kind="withdrawal")
    assert item.amount == -contract.setup_fee_due
    assert item.created_on == date(2027, 2, 5)
    assert item.data == {
        "withdrawal_date": "2027-02-05",
        "express_start": True,
        "setup_fee_refunded": str(contract.setup_fee_due),
    }
    # and the next run credits it with the days of February after the 5th
    billing_run(month=date(2027, 3, 1), at=paris(2027, 3, 2, 6), render_pdfs=False)
    march = Document.objects.get(issue_date=date(2027, 3, 2))
    assert march.kind == Document.Kind.CREDIT_NOTE
    kinds = {(line.kind, line.product, line.period_start) for line in march.lines.all()}
    assert ("withdrawal", "THD30", None) in kinds
    assert ("subscription_credit", "THD30", date(2027, 2, 6)) in kinds
    assert ("subscription", "THD30", date(2027, 3, 1)) not in kinds


def test_withdrawal_is_idempotent__C6(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 10))
    contract_withdraw(contract=contract, on=date(2027, 1, 12), actor=CUSTOMER)
    again = contract_withdraw(contract=contract, on=date(2027, 1, 14), actor=CUSTOMER)
    assert again.withdrawn_on == date(2027, 1, 12)
    assert Event.objects.filter(verb="contract.withdrawn").count() == 1
