"""French formatting of amounts, dates and VAT rates for documents.

Written out here rather than through locale settings: a stored PDF must read the same whatever
the server's locale or the language a request asked for, and rendering it again must give the
same bytes (B9)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

NBSP = "\u00a0"
# The French thousands separator: a narrow no-break space (1 234,50 €).
NARROW_NBSP = "\u202f"
CENT = Decimal("0.01")


MONTHS = (
    gettext_noop("janvier"),
    gettext_noop("février"),
    gettext_noop("mars"),
    gettext_noop("avril"),
    gettext_noop("mai"),
    gettext_noop("juin"),
    gettext_noop("juillet"),
    gettext_noop("août"),
    gettext_noop("septembre"),
    gettext_noop("octobre"),
    gettext_noop("novembre"),
    gettext_noop("décembre"),
)


def euros(amount: Decimal) -> str:
    """Decimal('-1234.5') → « -1 234,50 € » (no-break spaces, two decimals)."""
    value = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    whole, cents = f"{abs(value):,.2f}".split(".")
    sign = "-" if value < 0 else ""
    return f"{sign}{whole.replace(',', NARROW_NBSP)},{cents}{NBSP}€"


def date_long(day: date) -> str:
    """date(2027, 2, 1) → « 1er février 2027 »; date(2027, 2, 5) → « 5 février 2027 »."""
    number = _("1er") if day.day == 1 else str(day.day)
    return f"{number} {_(MONTHS[day.month - 1])} {day.year}"


def date_short(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def period(start: date | None, end: date | None) -> str:
    """The service period of a line: « du 20/01/2027 au 31/01/2027 », or one day."""
    if start and end and start != end:
        return _("du %(start)s au %(end)s") % {"start": date_short(start), "end": date_short(end)}
    day = start or end
    return _("le %(day)s") % {"day": date_short(day)} if day else ""


def percent(rate: Decimal) -> str:
    """Decimal('0.20') → « 20 % »; Decimal('0.055') → « 5,5 % »."""
    text = f"{(rate * 100).quantize(CENT):f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')}{NBSP}%"


def vat_rate_label(rate: Decimal) -> str:
    """A line's VAT rate; a 0 % line is « non soumis à TVA »."""
    return _("non soumis à TVA") if rate == 0 else percent(rate)
