"""Data for the direct-debit, returns and dunning tests (no tests here).

Two kinds of subscribers: ``sepa_invoices`` writes customers, mandates and invoices directly (as
the monthly run leaves them: SEPA method, due date), fast enough for dozens; ``subscriber``
goes through the real sign-up and activation, for what needs contracts (fees, suspension)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.db import transaction

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import Document, LineKind
from raccord.conftest import VALID_IBAN, paris
from raccord.contracts.models import Contract
from raccord.contracts.services import contract_activate, contract_equipment_receive
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.core.models import OperatorProfile
from raccord.customers.models import Customer
from raccord.payments.debits import debit_file_create
from raccord.payments.models import DebitBatch, Mandate

SYSTEM = Actor.system()
CREDITOR_IBAN = "FR7610278060610001020480101"
CREDITOR_BIC = "CMCIFR2A"
ICS = "FR12ZZZ123456"
_numbers = count(1)


@pytest.fixture
def creditor(db: None, settings: Any, media: Any) -> OperatorProfile:
    """The operator as the debit file names it (ICS, name, account), files stored in a
    directory of the test's own."""
    settings.RACCORD_SEPA_CREDITOR_IBAN = CREDITOR_IBAN
    settings.RACCORD_SEPA_CREDITOR_BIC = CREDITOR_BIC
    profile = OperatorProfile.get()
    profile.legal_name = "Vallées Connectées SAS"
    profile.trade_name = "Vallées Connectées"
    profile.sepa_creditor_id = ICS
    profile.billing_address = "Vallées Connectées – Facturation, 4 rue du Relais, 67600 Sélestat"
    profile.customer_service_phone = "09 70 00 00 00"
    profile.save()
    return profile


@dataclass
class Invoiced:
    customer: Customer
    mandate: Mandate
    document: Document


def sepa_invoices(
    n: int,
    *,
    debit_date: date,
    issue_date: date | None = None,
    amount: Decimal = Decimal("34.90"),
    name: str = "Camille Martin",
    bic: str = "AGRIFRPP",
) -> list[Invoiced]:
    """``n`` customers, each with an active mandate and one SEPA invoice due ``debit_date``."""
    issue_date = issue_date or debit_date.replace(day=2)
    made = []
    for _ in range(n):
        k = next(_numbers)
        customer = Customer.objects.create(
            reference=f"C{k:07d}",
            first_name=name.split()[0],
            last_name=name.split()[-1],
            email=f"client{k}@example.org",
            phone="0612345678",
            created_at=paris(2026, 1, 5),
        )
        mandate = Mandate.objects.create(
            reference=f"RUM-C{k:07d}-{k:06d}",
            customer=customer,
            debtor_name=name,
            iban=VALID_IBAN,
            bic=bic,
            signature_date=date(2026, 1, 5),
            signed_at=paris(2026, 1, 5),
            signature_method=Mandate.SignatureMethod.ONLINE,
        )
        document = Document.objects.create(
            kind=Document.Kind.INVOICE,
            number=f"F2027-{k:06d}",
            issue_date=issue_date,
            customer=customer,
            total=amount,
            payment={"method": "sepa", "debit_date": debit_date.isoformat()},
            payment_method="sepa",
            due_date=debit_date,
        )
        made.append(Invoiced(customer, mandate, document))
    return made


def subscriber(signup_request: SignupRequest, *, on: date, email: str) -> Contract:
    """A real SEPA subscriber: signed up on the 1st of ``on``'s month, activated on ``on``."""
    signup_request.email = email
    signup_request.signup_key = None
    signed = on.replace(day=1)
    contract = signup_create(
        request=signup_request,
        actor=Actor.customer(None),
        at=paris(signed.year, signed.month, signed.day),
    )
    contract = contract_equipment_receive(contract=contract, on=signed, actor=SYSTEM)
    return contract_activate(contract=contract, on=on, source="radius", actor=SYSTEM)


def invoice(contract: Contract, *, issue_date: date, amount: Decimal) -> Document:
    """An invoice issued by the billing code (its payment method and due date, P1/P3)."""
    line = DraftLine(
        contract_id=contract.pk,
        kind=LineKind.SUBSCRIPTION,
        product="THD30",
        label="THD Radio 30",
        period_start=issue_date.replace(day=1),
        period_end=issue_date.replace(day=28),
        amount=amount,
        vat_rate=Decimal("0.20"),
        data={},
    )
    with transaction.atomic():
        return document_issue(
            customer_id=contract.customer_id, issue_date=issue_date, lines=[line], run=None
        )


def debit_file(day: date, when: datetime) -> DebitBatch:
    """The debit file of ``day`` created at ``when`` (there must be something to debit)."""
    result = debit_file_create(debit_date=day, at=when, actor=SYSTEM)
    assert result.batch is not None
    return result.batch


def at(day: date, hour: int = 10) -> datetime:
    return paris(day.year, day.month, day.day, hour)
