"""Billing reads: a customer's documents newest first, scoped to the customer, lines per section."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import Document, LineKind, Section
from raccord.billing.selectors import (
    customer_document_get,
    customer_documents,
    document_lines_by_section,
)
from raccord.conftest import Catalogue, paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor

pytestmark = pytest.mark.django_db
VAT = Decimal("0.20")


@pytest.fixture
def contract(signup_request: SignupRequest) -> Contract:
    return signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))


@pytest.fixture
def other_contract(signup_request: SignupRequest, catalogue: Catalogue) -> Contract:
    request = dataclasses.replace(
        signup_request,
        email="louis.bernard@example.org",
        first_name="Louis",
        last_name="Bernard",
        signup_key=None,
    )
    return signup_create(request=request, actor=Actor.customer(None), at=paris(2027, 1, 6))


def _line(contract: Contract, kind: str, amount: str, *, month: int = 2) -> DraftLine:
    start = date(2027, month, 1) if kind == LineKind.SUBSCRIPTION else None
    return DraftLine(
        contract_id=contract.pk,
        kind=kind,
        product="THD30",
        label=f"{kind} {amount}",
        period_start=start,
        period_end=start.replace(day=28) if start else None,
        amount=Decimal(amount),
        vat_rate=VAT,
    )


def _issue(contract: Contract, issue_date: date, *lines: tuple[str, str]) -> Document:
    with transaction.atomic():
        return document_issue(
            customer_id=contract.customer_id,
            issue_date=issue_date,
            lines=[_line(contract, kind, amount) for kind, amount in lines],
            run=None,
        )


def test_documents_come_newest_first_and_only_the_customers__B7(contract, other_contract):
    # given two documents for the customer and one for someone else
    february = _issue(contract, date(2027, 2, 2), (LineKind.SUBSCRIPTION, "29.90"))
    march = _issue(contract, date(2027, 3, 2), (LineKind.SUBSCRIPTION, "29.90"))
    theirs = _issue(other_contract, date(2027, 3, 2), (LineKind.SUBSCRIPTION, "29.90"))
    # when
    documents = list(customer_documents(customer=contract.customer))
    # then
    assert documents == [march, february]
    assert theirs not in documents


def test_same_day_documents_are_ordered_by_issue_order__B7(contract):
    invoice = _issue(contract, date(2027, 2, 2), (LineKind.SUBSCRIPTION, "29.90"))
    credit = _issue(contract, date(2027, 2, 2), (LineKind.GESTURE, "-3.00"))
    assert credit.kind == Document.Kind.CREDIT_NOTE
    assert list(customer_documents(customer=contract.customer)) == [credit, invoice]


def test_the_list_costs_two_queries_whatever_the_number_of_documents_and_lines(
    contract, django_assert_num_queries
):
    for month in range(2, 8):
        _issue(
            contract,
            date(2027, month, 2),
            (LineKind.SUBSCRIPTION, "29.90"),
            (LineKind.SUBSCRIPTION, "5.00"),
            (LineKind.GESTURE, "-1.00"),
        )
    with django_assert_num_queries(2):  # documents (with the corrected invoice), lines
        documents = list(customer_documents(customer=contract.customer))
        lines = [line.label for document in documents for line in document.lines.all()]
    assert len(documents) == 6
    assert len(lines) == 18


def test_a_document_of_another_customer_is_not_found__security(contract, other_contract):
    theirs = _issue(other_contract, date(2027, 2, 2), (LineKind.SUBSCRIPTION, "29.90"))
    mine = _issue(contract, date(2027, 2, 2), (LineKind.SUBSCRIPTION, "29.90"))
    assert customer_document_get(customer=contract.customer, document_id=theirs.pk) is None
    assert customer_document_get(customer=contract.customer, document_id=mine.pk) == mine
    assert customer_document_get(customer=contract.customer, document_id=10**9) is None


def test_lines_are_grouped_in_the_invoice_sections_order__B9(contract):
    # given lines of the three sections, issued in a mixed order
    document = _issue(
        contract,
        date(2027, 2, 2),
        (LineKind.GESTURE, "-2.00"),
        (LineKind.CALLS, "1.20"),
        (LineKind.SUBSCRIPTION, "29.90"),
        (LineKind.SETUP_FEE, "49.00"),
    )
    # when
    fetched = customer_document_get(customer=contract.customer, document_id=document.pk)
    assert fetched is not None
    sections = document_lines_by_section(fetched)
    # then
    assert [s.section for s in sections] == [
        Section.SUBSCRIPTIONS,
        Section.COMMUNICATIONS,
        Section.OTHER,
    ]
    assert [s.label for s in sections] == [
        "Abonnements et options",
        "Communications",
        "Autres éléments",
    ]
    assert [len(s.lines) for s in sections] == [1, 1, 2]
    assert sections[2].total == Decimal("47.00")
    assert sum(s.total for s in sections) == document.total


def test_empty_sections_are_left_out__B9(contract):
    document = _issue(contract, date(2027, 2, 2), (LineKind.SUBSCRIPTION, "29.90"))
    assert [s.section for s in document_lines_by_section(document)] == [Section.SUBSCRIPTIONS]
