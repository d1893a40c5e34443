"""Which mandate a debit uses (P4), and the mandates' life (bank-details change, P7 lapse).

P4: a change signed on day 1 to ``bank_change_cutoff_day`` (24) of month X applies from the debit
of month X+1; later in the month, from the debit of X+2. The mandate signed at sign-up applies
from the first debit (``applies_from`` null)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import QuerySet

from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.payments.models import Mandate

# Mandates that may still be used for a debit of some month.
USABLE = (Mandate.Status.PENDING, Mandate.Status.ACTIVE, Mandate.Status.AMENDED)


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def mandate_applies_from(*, signed_on: date, policy: Policy | None = None) -> date:
    """P4: the first day of the first month whose debit uses a mandate signed on ``signed_on``
    to replace another one."""
    policy = policy or Policy.get()
    months = 1 if signed_on.day <= policy.bank_change_cutoff_day else 2
    return _month_add(signed_on, months)


# The columns ``mandate_rows_in_force`` yields, in order.
MANDATE_ROW = (
    "customer_id",
    "pk",
    "reference",
    "debtor_name",
    "iban",
    "bic",
    "signature_date",
    "last_debit_date",
    "applies_from",
)


def _usable(month: date) -> QuerySet[Mandate]:
    return Mandate.objects.filter(status__in=USABLE).exclude(applies_from__gt=month.replace(day=1))


def _newer(candidate: date | None, current: date | None) -> bool:
    return (candidate or date.min) >= (current or date.min)


def mandates_in_force(
    *, month: date, customer_ids: Iterable[int] | None = None
) -> dict[int, Mandate]:
    """For each customer, the mandate the debit of ``month`` uses (P4): of the mandates not
    revoked nor lapsed, the one with the latest ``applies_from`` not after that month (a mandate
    signed at sign-up, with none, counts from the start); the newest first among equals."""
    query = _usable(month)
    if customer_ids is not None:
        query = query.filter(customer_id__in=list(customer_ids))
    result: dict[int, Mandate] = {}
    for mandate in query.order_by("customer_id", "id"):
        current = result.get(mandate.customer_id)
        if current is None or _newer(mandate.applies_from, current.applies_from):
            result[mandate.customer_id] = mandate
    return result


def mandate_rows_in_force(
    *, month: date, customer_low: int, customer_high: int
) -> dict[int, tuple[object, ...]]:
    """The same choice as ``mandates_in_force`` for the customers whose id is in
    ``[customer_low, customer_high]``, as tuples of ``MANDATE_ROW`` (no model instances): what
    the debit file reads batch by batch for a million customers."""
    rows = (
        _usable(month)
        .filter(customer_id__gte=customer_low, customer_id__lte=customer_high)
        .order_by("customer_id", "id")
        .values_list(*MANDATE_ROW)
    )
    result: dict[int, tuple[object, ...]] = {}
    for row in rows:
        current = result.get(row[0])
        if current is None or _newer(row[8], current[8]):  # type: ignore[arg-type]
            result[row[0]] = row
    return result


def mandates_daily_run(*, on: date, actor: Actor) -> list[str]:
    """The mandates' daily job: a replacement mandate comes into force for the debit month it
    applies from (P4), a mandate unused for ``mandate_lapse_months`` lapses (P7). Returns what
    changed, one reference each. Filled in by the payments work."""
    return []
