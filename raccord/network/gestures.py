"""S1 checked against the network's data: the outages of a line that may open a commercial
gesture, each with the amount ``gesture_grant`` gives it.

Candidates are the outages found in the sessions and the ended incidents that covered the
line's commune. The amount is the contracts service's own: ``gesture_grant`` is run in a
transaction that is rolled back, so the figure shown to the agent is the one granted, with the
same refusals (too short, not ended, service not running), and nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from raccord.billing.models import LineKind, PendingItem
from raccord.contracts.gesture import gesture_grant, outage_hours
from raccord.contracts.models import Contract
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.network.incidents import incident_lines_q, incidents_ended_covering
from raccord.network.models import Incident, Outage

PARIS = ZoneInfo("Europe/Paris")
# By policy, the gestures of the outages and incidents that ended this many days before the
# daily job are granted without a request (the outages are detected on the last 7 days).
AUTOMATIC_DAYS = 7


@dataclass
class GestureCandidate:
    source: str  # "outage" (found in the sessions) or "incident" (declared by an agent)
    source_id: int
    label: str
    start: datetime
    end: datetime
    hours: Decimal
    amount: Decimal | None = None
    refusal: str = ""
    granted: bool = False

    @property
    def key(self) -> str:
        return f"{self.source}-{self.source_id}"


class _Preview(Exception):
    def __init__(self, amount: Decimal) -> None:
        self.amount = amount


def gesture_quote(
    *, contract: Contract, start: datetime, end: datetime, on: date
) -> tuple[Decimal | None, str]:
    """(amount credited, refusal) of ``gesture_grant`` for this outage, written nowhere."""
    try:
        with transaction.atomic():
            item = gesture_grant(
                contract=contract,
                outage_start=start,
                outage_end=end,
                requested_on=on,
                actor=Actor.system("Aperçu du geste commercial"),
            )
            raise _Preview(-item.amount)
    except _Preview as preview:
        return preview.amount, ""
    except DomainError as error:
        return None, error.message


def _granted(contract: Contract) -> list[tuple[datetime, datetime]]:
    spans = []
    for data in PendingItem.objects.filter(
        contract=contract, kind=LineKind.GESTURE, cancelled=False
    ).values_list("data", flat=True):
        try:
            spans.append(
                (
                    datetime.fromisoformat(data["outage_start"]),
                    datetime.fromisoformat(data["outage_end"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return spans


def gesture_candidates(
    *, contract: Contract, on: date, quote: bool = True
) -> list[GestureCandidate]:
    """The outages of the line that ended by ``on`` and last more than the policy's hours,
    most recent first, with whether a gesture already covers them (once per outage) and,
    with ``quote``, their amount (or the reason none is due)."""
    threshold = Policy.get().outage_threshold_hours
    candidates: list[GestureCandidate] = []
    for outage in Outage.objects.filter(contract=contract, ended_at__isnull=False):
        assert outage.ended_at is not None
        candidates.append(
            GestureCandidate(
                source="outage",
                source_id=outage.pk,
                label="Coupure constatée (aucune session)",
                start=outage.started_at,
                end=outage.ended_at,
                hours=Decimal(0),
            )
        )
    for incident in incidents_ended_covering(contract=contract):
        assert incident.ended_at is not None
        candidates.append(
            GestureCandidate(
                source="incident",
                source_id=incident.pk,
                label=f"Incident réseau : {incident.title}",
                start=incident.started_at,
                end=incident.ended_at,
                hours=Decimal(0),
            )
        )
    granted = _granted(contract)
    eligible = []
    for candidate in candidates:
        hours = outage_hours(start=candidate.start, end=candidate.end)
        candidate.hours = Decimal(hours.numerator) / Decimal(hours.denominator)
        if hours <= threshold or candidate.end.astimezone(PARIS).date() > on:
            continue
        candidate.granted = any(
            start < candidate.end and candidate.start < end for start, end in granted
        )
        if quote:
            candidate.amount, candidate.refusal = gesture_quote(
                contract=contract, start=candidate.start, end=candidate.end, on=on
            )
        eligible.append(candidate)
    eligible.sort(key=lambda c: c.start, reverse=True)
    return eligible


def gesture_candidate_grant(*, contract: Contract, key: str, on: date, actor: Actor) -> PendingItem:
    """Grant the gesture of one candidate, found again from its key (the dates are never
    taken from the form)."""
    for candidate in gesture_candidates(contract=contract, on=on):
        if candidate.key == key:
            return gesture_grant(
                contract=contract,
                outage_start=candidate.start,
                outage_end=candidate.end,
                requested_on=on,
                actor=actor,
            )
    raise DomainError(
        "Cette coupure n'ouvre pas de geste commercial (ou n'existe plus).", field="outage"
    )


def gestures_automatic(*, on: date) -> list[str]:
    """S1 by policy (``Policy.gesture_automatic``, off by default): the daily job of ``on``
    grants the gesture of every outage or incident of more than the policy's hours that ended
    in the ``AUTOMATIC_DAYS`` before ``on`` 00:00, on each active line it touched, as an agent
    would from the line's page: the same candidates, the same amount, once per outage (a
    gesture already granted for an overlapping outage is left as it is). Older outages stay
    with the agents. Returns the report's lines."""
    if not Policy.get().gesture_automatic:
        return []
    until = datetime.combine(on, time(0), tzinfo=PARIS)
    since = until - timedelta(days=AUTOMATIC_DAYS)
    contract_ids = set(
        Outage.objects.filter(ended_at__gte=since, ended_at__lt=until).values_list(
            "contract_id", flat=True
        )
    )
    for incident in Incident.objects.filter(ended_at__gte=since, ended_at__lt=until).select_related(
        "zone"
    ):
        contract_ids.update(
            Contract.objects.filter(incident_lines_q(incident)).values_list("pk", flat=True)
        )
    contracts = (
        Contract.objects.filter(
            pk__in=contract_ids,
            status=Contract.Status.ACTIVE,
            suspended_on__isnull=True,
        )
        .select_related("installation_address", "offer")
        .order_by("pk")
    )
    actor = Actor.system("Geste commercial automatique (politique de l'opérateur)")
    lines = []
    for contract in contracts:
        # Not quoted first: ``gesture_grant`` itself refuses what is not due.
        for candidate in gesture_candidates(contract=contract, on=on, quote=False):
            if candidate.granted or not since <= candidate.end < until:
                continue
            try:
                item = gesture_grant(
                    contract=contract,
                    outage_start=candidate.start,
                    outage_end=candidate.end,
                    requested_on=on,
                    actor=actor,
                )
            except DomainError:
                continue  # e.g. the service was not running when the outage began
            lines.append(
                f"geste commercial automatique de {-item.amount} € pour {contract.reference} "
                f"({candidate.label.lower()}, {candidate.start.astimezone(PARIS):%d/%m %H:%M} – "
                f"{candidate.end.astimezone(PARIS):%d/%m %H:%M})"
            )
    return lines
