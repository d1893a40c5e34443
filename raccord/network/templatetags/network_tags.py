"""Panels of the network app shown on shared pages (Mon Compte home and navigation, the
back-office customer page and navigation). Each tag renders nothing until it has something."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils import timezone

from raccord.contracts.models import Contract
from raccord.network import clock
from raccord.network.incidents import incidents_covering, incidents_current
from raccord.network.models import Outage
from raccord.network.selectors import last_sessions, line_state, usage_series, volume

register = template.Library()
LIVE = (Contract.Status.ACTIVE, Contract.Status.TERMINATION_REQUESTED)


def _portal_now() -> Any:
    from raccord.portal import clock as portal_clock

    return timezone.localtime(portal_clock.now())


@register.simple_tag(takes_context=True)
def network_portal_home(context: dict[str, Any], customer: Any) -> str:
    """A current incident on the subscriber's sector, a suspended line, and the last 30
    days' volume with a link to the chart."""
    if customer is None:
        return ""
    at = _portal_now()
    contracts = list(
        Contract.objects.filter(customer=customer, status__in=LIVE)
        .select_related("installation_address")
        .order_by("signed_at", "id")
    )
    if not contracts:
        return ""
    current = list(incidents_current(at=at))
    incidents: list[dict[str, Any]] = []
    for incident in current:
        covered = [
            c.reference for c in contracts if incidents_covering(contract=c, incidents=[incident])
        ]
        if covered:
            incidents.append({"incident": incident, "references": ", ".join(covered)})
    active = [c for c in contracts if c.activation_date is not None]
    lines = [
        {"series": series, "received": volume(series.received), "sent": volume(series.sent)}
        for series in usage_series(contracts=active, until=at.date())
    ]
    return render_to_string(
        "network/portal_home_panel.html",
        {
            "incidents": incidents,
            "suspended": [c for c in contracts if c.suspended_on is not None],
            "lines": lines,
        },
        request=context.get("request"),
    )


@register.simple_tag(takes_context=True)
def network_portal_nav(context: dict[str, Any]) -> str:
    return render_to_string(
        "network/portal_nav.html",
        {"section": context.get("section")},
        request=context.get("request"),
    )


@register.simple_tag(takes_context=True)
def network_backoffice_customer(context: dict[str, Any], customer: Any) -> str:
    """Each line that reached the network: its state (suspension included), last session,
    volume, ongoing outage and incident, with the link to its sessions and the S1 gesture."""
    if customer is None:
        return ""
    contracts = list(
        Contract.objects.filter(customer=customer)
        .exclude(activation_date__isnull=True, suspended_on__isnull=True)
        .select_related("installation_address")
        .order_by("signed_at", "id")
    )
    if not contracts:
        return ""
    at = clock.now()
    sessions = last_sessions(contracts=contracts)
    current = list(incidents_current(at=at))
    ongoing = {
        o.contract_id: o
        for o in Outage.objects.filter(contract__in=contracts, ended_at__isnull=True)
    }
    lines = []
    for series in usage_series(contracts=contracts, until=at.date()):
        contract = series.contract
        lines.append(
            {
                "contract": contract,
                "state": line_state(contract, session=sessions.get(contract.pk), at=at),
                "session": sessions.get(contract.pk),
                "received": volume(series.received),
                "sent": volume(series.sent),
                "ongoing": ongoing.get(contract.pk),
                "incidents": incidents_covering(contract=contract, incidents=current)
                if contract.status in LIVE
                else [],
            }
        )
    return render_to_string(
        "network/backoffice_customer_panel.html",
        {"lines": lines},
        request=context.get("request"),
    )


@register.simple_tag(takes_context=True)
def network_backoffice_nav(context: dict[str, Any]) -> str:
    return render_to_string("network/backoffice_nav.html", {}, request=context.get("request"))
