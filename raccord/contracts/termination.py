"""Termination (C10-C13, S2): what it costs, and the request that queues exactly that.

``termination_quote`` answers "combien coûte ma résiliation aujourd'hui ?" without writing
anything; ``contract_termination_request`` calls it and writes the quote it got, so the preview
and the real request can never disagree."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from raccord.billing.models import LineKind, PendingItem
from raccord.billing.services import pending_item_add
from raccord.contracts.commitment import add_months_same_day, commitment_regime
from raccord.contracts.models import Contract, Subscription
from raccord.contracts.services import _at, _locked
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import Event, Policy
from raccord.core.money import ZERO, round_half_up, to_fraction
from raccord.equipment.selectors import equipment_returns_awaited, equipment_units_held
from raccord.equipment.services import equipment_returns_cancel, equipment_returns_open

S = Contract.Status
EARLY_TERMINATION_LABEL = "Indemnité de résiliation anticipée"
TERMINATION_FEE_LABEL = "Frais de résiliation"
WEIGHT_FULL = Decimal("1")
# C11: what is still owed per remaining day after the first 12 months of the commitment.
WEIGHT_AFTER_12 = {
    "chatel": Decimal("0.25"),  # loi Chatel, commitments started before 2023
    "2023": Decimal("0"),  # loi 2022-1158
}
WEIGHT_AFTER_12_SUBSIDISED_2023 = Decimal("0.20")


# --- C10: the effective date ---------------------------------------------------------------


def termination_effective_date(*, requested_on: date, requested_date: date | None = None) -> date:
    """C10: the date asked for if later than the request, else the request + the notice."""
    if requested_date is not None and requested_date > requested_on:
        return requested_date
    return requested_on + timedelta(days=Policy.get().termination_notice_days)


# --- C11: the early-termination fee --------------------------------------------------------


@dataclass(frozen=True)
class FeeSegment:
    """Remaining days of one calendar month sharing one weight (C11, M3)."""

    start: date
    end: date
    weight: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def days_in_month(self) -> int:
        return calendar.monthrange(self.start.year, self.start.month)[1]

    def exact(self, monthly_price: Decimal) -> Fraction:
        return (
            to_fraction(monthly_price) * self.days / self.days_in_month * to_fraction(self.weight)
        )

    def as_data(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            "days_in_month": self.days_in_month,
            "weight": str(self.weight),
        }


@dataclass(frozen=True)
class EarlyTerminationFee:
    amount: Decimal
    regime: str | None
    segments: tuple[FeeSegment, ...] = ()


def _split(start: date, end: date, cut: date) -> list[tuple[date, date]]:
    """[start, end] split at month boundaries and before ``cut``."""
    spans = []
    current = start
    while current <= end:
        last = current.replace(day=calendar.monthrange(current.year, current.month)[1])
        if current < cut <= last:
            last = cut - timedelta(days=1)
        last = min(last, end)
        spans.append((current, last))
        current = last + timedelta(days=1)
    return spans


def early_termination_fee(
    *,
    monthly_price: Decimal,
    commitment_start: date | None,
    commitment_end: date | None,
    effective_date: date,
    subsidised_equipment: bool,
) -> EarlyTerminationFee:
    """C11: what the offer's monthly price would have cost from E+1 to the commitment end,
    day by day with the M3 prorata, each day weighted by its place in the commitment; exact
    (Fraction) and rounded once (M2). Zero-weight days are left out of the segments."""
    if commitment_start is None or commitment_end is None:
        return EarlyTerminationFee(amount=ZERO, regime=None)
    regime = commitment_regime(start=commitment_start)
    if effective_date >= commitment_end:
        return EarlyTerminationFee(amount=ZERO, regime=regime)
    after_12 = WEIGHT_AFTER_12[regime]
    if regime == "2023" and subsidised_equipment:
        after_12 = WEIGHT_AFTER_12_SUBSIDISED_2023
    # "within the first 12 months" = the days before the same day 12 months later.
    month_13 = add_months_same_day(commitment_start, 12)
    segments = tuple(
        FeeSegment(start=start, end=end, weight=WEIGHT_FULL if start < month_13 else after_12)
        for start, end in _split(effective_date + timedelta(days=1), commitment_end, month_13)
    )
    segments = tuple(s for s in segments if s.weight > 0)
    exact = sum((s.exact(monthly_price) for s in segments), start=Fraction(0))
    return EarlyTerminationFee(amount=round_half_up(exact), regime=regime, segments=segments)


# --- the quote -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EquipmentToReturn:
    model: str
    label: str
    serial: str
    non_return_fee: Decimal
    deadline: date
    reference: str = ""


@dataclass(frozen=True)
class TerminationQuote:
    """Everything a termination on ``requested_on`` costs and implies (C10-C13, S2)."""

    contract_id: int
    requested_on: date
    effective_date: date
    commitment_start: date | None
    commitment_end: date | None
    regime: str | None
    monthly_price: Decimal
    early_termination_fee: Decimal
    early_termination_segments: tuple[FeeSegment, ...]
    # C13: the fee the legitimate reason waived (0 when nothing was waived).
    early_termination_waived: Decimal
    legitimate_reason: str
    termination_fee: Decimal
    vat_rate: Decimal
    equipment_return_deadline: date
    equipment: tuple[EquipmentToReturn, ...] = field(default_factory=tuple)

    @property
    def total(self) -> Decimal:
        return self.early_termination_fee + self.termination_fee

    @property
    def in_commitment(self) -> bool:
        return self.commitment_end is not None and self.effective_date < self.commitment_end

    def early_termination_data(self) -> dict[str, Any]:
        """The ``data`` of the C11 line (billing-contract.md)."""
        return {
            "effective_date": self.effective_date.isoformat(),
            "commitment_start": self.commitment_start.isoformat()
            if self.commitment_start
            else None,
            "commitment_end": self.commitment_end.isoformat() if self.commitment_end else None,
            "regime": self.regime,
            "monthly_price": str(self.monthly_price),
            "segments": [s.as_data() for s in self.early_termination_segments],
        }


# A termination preview for a date further than this says nothing useful (commitments last 24
# months at most, C7) and keeps the input sane.
PREVIEW_MAX_DAYS = 2 * 366


def termination_preview_date_check(*, requested_date: date, today: date) -> None:
    """The date a termination preview is asked for: from ``today`` to about two years ahead.
    One rule for the back-office and the customer's previews; raises a French DomainError on
    the « date » field otherwise."""
    if requested_date < today:
        raise DomainError(
            _("Choisissez une date à partir d'aujourd'hui (%(day)s).")
            % {"day": today.strftime("%d/%m/%Y")},
            field="date",
        )
    if requested_date > today + timedelta(days=PREVIEW_MAX_DAYS):
        raise DomainError(
            _("Choisissez une date dans les deux prochaines années."),
            field="date",
        )


def _legitimate_reason_check(reason: str | None) -> str:
    if not reason:
        return ""
    allowed = Policy.get().legitimate_reasons
    if reason not in allowed:
        raise DomainError(
            "Ce motif ne fait pas partie des motifs légitimes de résiliation sans indemnité.",
            field="legitimate_reason",
        )
    return reason


def termination_quote(
    *,
    contract: Contract,
    on: date,
    requested_date: date | None = None,
    legitimate_reason: str | None = None,
) -> TerminationQuote:
    """Preview a termination requested on ``on`` (C10-C13, S2); writes nothing.

    For a contract whose termination is already requested, the quote is the one of that
    request (its dates and reason), i.e. exactly what was queued."""
    if contract.status in (S.TERMINATION_REQUESTED, S.TERMINATED):
        assert contract.termination_requested_on is not None
        assert contract.termination_effective_date is not None
        requested_on = contract.termination_requested_on
        effective = contract.termination_effective_date
        reason = contract.legitimate_reason
    elif contract.status == S.ACTIVE:
        requested_on = on
        effective = termination_effective_date(requested_on=on, requested_date=requested_date)
        reason = _legitimate_reason_check(legitimate_reason)
    elif contract.activation_date is None and contract.status not in (S.CANCELLED, S.WITHDRAWN):
        raise DomainError(
            "Ce contrat n'est pas encore en service : son annulation est gratuite.",
            field="contract",
        )
    else:
        raise DomainError("Ce contrat n'est plus en cours.", field="contract")
    fee = early_termination_fee(
        monthly_price=contract.monthly_price,
        commitment_start=contract.commitment_start,
        commitment_end=contract.commitment_end,
        effective_date=effective,
        subsidised_equipment=contract.subsidised_equipment,
    )
    regime = (
        commitment_regime(start=contract.commitment_start) if contract.commitment_start else None
    )
    deadline = effective + timedelta(days=Policy.get().equipment_return_days)
    awaited = {r.unit_id: r for r in equipment_returns_awaited(contract=contract)}
    return TerminationQuote(
        contract_id=contract.pk,
        requested_on=requested_on,
        effective_date=effective,
        commitment_start=contract.commitment_start,
        commitment_end=contract.commitment_end,
        regime=regime,
        monthly_price=contract.monthly_price,
        early_termination_fee=ZERO if reason else fee.amount,
        early_termination_segments=() if reason else fee.segments,
        early_termination_waived=fee.amount if reason else ZERO,
        legitimate_reason=reason,
        termination_fee=max(contract.termination_fee, ZERO),
        vat_rate=contract.vat_rate,
        equipment_return_deadline=deadline,
        equipment=tuple(
            EquipmentToReturn(
                model=u.model.code,
                label=u.model.label,
                serial=u.serial,
                non_return_fee=u.model.non_return_fee,
                # a unit already expected back (an exchange) keeps its own deadline
                deadline=awaited[u.pk].deadline if u.pk in awaited else deadline,
                reference=awaited[u.pk].reference if u.pk in awaited else "",
            )
            for u in equipment_units_held(contract=contract)
        ),
    )


# --- the request, its cancellation and its completion ---------------------------------------


def _request_number(contract: Contract) -> int:
    """1 for a contract's first termination request, 2 if one was cancelled before…: part of
    the pending items' keys, so that a request made again after a cancellation queues anew."""
    return (
        Event.objects.filter(
            subject_type="contract",
            subject_id=contract.pk,
            verb="contract.termination_requested",
        ).count()
        + 1
    )


