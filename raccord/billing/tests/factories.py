"""Documents built exactly as the monthly run stores them, shared by the billing, API,
back-office and portal tests (B2, B9, M3).

Plain functions, not fixtures: each test says which document it needs and for which contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import Document, LineKind
from raccord.contracts.models import Contract
from raccord.core.money import days_in_month, prorata, round_half_up

VAT = Decimal("0.20")
ACTIVATION = date(2027, 1, 20)
FIRST_ISSUE = date(2027, 2, 2)


def subscription_data(start: date, end: date, monthly: str) -> dict[str, object]:
    """The data the run stores on a subscription line of one calendar month (M3)."""
    days, dim = (end - start).days + 1, days_in_month(start)
    return {"days": days, "days_in_month": dim, "monthly_price": monthly, "full_month": days == dim}


def subscription_line(
    contract: Contract, label: str, product: str, start: date, end: date, monthly: str
) -> DraftLine:
    """One calendar-month segment of a subscription (M3), with the data the explanation reads."""
    return DraftLine(
        contract_id=contract.pk,
        kind=LineKind.SUBSCRIPTION,
        product=product,
        label=label,
        period_start=start,
        period_end=end,
        amount=round_half_up(prorata(Decimal(monthly), start, end)),
        vat_rate=VAT,
        data=subscription_data(start, end, monthly),
    )


def setup_fee_line(contract: Contract) -> DraftLine:
    return DraftLine(
        contract_id=contract.pk,
        kind=LineKind.SETUP_FEE,
        product="THD30",
        label="Frais de mise en service",
        period_start=None,
        period_end=None,
        amount=Decimal("49.00"),
        vat_rate=VAT,
        data={"setup_fee": "49.00", "subsidy": "0.00", "authority": ""},
    )


def first_invoice_lines(
    contract: Contract, *, phone_since: date | None = ACTIVATION
) -> list[DraftLine]:
    """What the run bills on 2 February for an activation on 20 January (B2): the set-up fee,
    the January prorata and February of THD Radio 30, then the « Téléphonie » option from
    ``phone_since`` (None: no option) in the same month segments."""
    january, february = (ACTIVATION, date(2027, 1, 31)), (date(2027, 2, 1), date(2027, 2, 28))
    lines = [
        setup_fee_line(contract),
        subscription_line(contract, "THD Radio 30", "THD30", *january, "29.90"),
        subscription_line(contract, "THD Radio 30", "THD30", *february, "29.90"),
    ]
    if phone_since is not None:
        for start, end in (january, february):
            if phone_since <= end:
                lines.append(
                    subscription_line(
                        contract, "Téléphonie", "TEL", max(start, phone_since), end, "5.00"
                    )
                )
    return lines


def first_invoice(
    contract: Contract,
    *,
    issue_date: date = FIRST_ISSUE,
    phone_since: date | None = ACTIVATION,
) -> Document:
    """The first invoice of ``first_invoice_lines``, issued."""
    lines = first_invoice_lines(contract, phone_since=phone_since)
    with transaction.atomic():
        return document_issue(
            customer_id=contract.customer_id, issue_date=issue_date, lines=lines, run=None
        )


def monthly_invoice(contract: Contract, month: int, *, phone: bool = True) -> Document:
    """A full month of 2027 issued on the 2nd: THD Radio 30, and « Téléphonie » if ``phone``."""
    start = date(2027, month, 1)
    end = start.replace(day=days_in_month(start))
    lines = [subscription_line(contract, "THD Radio 30", "THD30", start, end, "29.90")]
    if phone:
        lines.append(subscription_line(contract, "Téléphonie", "TEL", start, end, "5.00"))
    with transaction.atomic():
        return document_issue(
            customer_id=contract.customer_id, issue_date=start.replace(day=2), lines=lines, run=None
        )
