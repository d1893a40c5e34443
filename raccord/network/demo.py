"""The network part of the demo: a NAS client for ``radclient`` on this machine, a month of
sessions and usage for the active demo lines (through the same store as the RADIUS server),
an outage with its gesture to propose, and a current incident on one demo subscriber's
commune. Loaded once: a second call, on any date, changes nothing."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from raccord.contracts.models import Contract
from raccord.core.events import Actor
from raccord.network.accounting import INTERIM, START, STOP, AccountingRecord, AccountingStore
from raccord.network.incidents import incident_declare
from raccord.network.models import NasClient
from raccord.network.outages import outages_detect

PARIS = ZoneInfo("Europe/Paris")
DEMO_NAS_NAME = "BNG de démonstration (cette machine)"
DEMO_NAS_SECRET = "demo-radius-2027"  # noqa: S105 - printed on purpose: demo only
DEMO_NAS_ADDRESS = "192.0.2.1"
DAYS = 30


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def _volume(login: str, day: date) -> tuple[int, int]:
    """A plausible day (0.3 to 6 GB received, a tenth of it sent), the same at each load."""
    seed = int(hashlib.sha256(f"{login}{day}".encode()).hexdigest()[:8], 16)
    received = 300_000_000 + seed % 5_700_000_000
    return received // 10, received


def _line_records(contract: Contract, *, today: date, gap: tuple[date, date] | None) -> list:
    """One session a day from 7:00 to 23:30 with interims at 13:00 and 19:00; yesterday's is
    still open (a line in service is connected, not "disconnected since last night")."""
    assert contract.activation_date is not None
    records: list[AccountingRecord] = []
    first = max(contract.activation_date, today - timedelta(days=DAYS))
    day = first
    while day < today:
        if gap is not None and gap[0] <= day <= gap[1]:
            day += timedelta(days=1)
            continue
        sent, received = _volume(contract.network_login, day)
        start = _at(day, 7)
        session = f"demo-{contract.network_login}-{day:%Y%m%d}"
        steps = [
            (START, start, 0.0),
            (INTERIM, _at(day, 13), 0.35),
            (INTERIM, _at(day, 19), 0.7),
            (STOP, _at(day, 23, 30), 1.0),
        ]
        if day == today - timedelta(days=1):
            steps.pop()
        for status, at, share in steps:
            records.append(
                AccountingRecord(
                    status=status,
                    nas=DEMO_NAS_ADDRESS,
                    at=at,
                    session_id=session,
                    login=contract.network_login,
                    session_time=int((at - start).total_seconds()),
                    input_octets=int(sent * share),
                    output_octets=int(received * share),
                    framed_ip="100.64.12.34",
                    terminate_cause="User-Request" if status == STOP else "",
                )
            )
        day += timedelta(days=1)
    return records


def network_demo_load(*, today: date) -> list[str]:
    """Load the network demo data as of ``today``; returns what was created."""
    if NasClient.objects.filter(name=DEMO_NAS_NAME).exists():
        return []
    created = []
    with transaction.atomic():
        NasClient.objects.create(
            name=DEMO_NAS_NAME,
            network="127.0.0.1",
            secret=DEMO_NAS_SECRET,
            description="radclient sur la machine de démonstration (NAS-IP-Address 192.0.2.1)",
        )
        created.append(f"client RADIUS 127.0.0.1, secret {DEMO_NAS_SECRET}")
        store = AccountingStore(actor=Actor.system("Démonstration"))
        lines = list(
            Contract.objects.filter(
                status=Contract.Status.ACTIVE, activation_date__isnull=False
            ).order_by("signed_at", "pk")
        )
        for index, contract in enumerate(lines):
            # The first line was cut for three days ten days ago: an outage to compensate.
            gap = (today - timedelta(days=12), today - timedelta(days=10)) if index == 0 else None
            records = _line_records(contract, today=today, gap=gap)
            for chunk in range(0, len(records), 500):
                store.store(records[chunk : chunk + 500])
            created.append(f"{len(records)} relevés pour {contract.reference}")
        if lines:
            outages_detect(on=today - timedelta(days=8))
        # A relay under maintenance on the commune of a demo subscriber, until tomorrow.
        target = next(
            (c for c in lines if c.installation_address.code_insee == "88413"),
            lines[-1] if lines else None,
        )
        if target is not None:
            commune = target.installation_address.code_insee
            incident_declare(
                title="Relais de la Madeleine : remplacement d'une antenne",
                relay_site="La Madeleine",
                communes=[commune],
                started_at=_at(today - timedelta(days=1), 14),
                expected_end_at=_at(today + timedelta(days=1), 18),
                public_message=(
                    "Une antenne du relais est remplacée : la connexion peut être coupée par "
                    "moments. Inutile de redémarrer votre box."
                ),
                actor=Actor.system("Démonstration"),
            )
            created.append(f"incident en cours sur la commune {commune}")
    return created
