"""S1 checked against the network's data: the outages of a line that may open a commercial
gesture, each with the amount ``gesture_grant`` gives it.

Candidates are the outages found in the sessions and the ended incidents that covered the
line's commune. The amount is the contracts service's own: ``gesture_grant`` is run in a
transaction that is rolled back, so the figure shown to the agent is the one granted, with the
same refusals (too short, not ended, service not running), and nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from raccord.billing.models import LineKind, PendingItem
from raccord.contracts.gesture import gesture_grant, outage_hours
from raccord.contracts.models import Contract
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.network.incidents import incidents_ended_covering
from raccord.network.models import Outage

PARIS = ZoneInfo("Europe/Paris")


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


def gesture_candidates(*, contract: Contract, on: date) -> list[GestureCandidate]:
    """The outages of the line that ended by ``on`` and last more than the policy's hours,
    most recent first, with their amount (or the reason none is due) and whether a gesture
    already covers them (once per outage)."""
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
