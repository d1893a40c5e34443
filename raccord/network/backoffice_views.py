"""Back-office pages of the network: a line's sessions, usage, outages and the S1 gesture;
the network incidents; whether the accounting feeds keep up (agent, billing and admin roles)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from raccord.backoffice.roles import role_required
from raccord.backoffice.views import _render
from raccord.contracts.models import Contract
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.network import clock
from raccord.network.charts import usage_chart
from raccord.network.feed import feed_rows
from raccord.network.forms import GestureGrantForm, IncidentForm
from raccord.network.gestures import gesture_candidate_grant, gesture_candidates
from raccord.network.incidents import (
    communes_parse,
    incident_declare,
    incident_lines_q,
    incident_update,
    incidents_covering,
    incidents_current,
)
from raccord.network.models import Incident
from raccord.network.portal_views import usage_rows
from raccord.network.selectors import (
    contract_sessions,
    line_state,
    outages_of,
    usage_series,
    volume,
)

logger = logging.getLogger(__name__)
SESSIONS_PAGE_SIZE = 50


def _contract(contract_id: int) -> Contract:
    contract = (
        Contract.objects.select_related("customer", "installation_address", "offer")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise Http404(_("Contrat inconnu."))
    return contract


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d}"


@role_required()
def contract_network(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _contract(contract_id)
    at = clock.now()
    today = at.date()
    logger.info("backoffice network viewed contract=%s agent=%s", contract.pk, request.user.pk)
    sessions = Paginator(contract_sessions(contract=contract), SESSIONS_PAGE_SIZE).get_page(
        request.GET.get("sessions")
    )
    latest = sessions.object_list[0] if sessions.number == 1 and sessions.object_list else None
    if latest is None:
        latest = contract_sessions(contract=contract).first()
    series = usage_series(contracts=[contract], until=today)[0]
    return _render(
        request,
        "network/backoffice_contract.html",
        {
            "contract": contract,
            "customer": contract.customer,
            "state": line_state(contract, session=latest, at=at),
            "incidents": incidents_covering(contract=contract, incidents=incidents_current(at=at)),
            "candidates": gesture_candidates(contract=contract, on=today),
            "threshold": Policy.get().outage_threshold_hours,
            "chart": usage_chart(series),
            "rows": usage_rows(series),
            "outages": list(outages_of(contract=contract)[:20]),
            "sessions": sessions,
            "session_rows": [
                {
                    "session": s,
                    "duration": _duration(s.session_time),
                    "received": volume(s.output_octets),
                    "sent": volume(s.input_octets),
                }
                for s in sessions.object_list
            ],
        },
    )


@require_POST
@role_required()
def gesture_grant_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _contract(contract_id)
    form = GestureGrantForm(request.POST)
    target = reverse("backoffice:network_contract", args=[contract.pk]) + "#geste"
    if not form.is_valid():
        messages.error(request, _("Choisissez la coupure."))
        return HttpResponseRedirect(target)
    try:
        item = gesture_candidate_grant(
            contract=contract,
            key=form.cleaned_data["outage"],
            on=clock.now().date(),
            actor=Actor.agent(request.user),  # type: ignore[arg-type]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Geste commercial de %(amount)s € accordé : il sera crédité sur la prochaine facture."
            )
            % {"amount": f"{-item.amount}".replace(".", ",")},
        )
    return HttpResponseRedirect(target)


# --- incidents -----------------------------------------------------------------------------


def _where(incident: Incident) -> str:
    parts = []
    if incident.relay_site:
        parts.append(_("site relais %(name)s") % {"name": incident.relay_site})
    if incident.zone is not None:
        parts.append(incident.zone.name)
    if incident.communes:
        parts.append(", ".join(incident.communes))
    return " – ".join(parts)


def _lines_covered(incident: Incident) -> int:
    """Live lines in the incident's sector (for the agent's information), counted in SQL."""
    return Contract.objects.filter(
        incident_lines_q(incident),
        status__in=[Contract.Status.ACTIVE, Contract.Status.TERMINATION_REQUESTED],
    ).count()


@role_required()
def incidents_list(request: HttpRequest) -> HttpResponse:
    at = clock.now()
    current = list(incidents_current(at=at))
    upcoming = list(Incident.objects.filter(started_at__gt=at).select_related("zone"))
    ended = list(
        Incident.objects.filter(ended_at__lte=at).select_related("zone").order_by("-ended_at")[:30]
    )

    def rows(items: list[Incident]) -> list[dict[str, Any]]:
        return [{"incident": i, "where": _where(i), "lines": _lines_covered(i)} for i in items]

    return _render(
        request,
        "network/backoffice_incidents.html",
        {
            "groups": [
                (_("En cours"), rows(current), "en-cours"),
                (_("Programmés"), rows(upcoming), "programmes"),
                (_("Terminés récemment"), rows(ended), "termines"),
            ]
        },
    )


def _incident_save(
    request: HttpRequest, form: IncidentForm, incident: Incident | None
) -> Incident | None:
    data = form.cleaned_data
    actor = Actor.agent(request.user)  # type: ignore[arg-type]
    try:
        communes = communes_parse(data["communes"] or "")
        if incident is None:
            return incident_declare(
                title=data["title"],
                zone=data["zone"],
                relay_site=data["relay_site"],
                communes=communes,
                started_at=data["started_at"],
                expected_end_at=data["expected_end_at"],
                ended_at=data["ended_at"],
                public_message=data["public_message"],
                actor=actor,
            )
        return incident_update(
            incident=incident,
            actor=actor,
            at=clock.now(),
            title=data["title"],
            zone=data["zone"],
            relay_site=data["relay_site"],
            communes=communes,
            started_at=data["started_at"],
            expected_end_at=data["expected_end_at"],
            ended_at=data["ended_at"],
            public_message=data["public_message"],
        )
    except DomainError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return None


def _incident_page(request: HttpRequest, incident: Incident | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = IncidentForm(request.POST)
        if form.is_valid():
            saved = _incident_save(request, form, incident)
            if saved is not None:
                messages.success(request, _("Incident enregistré."))
                return HttpResponseRedirect(reverse("backoffice:network_incidents"))
        status = 400
    elif incident is not None:
        form = IncidentForm(
            initial={
                "title": incident.title,
                "zone": incident.zone,
                "relay_site": incident.relay_site,
                "communes": ", ".join(incident.communes),
                "started_at": timezone.localtime(incident.started_at),
                "expected_end_at": timezone.localtime(incident.expected_end_at)
                if incident.expected_end_at
                else None,
                "ended_at": timezone.localtime(incident.ended_at) if incident.ended_at else None,
                "public_message": incident.public_message,
            }
        )
    else:
        form = IncidentForm(initial={"started_at": clock.now().replace(second=0, microsecond=0)})
    form.mark_for_assistive_technologies()
    return _render(
        request,
        "network/backoffice_incident_form.html",
        {
            "form": form,
            "incident": incident,
            "lines": _lines_covered(incident) if incident is not None else 0,
        },
        status=status,
    )


@role_required()
def incident_new(request: HttpRequest) -> HttpResponse:
    return _incident_page(request, None)


@role_required()
def incident_edit(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = Incident.objects.select_related("zone").filter(pk=incident_id).first()
    if incident is None:
        raise Http404(_("Incident inconnu."))
    return _incident_page(request, incident)


@role_required()
def feed_status(request: HttpRequest) -> HttpResponse:
    """The RADIUS journals and radacct sources: up to date, behind, or silent."""
    at = clock.now()
    return _render(request, "network/backoffice_feed.html", {"rows": feed_rows(at), "at": at})
