"""Mon Compte: « Ma consommation », the usage of the customer's lines over 30 days.

Read through the logged-in customer only (``customer_required``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from raccord.contracts.models import Contract
from raccord.customers.models import Customer
from raccord.network.charts import UsageChart, usage_chart
from raccord.network.selectors import (
    LineState,
    UsageSeries,
    last_sessions,
    line_state,
    usage_series,
    volume,
)
from raccord.portal import clock
from raccord.portal.views import customer_required

PARIS_TZ = "Europe/Paris"
# The lines a subscriber follows: live ones, and the ones that ended less than 30 days ago.
SHOWN = (
    Contract.Status.ACTIVE,
    Contract.Status.TERMINATION_REQUESTED,
    Contract.Status.TERMINATED,
)


@dataclass
class UsageLine:
    contract: Contract
    state: LineState
    series: UsageSeries
    chart: UsageChart
    rows: list[dict[str, Any]]
    prefix: str


def usage_rows(series: UsageSeries) -> list[dict[str, Any]]:
    return [
        {"day": day.day, "received": volume(day.output_octets), "sent": volume(day.input_octets)}
        for day in reversed(series.days)
    ]


def usage_lines(*, contracts: list[Contract], at: datetime) -> list[UsageLine]:
    today = at.date()
    sessions = last_sessions(contracts=contracts)
    lines = []
    for series in usage_series(contracts=contracts, until=today):
        contract = series.contract
        lines.append(
            UsageLine(
                contract=contract,
                state=line_state(contract, session=sessions.get(contract.pk), at=at),
                series=series,
                chart=usage_chart(series),
                rows=usage_rows(series),
                prefix=f"conso-{contract.reference}",
            )
        )
    return lines


@require_GET
@customer_required
def usage_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    from django.utils import timezone

    at = timezone.localtime(clock.now())
    since = at.date() - timedelta(days=30)
    contracts = [
        c
        for c in Contract.objects.filter(customer=customer, status__in=SHOWN)
        .exclude(activation_date__isnull=True)
        .order_by("signed_at", "id")
        if c.termination_effective_date is None or c.termination_effective_date >= since
    ]
    return render(
        request,
        "network/portal_usage.html",
        {
            "customer": customer,
            "lines": usage_lines(contracts=contracts, at=at),
            "section": "usage",
        },
    )
