"""The daily jobs, in one place (C4, C10, S2). Each one is idempotent: running a day twice, or
catching up several days at once, changes nothing more than running it once.

Order matters and mirrors the simulator's day: activations first (a contract activated by the
fallback today can be billed tomorrow), then terminations reaching their effective date, then
the equipment deadlines."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from raccord.contracts.models import Contract
from raccord.contracts.services import contract_activate
from raccord.contracts.termination import contract_termination_complete
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.equipment.services import equipment_deadlines_run

logger = logging.getLogger(__name__)
S = Contract.Status


@dataclass
class DailyReport:
    on: date
    activated: list[str] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    offers_switched: list[str] = field(default_factory=list)
    non_return_fees: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # What the jobs of other apps did, by job name (payments, network).
    other: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return (
            len(self.activated)
            + len(self.terminated)
            + len(self.offers_switched)
            + len(self.non_return_fees)
            + sum(len(items) for items in self.other.values())
        )


def activations_fallback_run(*, on: date, report: DailyReport, actor: Actor) -> None:
    """C4: equipment received ``activation_fallback_days`` ago and still no first connection →
    active on reception + fallback days."""
    days = timedelta(days=Policy.get().activation_fallback_days)
    due = Contract.objects.filter(
        status=S.EQUIPMENT_RECEIVED,
        activation_date__isnull=True,
        equipment_received_date__lte=on - days,
    ).order_by("equipment_received_date", "pk")
    for contract in due:
        assert contract.equipment_received_date is not None
        try:
            contract = contract_activate(
                contract=contract,
                on=contract.equipment_received_date + days,
                source="fallback",
                actor=actor,
            )
        except DomainError as exc:
            report.errors.append(f"{contract.reference} : {exc.message}")
            continue
        if contract.status == S.ACTIVE:
            report.activated.append(contract.reference)


def offer_changes_run(*, on: date, report: DailyReport, actor: Actor) -> None:
    """Offer changes recorded in advance take effect on their date D (C9)."""
    from raccord.contracts.offer_change import contract_offer_change_apply, offer_changes_due

    due = offer_changes_due(on=on)
    for contract in Contract.objects.filter(pk__in=due) if due else ():
        try:
            contract_offer_change_apply(contract=contract, on=on, actor=actor)
        except DomainError as exc:
            report.errors.append(f"{contract.reference} : {exc.message}")
        else:
            report.offers_switched.append(contract.reference)


def terminations_run(*, on: date, report: DailyReport, actor: Actor) -> None:
    """C10: the termination requests whose effective date has come."""
    due = Contract.objects.filter(
        status=S.TERMINATION_REQUESTED, termination_effective_date__lte=on
    ).order_by("termination_effective_date", "pk")
    for contract in due:
        contract = contract_termination_complete(contract=contract, on=on, actor=actor)
        if contract.status == S.TERMINATED:
            report.terminated.append(contract.reference)


def daily_run(*, on: date, actor: Actor | None = None) -> DailyReport:
    """Run every daily job for ``on``. Each change is its own transaction: one contract in
    error is reported and does not hold back the others."""
    actor = actor or Actor.system("Tâches quotidiennes")
    report = DailyReport(on=on)
    activations_fallback_run(on=on, report=report, actor=actor)
    offer_changes_run(on=on, report=report, actor=actor)
    terminations_run(on=on, report=report, actor=actor)
    for item in equipment_deadlines_run(on=on, actor=actor):
        report.non_return_fees.append(item.reference)
    # Payments (mandates in force, lapsed mandates, dunning), then the network (outages).
    from raccord.network.daily import network_daily_run
    from raccord.payments.daily import payments_daily_run

    payments_daily_run(on=on, report=report, actor=actor)
    network_daily_run(on=on, report=report, actor=actor)
    logger.info(
        "daily jobs",
        extra={
            "on": on.isoformat(),
            "activated": len(report.activated),
            "terminated": len(report.terminated),
            "non_return_fees": len(report.non_return_fees),
            "errors": len(report.errors),
        },
    )
    return report
