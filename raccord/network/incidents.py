"""Network incidents declared by agents (N3): a zone or a relay site, the communes affected,
start, expected end and end, and the message the subscribers see in Mon Compte while it lasts.

Services record each change in the history (an incident is not one customer's: its events
carry no customer)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from raccord.catalog.models import Zone
from raccord.contracts.models import Contract
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.network.models import Incident

INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def communes_parse(text: str | Iterable[str]) -> list[str]:
    """INSEE codes typed by an agent, separated by commas, spaces or new lines."""
    items = re.split(r"[\s,;]+", text) if isinstance(text, str) else list(text)
    codes: list[str] = []
    for item in items:
        code = item.strip().upper()
        if not code:
            continue
        if not INSEE.match(code):
            raise DomainError(
                f"« {item.strip()} » n'est pas un code INSEE de commune (5 caractères, ex. 67482).",
                field="communes",
            )
        if code not in codes:
            codes.append(code)
    return codes


def _check(
    *,
    zone: Zone | None,
    relay_site: str,
    communes: list[str],
    started_at: datetime,
    expected_end_at: datetime | None,
    ended_at: datetime | None,
) -> None:
    if zone is None and not communes:
        raise DomainError(
            "Indiquez la zone touchée ou la liste des communes (un site relais dessert des "
            "communes : listez-les).",
            field="communes",
        )
    if expected_end_at is not None and expected_end_at <= started_at:
        raise DomainError(
            "Le rétablissement prévu doit suivre le début de l'incident.", field="expected_end_at"
        )
    if ended_at is not None and ended_at <= started_at:
        raise DomainError("La fin de l'incident doit suivre son début.", field="ended_at")


def _where(incident: Incident) -> str:
    parts = []
    if incident.relay_site:
        parts.append(f"site relais {incident.relay_site}")
    if incident.zone is not None:
        parts.append(f"zone {incident.zone.name}")
    if incident.communes:
        parts.append(f"{len(incident.communes)} commune(s)")
    return ", ".join(parts)


@transaction.atomic
def incident_declare(
    *,
    title: str,
    started_at: datetime,
    actor: Actor,
    zone: Zone | None = None,
    relay_site: str = "",
    communes: list[str] | None = None,
    expected_end_at: datetime | None = None,
    ended_at: datetime | None = None,
    public_message: str = "",
) -> Incident:
    title = title.strip()
    if not title:
        raise DomainError("Donnez un intitulé à l'incident.", field="title")
    communes = communes_parse(communes or [])
    _check(
        zone=zone,
        relay_site=relay_site,
        communes=communes,
        started_at=started_at,
        expected_end_at=expected_end_at,
        ended_at=ended_at,
    )
    incident = Incident.objects.create(
        title=title[:150],
        zone=zone,
        relay_site=relay_site.strip()[:150],
        communes=communes,
        started_at=started_at,
        expected_end_at=expected_end_at,
        ended_at=ended_at,
        public_message=public_message.strip(),
        created_by=actor.user if actor.user is not None and actor.user.pk else None,
    )
    event_record(
        actor=actor,
        verb="network.incident_declared",
        at=started_at,
        subject_type="network_incident",
        subject_id=incident.pk,
        summary=f"Incident réseau déclaré : {incident.title} ({_where(incident)})",
        data=_data(incident),
    )
    return incident


def _data(incident: Incident) -> dict[str, object]:
    return {
        "title": incident.title,
        "zone": incident.zone.code if incident.zone else None,
        "relay_site": incident.relay_site,
        "communes": incident.communes,
        "started_at": incident.started_at.isoformat(),
        "expected_end_at": incident.expected_end_at.isoformat()
        if incident.expected_end_at
        else None,
        "ended_at": incident.ended_at.isoformat() if incident.ended_at else None,
    }


@transaction.atomic
def incident_update(
    *,
    incident: Incident,
    actor: Actor,
    at: datetime,
    title: str,
    zone: Zone | None,
    relay_site: str,
    communes: list[str],
    started_at: datetime,
    expected_end_at: datetime | None,
    ended_at: datetime | None,
    public_message: str,
) -> Incident:
    """Correct an incident or record its end. Recorded only when something changed."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    title = title.strip()
    if not title:
        raise DomainError("Donnez un intitulé à l'incident.", field="title")
    communes = communes_parse(communes)
    _check(
        zone=zone,
        relay_site=relay_site,
        communes=communes,
        started_at=started_at,
        expected_end_at=expected_end_at,
        ended_at=ended_at,
    )
    before = _data(incident)
    before_message = incident.public_message
    was_open = incident.ended_at is None
    incident.title = title[:150]
    incident.zone = zone
    incident.relay_site = relay_site.strip()[:150]
    incident.communes = communes
    incident.started_at = started_at
    incident.expected_end_at = expected_end_at
    incident.ended_at = ended_at
    incident.public_message = public_message.strip()
    after = _data(incident)
    if after == before and incident.public_message == before_message:
        return incident
    incident.save()
    closed = was_open and ended_at is not None
    event_record(
        actor=actor,
        verb="network.incident_closed" if closed else "network.incident_updated",
        at=at,
        subject_type="network_incident",
        subject_id=incident.pk,
        summary=(
            f"Incident réseau terminé : {incident.title}"
            if closed
            else f"Incident réseau mis à jour : {incident.title}"
        ),
        data={"before": before, "after": after},
    )
    return incident


# --- selectors -----------------------------------------------------------------------------


def incidents_current(*, at: datetime) -> QuerySet[Incident]:
    return (
        Incident.objects.filter(started_at__lte=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .select_related("zone")
        .order_by("started_at", "pk")
    )


def incidents_covering(*, contract: Contract, incidents: Iterable[Incident]) -> list[Incident]:
    address = contract.installation_address
    return [
        incident
        for incident in incidents
        if incident.covers(insee_code=address.code_insee, ban_id=address.ban_id)
    ]


def incident_lines_q(incident: Incident) -> Q:
    """The contracts an incident covers, as a filter on ``Contract`` (same rule as
    ``Incident.covers``)."""
    if incident.communes:
        return Q(installation_address__code_insee__in=incident.communes)
    zone = incident.zone
    if zone is None:
        return Q(pk__in=[])
    q = Q(installation_address__code_insee__in=zone.communes)
    for department in zone.departments:
        q |= Q(installation_address__code_insee__startswith=department)
    if zone.included_addresses:
        q |= Q(installation_address__ban_id__in=zone.included_addresses)
    if zone.excluded_addresses:
        q &= ~Q(installation_address__ban_id__in=zone.excluded_addresses)
    return q


def incidents_ended_covering(*, contract: Contract) -> list[Incident]:
    """The ended incidents that touched the line since its activation (for S1)."""
    if contract.activation_date is None:
        return []
    incidents = Incident.objects.filter(
        ended_at__isnull=False, ended_at__date__gte=contract.activation_date
    ).select_related("zone")
    return incidents_covering(contract=contract, incidents=incidents)
