"""Subscription lines: the days charged (a full month or a prorata, M3, B2) and the days
credited back after an offer change, a withdrawal or the end of a contract (B3, B4, C6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from raccord.billing.explain.french import (
    Explained,
    amount_text,
    days_text,
    euros,
    month_text,
    span_text,
)
from raccord.billing.line_data import read_decimal, read_int, read_text
from raccord.billing.models import DocumentLine, LineKind


def _prorata_detail(data: Mapping[str, Any], amount: Decimal, days: int | None) -> str:
    days_in_month = read_int(data, "days_in_month")
    monthly = read_decimal(data, "monthly_price")
    if days is None or days_in_month is None or monthly is None:
        return amount_text(amount)
    return _("%(days)s sur %(month_days)d × %(price)s = %(amount)s") % {
        "days": days_text(days),
        "month_days": days_in_month,
        "price": euros(monthly),
        "amount": amount_text(amount),
    }


def _line_days(line: DocumentLine) -> int | None:
    days = read_int(line.data, "days")
    if days is None and line.period_start and line.period_end:
        days = (line.period_end - line.period_start).days + 1
    return days


def subscription(line: DocumentLine, amount: Decimal) -> Explained:
    start, end = line.period_start, line.period_end
    if start is None or end is None:
        return Explained(line.label, amount_text(amount))
    if line.data.get("full_month") and start.day == 1 and start.month == end.month:
        return Explained(
            _("%(product)s pour %(month)s (mois complet)")
            % {"product": line.label, "month": month_text(start)},
            amount_text(amount),
        )
    return Explained(
        _("%(product)s %(span)s au prorata")
        % {"product": line.label, "span": span_text(start, end)},
        _prorata_detail(line.data, amount, _line_days(line)),
    )


CREDIT_AFTER_END = "end"
CREDIT_AFTER_CHANGE = "offer_change"
CREDIT_AFTER_WITHDRAWAL = "withdrawal"


def credit(line: DocumentLine, amount: Decimal, reason: str) -> Explained:
    start, end = line.period_start, line.period_end
    days = _line_days(line)
    if start is None or end is None or days is None:
        return Explained(_("Avoir sur %(product)s") % {"product": line.label}, amount_text(amount))
    values = {"days": days_text(days), "span": span_text(start, end), "product": line.label}
    if reason == CREDIT_AFTER_CHANGE:
        description = _(
            "Avoir : %(days)s déjà facturés après votre changement d'offre (%(span)s) "
            "pour %(product)s"
        )
    elif reason == CREDIT_AFTER_WITHDRAWAL:
        description = _(
            "Avoir : %(days)s déjà facturés et non dus après votre rétractation (%(span)s) "
            "pour %(product)s"
        )
    else:
        description = _(
            "Avoir : %(days)s déjà facturés après la fin de votre contrat (%(span)s) "
            "pour %(product)s"
        )
    return Explained(description % values, _prorata_detail(line.data, amount, days))


def credit_reason(line: DocumentLine, siblings: Sequence[DocumentLine] | None) -> str:
    """Why days were credited, read from the rest of the document (the run does not store it):
    a new product charged for the same contract from the credit's first day is an offer change
    (B4); a withdrawal line of the same contract is a withdrawal (C6); otherwise the contract
    ended (B3)."""
    reason = read_text(line.data, "reason")
    if reason in {CREDIT_AFTER_CHANGE, CREDIT_AFTER_WITHDRAWAL, CREDIT_AFTER_END}:
        return reason
    for other in siblings or ():
        if other is line or other.contract_id != line.contract_id:
            continue
        if other.kind == LineKind.WITHDRAWAL:
            return CREDIT_AFTER_WITHDRAWAL
        if (
            other.kind == LineKind.SUBSCRIPTION
            and other.product != line.product
            and other.period_start == line.period_start
        ):
            return CREDIT_AFTER_CHANGE
    return CREDIT_AFTER_END
