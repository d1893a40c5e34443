"""Amounts, dates, spans and durations written the French way, and the « description :
detail » shape every line's sentence takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from raccord.contracts.commitment import add_months_same_day

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
# French puts a (no-break) space before « ; ».
SEMICOLON = f"{NBSP}; "


def euros(amount: Decimal | str | int) -> str:
    """29.9 → « 29,90 € », 1234.5 → « 1 234,50 € » (no-break spaces: the sign never wraps
    away from its number). The sign is kept: callers say « en votre faveur » themselves."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = f"{abs(value):,.2f}".split(".")
    sign = "-" if value < 0 else ""
    return f"{sign}{whole.replace(',', NARROW_NBSP)},{cents}{NBSP}€"


def percent(weight: Decimal) -> str:
    """0.25 → « 25 % », 0.125 → « 12,5 % »."""
    value = (weight * 100).normalize()
    text = f"{value:f}".replace(".", ",")
    return f"{text}{NBSP}%"


def number_text(value: Decimal) -> str:
    """49 → « 49 », 49.5 → « 49,5 »."""
    return f"{value.normalize():f}".replace(".", ",")


def _day_of_month(day: date) -> str:
    return _("1er") if day.day == 1 else str(day.day)


def _month(day: date) -> str:
    return str(MONTHS[day.month])


def day_text(day: date) -> str:
    """« 20 janvier 2027 », « 1er juin 2027 »."""
    return f"{_day_of_month(day)} {_month(day)} {day.year}"


def day_month_text(day: date) -> str:
    """« 5 février », without the year (a date inside a dated document)."""
    return f"{_day_of_month(day)} {_month(day)}"


def month_text(day: date) -> str:
    """« février 2027 »."""
    return f"{_month(day)} {day.year}"


def span_text(start: date, end: date) -> str:
    """« du 20 au 31 janvier », « du 20 janvier au 3 février », « le 31 janvier »; the years are
    written only when the span crosses a new year (the document's date says the rest)."""
    if start == end:
        return _("le %(day)s") % {"day": day_month_text(start)}
    if start.year != end.year:
        first, last = day_text(start), day_text(end)
    elif start.month != end.month:
        first, last = day_month_text(start), day_month_text(end)
    else:
        first, last = _day_of_month(start), day_month_text(end)
    return _("du %(start)s au %(end)s") % {"start": first, "end": last}


def duration_text(start: date, end: date) -> str:
    """The inclusive span [start, end] as whole calendar months and days: « 10 mois et 4 jours »,
    « 6 mois », « 12 jours » (months counted day-of-month to day-of-month, as commitments are)."""
    stop = end + timedelta(days=1)
    months = 0
    while add_months_same_day(start, months + 1) <= stop:
        months += 1
    days = (stop - add_months_same_day(start, months)).days
    month_part = ngettext("%(n)d mois", "%(n)d mois", months) % {"n": months}
    day_part = ngettext("%(n)d jour", "%(n)d jours", days) % {"n": days}
    if months and days:
        return _("%(months)s et %(days)s") % {"months": month_part, "days": day_part}
    return month_part if months else day_part


def days_text(n: int) -> str:
    return ngettext("%(n)d jour", "%(n)d jours", n) % {"n": n}


def vat_rate_text(rate: Decimal | str) -> str:
    """« 20 % », or « non soumis à TVA » for an item out of VAT scope (M1)."""
    value = Decimal(rate)
    return percent(value) if value else _("non soumis à TVA")


@dataclass(frozen=True)
class Explained:
    """« description : detail ». ``detail`` ends with the amount when there is one."""

    description: str
    detail: str = ""

    def text(self) -> str:
        return f"{self.description} : {self.detail}" if self.detail else self.description


def amount_text(amount: Decimal) -> str:
    if amount < 0:
        return _("%(amount)s en votre faveur") % {"amount": euros(-amount)}
    return euros(amount)
