"""Money helpers: rules M1-M3.

Every amount is a ``Decimal`` in euros with two places. A line is computed exactly (``Fraction``)
and rounded once, half-up to the cent (M2). A period inside a month is charged by the day (M3).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_fraction(value: Decimal | Fraction | int | str) -> Fraction:
    if isinstance(value, Fraction):
        return value
    return Fraction(Decimal(value))


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to an integer, half away from zero: M2's rounding,
    the one place it is written. Callers working in integer cents (the run, Factur-X) use it
    directly; ``round_half_up`` uses it for exact amounts."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    whole, rest = divmod(abs(numerator), denominator)
    if 2 * rest >= denominator:
        whole += 1
    return whole if numerator >= 0 else -whole


def round_half_up(value: Decimal | Fraction | int | str) -> Decimal:
    """Round an exact amount once, half-up to the cent (M2)."""
    cents = to_fraction(value) * 100
    return Decimal(div_half_up(cents.numerator, cents.denominator)).scaleb(-2).quantize(CENT)


def money(value: Decimal | int | str) -> Decimal:
    """Parse an amount that must already be in cents (a price typed by a person)."""
    amount = Decimal(value)
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError(f"{value} has more than two decimal places")
    return amount.quantize(CENT)


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def prorata(monthly_price: Decimal, start: date, end: date) -> Fraction:
    """Exact price of the inclusive period [start, end] inside one calendar month (M3)."""
    if (start.year, start.month) != (end.year, end.month):
        raise ValueError("a prorata period must stay inside one calendar month")
    if end < start:
        raise ValueError("a prorata period ends before it starts")
    days = (end - start).days + 1
    return to_fraction(monthly_price) * days / days_in_month(start)


def vat_breakdown(
    lines: Iterable[tuple[Decimal, Decimal]],
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """VAT per rate from (gross amount, rate) pairs: [(rate, net, vat)] sorted by rate (M2).

    ``net = round_half_up(gross_of_rate / (1 + rate))`` and ``vat = gross_of_rate - net``.
    """
    gross_per_rate: dict[Decimal, Decimal] = {}
    for gross, rate in lines:
        gross_per_rate[rate] = gross_per_rate.get(rate, ZERO) + gross
    result = []
    for rate in sorted(gross_per_rate):
        gross = gross_per_rate[rate]
        net = round_half_up(to_fraction(gross) / (1 + to_fraction(rate)))
        result.append((rate, net, gross - net))
    return result