@transaction.atomic
def contract_termination_request(
    *,
    contract: Contract,
    requested_on: date,
    requested_date: date | None = None,
    reason: str = "",
    legitimate_reason: str | None = None,
    proof: str = "",
    actor: Actor,
) -> Contract:
    """A termination request (C10-C13, S2), idempotent: a contract whose termination is already
    requested is returned as it is.

    Queues the early-termination fee (C11, unless a legitimate reason recorded by an agent with
    its proof waives it, C13) and the catalogue's termination fee (C12), both created on E;
    closes every open subscription on E (the run bills up to E and credits beyond, B3); opens
    the equipment returns due by E + policy days (S2). The contract stays
    ``termination_requested`` until E, when the daily job terminates it."""
    contract = _locked(contract)
    if contract.status in (S.TERMINATION_REQUESTED, S.TERMINATED):
        return contract
    if contract.status != S.ACTIVE:
        termination_quote(contract=contract, on=requested_on)  # raises the right message
    if legitimate_reason:
        if not actor.is_agent:
            raise DomainError(
                "Un motif légitime est enregistré par un conseiller, sur justificatif.",
                field="legitimate_reason",
            )
        if not proof.strip():
            raise DomainError(
                "Indiquez le justificatif du motif légitime.", field="legitimate_reason_proof"
            )
    quote = termination_quote(
        contract=contract,
        on=requested_on,
        requested_date=requested_date,
        legitimate_reason=legitimate_reason,
    )
    effective = quote.effective_date
    number = _request_number(contract)
    items: list[PendingItem] = []
    if quote.early_termination_fee > 0:
        items.append(
            pending_item_add(
                contract=contract,
                kind=LineKind.EARLY_TERMINATION,
                label=EARLY_TERMINATION_LABEL,
                amount=quote.early_termination_fee,
                vat_rate=contract.vat_rate,
                created_on=effective,
                product=contract.offer.code,
                period_start=effective + timedelta(days=1),
                period_end=quote.commitment_end,
                data=quote.early_termination_data(),
                key=f"c11:{contract.pk}:{number}",
            )
        )
    if quote.termination_fee > 0:
        items.append(
            pending_item_add(
                contract=contract,
                kind=LineKind.TERMINATION_FEE,
                label=TERMINATION_FEE_LABEL,
                amount=quote.termination_fee,
                vat_rate=contract.vat_rate,
                created_on=effective,
                product=contract.offer.code,
                data={"effective_date": effective.isoformat()},
                key=f"c12:{contract.pk}:{number}",
            )
        )
    closed = _subscriptions_close(contract=contract, end=effective)
    contract.status = S.TERMINATION_REQUESTED
    contract.termination_requested_on = requested_on
    contract.termination_effective_date = effective
    contract.termination_reason = reason.strip()[:300]
    contract.legitimate_reason = quote.legitimate_reason
    contract.legitimate_reason_proof = proof.strip()[:300] if quote.legitimate_reason else ""
    contract.save(
        update_fields=[
            "status",
            "termination_requested_on",
            "termination_effective_date",
            "termination_reason",
            "legitimate_reason",
            "legitimate_reason_proof",
        ]
    )
    returns = equipment_returns_open(
        contract=contract, deadline=quote.equipment_return_deadline, on=requested_on, actor=actor
    )
    event_record(
        actor=actor,
        verb="contract.termination_requested",
        at=_at(requested_on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Résiliation de {contract.reference} demandée, effective le {effective:%d/%m/%Y}"
        + (f" ; à payer : {quote.total} €" if quote.total else "")
        + (f" ; motif légitime : {quote.legitimate_reason}" if quote.legitimate_reason else ""),
        data={
            "requested_on": requested_on.isoformat(),
            "requested_date": requested_date.isoformat() if requested_date else None,
            "effective_date": effective.isoformat(),
            "reason": contract.termination_reason,
            "legitimate_reason": quote.legitimate_reason,
            "proof": contract.legitimate_reason_proof,
            "early_termination_fee": str(quote.early_termination_fee),
            "early_termination_waived": str(quote.early_termination_waived),
            "termination_fee": str(quote.termination_fee),
            "pending_items": [item.pk for item in items],
            "subscriptions_closed": closed,
            "equipment_returns": [r.reference for r in returns],
            "equipment_return_deadline": quote.equipment_return_deadline.isoformat(),
        },
    )
    if effective <= requested_on:
        contract = contract_termination_complete(contract=contract, on=requested_on, actor=actor)
    return contract


def _subscriptions_close(*, contract: Contract, end: date) -> list[dict[str, Any]]:
    """Every subscription running after ``end`` now ends on it; a subscription that would only
    start later (an offer change after E) ends the day before it starts (nothing owed). Returns
    what was changed, so that cancelling the request can put it back."""
    changed: list[dict[str, Any]] = []
    subs = Subscription.objects.select_for_update().filter(contract=contract)
    for sub in subs:
        if sub.end_date is not None and sub.end_date <= end:
            continue
        new_end = end if sub.start_date <= end else sub.start_date - timedelta(days=1)
        changed.append(
            {"id": sub.pk, "end_date": sub.end_date.isoformat() if sub.end_date else None}
        )
        sub.end_date = new_end
        sub.save(update_fields=["end_date"])
    return changed


@transaction.atomic
def contract_termination_cancel(*, contract: Contract, on: date, actor: Actor) -> Contract:
    """An agent cancels a termination request before its effective date: the subscriptions run
    again, the fees it queued are cancelled, the equipment returns are closed."""
    if not actor.is_agent:
        raise DomainError("Seul un conseiller peut annuler une demande de résiliation.")
    contract = _locked(contract)
    if contract.status == S.ACTIVE:
        return contract
    if contract.status != S.TERMINATION_REQUESTED:
        raise DomainError("Ce contrat n'a pas de demande de résiliation en cours.")
    assert contract.termination_effective_date is not None
    if on >= contract.termination_effective_date:
        raise DomainError(
            "La résiliation a pris effet le "
            f"{contract.termination_effective_date:%d/%m/%Y} : elle ne peut plus être annulée.",
            field="on",
        )
    request = (
        Event.objects.filter(
            subject_type="contract",
            subject_id=contract.pk,
            verb="contract.termination_requested",
        )
        .order_by("-id")
        .first()
    )
    data = request.data if request is not None else {}
    for row in data.get("subscriptions_closed", []):
        previous = date.fromisoformat(row["end_date"]) if row["end_date"] else None
        Subscription.objects.filter(pk=row["id"], contract=contract).update(end_date=previous)
    cancelled = PendingItem.objects.filter(
        pk__in=data.get("pending_items", []), document__isnull=True, cancelled=False
    ).update(cancelled=True)
    equipment_returns_cancel(contract=contract, on=on, actor=actor)
    effective = contract.termination_effective_date
    contract.status = S.ACTIVE
    contract.termination_requested_on = None
    contract.termination_effective_date = None
    contract.termination_reason = ""
    contract.legitimate_reason = ""
    contract.legitimate_reason_proof = ""
    contract.save(
        update_fields=[
            "status",
            "termination_requested_on",
            "termination_effective_date",
            "termination_reason",
            "legitimate_reason",
            "legitimate_reason_proof",
        ]
    )
    event_record(
        actor=actor,
        verb="contract.termination_cancelled",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Demande de résiliation de {contract.reference} (effet prévu le "
        f"{effective:%d/%m/%Y}) annulée",
        data={"effective_date": effective.isoformat(), "pending_items_cancelled": cancelled},
    )
    return contract


@transaction.atomic
def contract_termination_complete(*, contract: Contract, on: date, actor: Actor) -> Contract:
    """The termination takes effect (C10): run by the daily job once E is reached."""
    contract = _locked(contract)
    if contract.status != S.TERMINATION_REQUESTED:
        return contract
    effective = contract.termination_effective_date
    assert effective is not None
    if effective > on:
        return contract
    contract.status = S.TERMINATED
    contract.save(update_fields=["status"])
    event_record(
        actor=actor,
        verb="contract.terminated",
        at=_at(effective),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=f"Contrat {contract.reference} résilié le {effective:%d/%m/%Y}",
        data={"effective_date": effective.isoformat()},
    )
    return contract
