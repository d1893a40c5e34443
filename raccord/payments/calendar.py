"""The SEPA calendar (P1, P3, P5): TARGET2 business days and the debit date of an invoice."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

from raccord.core.models import Policy


@lru_cache(maxsize=64)
def _target2_closed(year: int) -> frozenset[date]:
    # TARGET2 closes on 1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December.
    return frozenset(holidays.financial_holidays("XECB", years=[year]).keys())


def is_target2_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _target2_closed(day.year)


def next_target2_business_day(day: date) -> date:
    """``day`` itself when TARGET2 is open, else the next day it is (P1)."""
    while not is_target2_business_day(day):
        day += timedelta(days=1)
    return day


def debit_date_of_month(*, year: int, month: int, debit_day: int) -> date:
    """P1: the policy's debit day of that month, moved to the next TARGET2 business day."""
    return next_target2_business_day(date(year, month, debit_day))


def invoice_debit_date(*, issue_date: date, policy: Policy | None = None) -> date:
    """The debit date of a SEPA invoice issued on ``issue_date`` (P1, P3).

    The invoice is the pre-notification: it must be issued at least ``prenotification_days``
    before the debit; otherwise it waits for the next month's debit date."""
    policy = policy or Policy.get()
    year, month = issue_date.year, issue_date.month
    for _attempt in range(3):
        debit = debit_date_of_month(year=year, month=month, debit_day=policy.debit_day)
        if (debit - issue_date).days >= policy.prenotification_days:
            return debit
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: a month later is always far enough")


def cheque_due_date(*, issue_date: date, policy: Policy | None = None) -> date:
    """P5: cheque payers pay before the policy's day of the invoice's month."""
    policy = policy or Policy.get()
    return date(issue_date.year, issue_date.month, policy.cheque_due_day)
