"""Commitment dates (C7) and the termination regime they fall under (C11)."""

from __future__ import annotations

from datetime import date, timedelta

# loi 2022-1158: commitments started on or after this day follow the 2023 regime.
REGIME_2023_START = date(2023, 1, 1)


def add_months_same_day(start: date, months: int) -> date:
    """The same day-of-month ``months`` later; when that day does not exist (31st, 29 February),
    the first day of the following month, so that the day before is the month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    try:
        return start.replace(year=year, month=month)
    except ValueError:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return date(year, month, 1)


def commitment_end(*, start: date, months: int) -> date | None:
    """C7: the commitment ends the day before the same day-of-month N months later
    (start 2027-01-20, 12 months → 2028-01-19). None for an offer without commitment."""
    if months <= 0:
        return None
    return add_months_same_day(start, months) - timedelta(days=1)


def commitment_regime(*, start: date) -> str:
    """``"2023"`` (loi 2022-1158) or ``"chatel"`` for commitments started before 2023 (C11)."""
    return "2023" if start >= REGIME_2023_START else "chatel"
