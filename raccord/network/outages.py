"""Outages found in the sessions (N3): spans of more than the policy's hours (48) during which
an active line had no session.

The daily job of day D looks at the sessions up to D 00:00 (Paris) over the last
``LOOKBACK_DAYS`` days, plus the end of each line's last session before that window. A line
covers the time from each session's start to its stop (or its last record while it has no
stop); a hole longer than the threshold is an outage, ongoing while no session follows it.
Lines never connected are not scanned (nothing says they should be), nor suspended lines (the
walled garden is not an outage). The outages of the window are brought in line with the
sessions each day: a late record that fills a hole removes or shortens the outage (N1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce

from raccord.contracts.models import Contract
from raccord.contracts.suspension import SUSPENDABLE
from raccord.core.models import Policy
from raccord.network.models import AccountingSession, Outage

PARIS = ZoneInfo("Europe/Paris")
LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class OutageSpan:
    contract_id: int
    start: datetime
    end: datetime | None


def _live_contracts() -> Q:
    return Q(
        contract__status__in=list(SUSPENDABLE),
        contract__suspended_on__isnull=True,
        contract__activation_date__isnull=False,
    )


def outage_spans(*, as_of: datetime, since: datetime, threshold: timedelta) -> Iterator[OutageSpan]:
    """The holes longer than ``threshold`` in the live lines' sessions that end after
    ``since`` or still last at ``as_of``; two queries whatever the number of lines."""
    live = _live_contracts()
    coverage_end = Coalesce("stopped_at", "last_record_at")
    before = dict(
        AccountingSession.objects.filter(live, started_at__lt=since)
        .values("contract_id")
        .annotate(end=Max(coverage_end))
        .values_list("contract_id", "end")
    )
    activation = dict(
        Contract.objects.filter(
            status__in=list(SUSPENDABLE),
            suspended_on__isnull=True,
            activation_date__isnull=False,
        ).values_list("pk", "activation_date")
    )
    rows = (
        AccountingSession.objects.filter(live, started_at__lt=as_of)
        .filter(
            Q(started_at__gte=since)
            | Q(stopped_at__gte=since)
            | Q(stopped_at__isnull=True, last_record_at__gte=since)
        )
        .order_by("contract_id", "started_at")
        .values_list("contract_id", "started_at", "stopped_at", "last_record_at")
        .iterator(chunk_size=5000)
    )
    seen: set[int] = set()
    current: int | None = None
    cursor: datetime | None = None

    def close(contract_id: int, cursor: datetime | None) -> Iterator[OutageSpan]:
        if cursor is not None:
            start = floor(contract_id, cursor)
            if as_of - start > threshold:
                yield OutageSpan(contract_id, start, None)

    def floor(contract_id: int, moment: datetime) -> datetime:
        activated = activation.get(contract_id)
        if activated is None:
            return moment
        return max(moment, datetime.combine(activated, time(0), PARIS))

    for contract_id, started, stopped, last in rows:
        if contract_id != current:
            if current is not None:
                yield from close(current, cursor)
            current = contract_id
            seen.add(contract_id)
            cursor = before.get(contract_id)
        end = stopped or last
        if cursor is not None and started > cursor:
            start = floor(contract_id, cursor)
            if started - start > threshold and started > since:
                yield OutageSpan(contract_id, start, started)
        if cursor is None or end > cursor:
            cursor = end
    if current is not None:
        yield from close(current, cursor)
    # Lines whose last session ended before the window and none since.
    for contract_id, end in before.items():
        if contract_id not in seen and end is not None:
            yield from close(contract_id, end)


@transaction.atomic
def outages_detect(*, on: date) -> list[str]:
    """Bring the detected outages in line with the sessions as of ``on`` 00:00 (Paris).
    Idempotent. Returns a line per outage found, ended or removed, for the daily report."""
    as_of = datetime.combine(on, time(0), PARIS)
    since = as_of - timedelta(days=LOOKBACK_DAYS)
    threshold = timedelta(hours=Policy.get().outage_threshold_hours)
    found = {
        (span.contract_id, span.start): span
        for span in outage_spans(as_of=as_of, since=since, threshold=threshold)
    }
    existing = {
        (o.contract_id, o.started_at): o
        for o in Outage.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=since)
        ).select_related("contract")
    }
    references = dict(
        Contract.objects.filter(
            pk__in={key[0] for key in found} | {key[0] for key in existing}
        ).values_list("pk", "reference")
    )
    report: list[str] = []
    new = []
    for key, span in found.items():
        outage = existing.pop(key, None)
        reference = references.get(span.contract_id, str(span.contract_id))
        when = f"{span.start.astimezone(PARIS):%d/%m/%Y %H:%M}"
        if outage is None:
            new.append(
                Outage(
                    contract_id=span.contract_id,
                    started_at=span.start,
                    ended_at=span.end,
                    detected_on=on,
                )
            )
            state = "en cours" if span.end is None else "terminée"
            report.append(f"{reference} : coupure depuis le {when} ({state})")
        elif outage.ended_at != span.end:
            outage.ended_at = span.end
            outage.save(update_fields=["ended_at"])
            report.append(f"{reference} : coupure du {when} terminée")
    Outage.objects.bulk_create(new)
    # Outages the sessions no longer show (records arrived late): removed.
    for outage in existing.values():
        if outage.contract.status in SUSPENDABLE and outage.contract.suspended_on is None:
            reference = references.get(outage.contract_id, str(outage.contract_id))
            report.append(
                f"{reference} : coupure du {outage.started_at.astimezone(PARIS):%d/%m/%Y %H:%M}"
                " annulée (sessions reçues depuis)"
            )
            outage.delete()
    return report
