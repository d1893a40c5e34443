"""Commercial gesture after an outage (S1).

For an outage of more than 48 consecutive hours (policy) that ended before the request, once
per outage: the total monthly price (offer + options in force when the outage started) ×
ceil(hours / 24) / days in the month where it started, rounded once, credited on the next
invoice."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from raccord.billing.models import LineKind, PendingItem
from raccord.billing.services import pending_item_add
from raccord.contracts.models import Contract, Subscription
from raccord.contracts.services import _at, _locked
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import Policy
from raccord.core.money import ZERO, days_in_month, round_half_up, to_fraction

PARIS = ZoneInfo("Europe/Paris")


def _paris(moment: datetime) -> datetime:
    """Outages are typed in Paris time; a naive datetime is read as such."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS)


def outage_hours(*, start: datetime, end: datetime) -> Fraction:
    """The exact length of an outage in hours (no float), in real elapsed time.

    Both ends are converted to UTC first: subtracting two datetimes of the same zone counts
    wall-clock hours, one hour short (or long) across a daylight-saving change."""
    delta = end.astimezone(UTC) - start.astimezone(UTC)
    return Fraction(delta.days * 86400 + delta.seconds, 3600) + Fraction(
        delta.microseconds, 3_600_000_000
    )


def monthly_total_on(*, contract: Contract, day: date) -> Decimal:
    """Offer + options in force on ``day`` (their billable subscriptions)."""
    # Summed in Python: SQLite would add the decimals as floats.
    prices = (
        Subscription.objects.filter(contract=contract, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .values_list("monthly_price", flat=True)
    )
    return sum(prices, start=ZERO)


@transaction.atomic
def gesture_grant(
    *,
    contract: Contract,
    outage_start: datetime,
    outage_end: datetime,
    requested_on: date,
    actor: Actor,
) -> PendingItem:
    """S1: queue the gesture for one outage. Idempotent per outage: asking again for the same
    outage (or one overlapping it) returns the gesture already granted."""
    contract = _locked(contract)
    start, end = _paris(outage_start), _paris(outage_end)
    if end <= start:
        raise DomainError("La fin de la coupure doit suivre son début.", field="outage_end")
    for item in PendingItem.objects.filter(
        contract=contract, kind=LineKind.GESTURE, cancelled=False
    ):
        granted_start = datetime.fromisoformat(item.data["outage_start"])
        granted_end = datetime.fromisoformat(item.data["outage_end"])
        if granted_start < end and start < granted_end:
            return item
    threshold = Policy.get().outage_threshold_hours
    hours = outage_hours(start=start, end=end)
    # 49, 48.5: plain figures, never an exponent
    shown = format(round_half_up(hours).normalize(), "f").replace(".", ",")
    if hours <= threshold:
        raise DomainError(
            f"Un geste commercial est accordé pour une coupure de plus de {threshold} heures "
            f"consécutives ; celle-ci a duré {shown} heures.",
            field="outage_end",
        )
    if end.date() > requested_on:
        raise DomainError(
            "La coupure doit être terminée avant la demande de geste commercial.",
            field="outage_end",
        )
    day = start.date()
    monthly_total = monthly_total_on(contract=contract, day=day)
    if monthly_total <= 0:
        raise DomainError(
            "Le service n'était pas en cours au début de cette coupure.", field="outage_start"
        )
    days_counted = math.ceil(hours / 24)
    month_days = days_in_month(day)
    amount = round_half_up(to_fraction(monthly_total) * days_counted / month_days)
    item = pending_item_add(
        contract=contract,
        kind=LineKind.GESTURE,
        label=f"Geste commercial : coupure du {start:%d/%m/%Y %H:%M} au {end:%d/%m/%Y %H:%M}",
        amount=-amount,
        vat_rate=contract.vat_rate,
        created_on=requested_on,
        product=contract.offer.code,
        data={
            "outage_start": start.isoformat(),
            "outage_end": end.isoformat(),
            "hours": shown,
            "days_counted": days_counted,
            "days_in_month": month_days,
            "monthly_total": str(monthly_total),
        },
        key=f"s1:{contract.pk}:{int(start.timestamp())}",
    )
    event_record(
        actor=actor,
        verb="contract.gesture_granted",
        at=_at(requested_on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Geste commercial de {amount} € pour la coupure de {shown} h du {start:%d/%m/%Y}",
        data={**item.data, "amount": str(-amount)},
    )
    return item
