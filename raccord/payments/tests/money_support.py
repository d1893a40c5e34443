"""Fixtures and helpers of the money tests (ledger, mandates, refunds, FEC, portal, back-office).

Not a conftest (the payments tests are shared between two pieces of work): test modules import
what they use, e.g. ``from raccord.payments.tests.money_support import *  # noqa: F403``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import Document, LineKind
from raccord.billing.tests.factories import monthly_invoice
from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.customers.models import Customer
from raccord.payments.models import Debit, DebitBatch, Mandate

# Valid French IBANs (RIB key included), other than the sign-up's VALID_IBAN.
IBAN_BNP = "FR7630004000010001234567830"
IBAN_BRED = "FR7610107001019876543210016"
# Correct IBAN check digits, wrong French RIB key: only the RIB key check refuses it.
IBAN_BAD_RIB_KEY = "FR4930004000010001234567831"
PASSWORD = "Vert-Sapin-2027!"

__all__ = [
    "IBAN_BAD_RIB_KEY",
    "IBAN_BNP",
    "IBAN_BRED",
    "PASSWORD",
    "credit_note",
    "debit_make",
    "invoice",
    "make_contract",
    "money_agent",
    "system",
]


def system() -> Actor:
    return Actor.system("test")


@pytest.fixture
def make_contract(signup_request: SignupRequest) -> Callable[..., Contract]:
    """``make_contract(payment="sepa"|"cheque", first_name=…)``: a contract signed on
    2027-01-05 by the real sign-up service, for a new customer with a Mon Compte password."""
    counter = {"n": 0}

    def make(payment: str = "sepa", **overrides: Any) -> Contract:
        counter["n"] += 1
        n = counter["n"]
        values: dict[str, Any] = {
            "email": f"client{n}@example.org",
            "signup_key": None,
            "payment_method": payment,
            "iban": signup_request.iban if payment == "sepa" else "",
            "account_holder": signup_request.account_holder if payment == "sepa" else "",
        }
        request = dataclasses.replace(signup_request, **(values | overrides))
        contract = signup_create(request=request, actor=Actor.customer(None), at=paris(2027, 1, 5))
        user = contract.customer.user
        assert user is not None
        user.set_password(PASSWORD)
        user.save()
        return contract

    return make


@pytest.fixture
def money_agent(db: None) -> User:
    from raccord.backoffice.services import agent_create

    return agent_create(
        email="compta@raccord.test", role="billing", password="gestion-Raccord-2027"
    )


def invoice(contract: Contract, month: int) -> Document:
    """A full month of 2027 (34,90 € with the phone option), issued on the 2nd (B1)."""
    return monthly_invoice(contract, month)


def credit_note(
    customer: Customer, amount: str, *, on: date, corrects: Document | None = None
) -> Document:
    """A credit note of ``-amount`` (a gesture), as the run issues it (B6)."""
    contract = Contract.objects.filter(customer=customer).first()
    line = DraftLine(
        contract_id=contract.pk if contract else None,
        kind=LineKind.GESTURE,
        product="",
        label="Geste commercial",
        period_start=None,
        period_end=None,
        amount=-Decimal(amount),
        vat_rate=Decimal("0.20"),
        data={},
    )
    with transaction.atomic():
        return document_issue(
            customer_id=customer.pk,
            issue_date=on,
            lines=[line],
            run=None,
            corrects=corrects,
            force_kind=Document.Kind.CREDIT_NOTE,
        )


def debit_make(
    document: Document, *, status: str = Debit.Status.COLLECTING, reason: str = ""
) -> Debit:
    """A debit of ``document`` in a batch of its due date (what the debit file records, P2)."""
    debit_date = document.due_date or document.issue_date
    rank = DebitBatch.objects.filter(debit_date=debit_date).count() + 1
    batch = DebitBatch.objects.create(
        debit_date=debit_date,
        rank=rank,
        message_id=f"TEST-{debit_date:%Y%m%d}-{rank}",
        version="001.02",
        created_on=debit_date,
    )
    mandate = Mandate.objects.filter(customer_id=document.customer_id).order_by("id").first()
    assert mandate is not None
    return Debit.objects.create(
        batch=batch,
        document=document,
        customer_id=document.customer_id,
        mandate=mandate,
        sequence_type=Debit.SequenceType.RCUR,
        amount=document.total,
        end_to_end_id=document.number,
        status=status,
        returned_on=debit_date if status == Debit.Status.RETURNED else None,
        return_reason=reason,
    )
