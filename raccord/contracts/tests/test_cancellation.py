"""Before activation: cancellation is free (C6) and ineligibility cancels everything (C5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import Document, PendingItem
from raccord.billing.services import pending_item_add
from raccord.contracts.models import Contract
from raccord.contracts.services import contract_cancel, contract_ineligible_declare
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event

SYSTEM = Actor.system()
S = Contract.Status


def _invoice(contract: Contract, amount: str) -> Document:
    return document_issue(
        customer_id=contract.customer_id,
        issue_date=date(2027, 1, 10),
        lines=[
            DraftLine(
                contract_id=contract.pk,
                kind="setup_fee",
                product=contract.offer.code,
                label="Frais de mise en service",
                period_start=None,
                period_end=None,
                amount=Decimal(amount),
                vat_rate=contract.vat_rate,
            )
        ],
        run=None,
    )


def test_ineligible_before_activation_cancels_and_credits_every_document__C5(subscribe):
    # given: an invoice already issued for the contract, and an item still waiting
    contract = subscribe(signed=date(2027, 1, 5), installation_mode="installer")
    invoice = _invoice(contract, "49.00")
    waiting = pending_item_add(
        contract=contract,
        kind="calls",
        label="Appels",
        amount=Decimal("3.20"),
        vat_rate=Decimal("0.20"),
        created_on=date(2027, 1, 12),
    )
    # when: the installer finds the premises cannot be served
    contract = contract_ineligible_declare(
        contract=contract, on=date(2027, 1, 15), source="installer", actor=SYSTEM, note="masque"
    )
    # then
    assert contract.status == S.CANCELLED
    assert contract.cancelled_on == date(2027, 1, 15)
    assert "installateur" in contract.cancel_reason
    credit = Document.objects.get(kind=Document.Kind.CREDIT_NOTE)
    assert credit.corrects == invoice
    assert credit.total == -invoice.total
    assert credit.issue_date == date(2027, 1, 15)
    waiting.refresh_from_db()
    assert waiting.cancelled
    event = Event.objects.get(verb="contract.ineligible")
    assert event.data["credit_notes"] == [credit.number]


def test_ineligibility_is_idempotent__C5(subscribe):
    contract = subscribe(signed=date(2027, 1, 5))
    _invoice(contract, "49.00")
    for _ in range(2):
        contract_ineligible_declare(
            contract=contract, on=date(2027, 1, 15), source="study", actor=SYSTEM
        )
    assert Document.objects.filter(kind=Document.Kind.CREDIT_NOTE).count() == 1
    assert Event.objects.filter(verb="contract.ineligible").count() == 1


def test_ineligibility_after_activation_is_refused__C5(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    with pytest.raises(DomainError):
        contract_ineligible_declare(
            contract=contract, on=date(2027, 1, 25), source="study", actor=SYSTEM
        )
    contract.refresh_from_db()
    assert contract.status == S.ACTIVE


def test_ineligibility_needs_a_known_source__C5(subscribe):
    contract = subscribe(signed=date(2027, 1, 5))
    with pytest.raises(DomainError) as error:
        contract_ineligible_declare(
            contract=contract, on=date(2027, 1, 15), source="voisin", actor=SYSTEM
        )
    assert error.value.field == "source"


@pytest.mark.parametrize("received", [None, date(2027, 1, 12)])
def test_cancellation_before_activation_is_free__C6(subscribe, received):
    contract = subscribe(signed=date(2027, 1, 5), received=received)
    waiting = pending_item_add(
        contract=contract,
        kind="calls",
        label="Appels",
        amount=Decimal("1.00"),
        vat_rate=Decimal("0.20"),
        created_on=date(2027, 1, 12),
    )
    contract = contract_cancel(
        contract=contract, on=date(2027, 1, 16), actor=SYSTEM, reason="changement d'avis"
    )
    assert contract.status == S.CANCELLED
    assert contract.cancel_reason == "changement d'avis"
    assert PendingItem.objects.get(pk=waiting.pk).cancelled
    assert not PendingItem.objects.filter(cancelled=False).exists()


def test_cancellation_after_activation_is_refused__C6(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    with pytest.raises(DomainError, match="résiliation"):
        contract_cancel(contract=contract, on=date(2027, 1, 25), actor=SYSTEM)
