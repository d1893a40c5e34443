"""Equipment writes: units lent to a contract, their reuse by new occupants (C14), exchanges
and returns with their non-return fee and its refund (S2).

Each service is atomic, locks the row it changes, returns early when the change is already
made, and records an event in the customer's history. Dates are parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from raccord.billing.models import LineKind
from raccord.billing.services import pending_item_add
from raccord.catalog.models import EquipmentModel
from raccord.contracts.models import Contract
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import Policy
from raccord.core.sequences import sequence_next
from raccord.eligibility.models import Premises
from raccord.equipment.models import EquipmentReturn, EquipmentUnit

PARIS = ZoneInfo("Europe/Paris")
U = EquipmentUnit.Status
R = EquipmentReturn.Outcome
# Units a subscriber has in hand (or on their roof).
IN_USE = (U.SHIPPED, U.INSTALLED)
# A contract that no longer uses its units: new occupants may take them over (C14).
LEFT = (
    Contract.Status.TERMINATION_REQUESTED,
    Contract.Status.TERMINATED,
    Contract.Status.CANCELLED,
    Contract.Status.WITHDRAWN,
)


def _at(day: date) -> datetime:
    """Business events known only by their date are recorded at noon, Paris time."""
    return datetime.combine(day, time(12, 0), tzinfo=PARIS)


def _lock_contract(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().get(pk=contract.pk)


def _model(model: EquipmentModel | str) -> EquipmentModel:
    if isinstance(model, EquipmentModel):
        return model
    found = EquipmentModel.objects.filter(code=model).first()
    if found is None:
        raise DomainError(f"Modèle d'équipement inconnu : {model}.", field="models")
    return found


def _premises_of(contract: Contract) -> Premises | None:
    if contract.premises_id is not None:
        return contract.premises
    return Premises.objects.filter(address_id=contract.installation_address_id).first()


def _serial_new(model: EquipmentModel) -> str:
    return f"{model.code}-{sequence_next('equipment_serial'):08d}"


def _return_reference() -> str:
    return f"RM-{sequence_next('equipment_return'):08d}"


@transaction.atomic
def equipment_units_assign(
    *,
    contract: Contract,
    models: Sequence[EquipmentModel | str],
    on: date,
    actor: Actor | None = None,
    status: str = U.INSTALLED,
    serials: Sequence[str] | None = None,
) -> list[EquipmentUnit]:
    """Lend one unit of each model to ``contract`` (kit shipped or installer visit).

    Idempotent per model: a model the contract already has in use is not lent twice."""
    actor = actor or Actor.system()
    contract = _lock_contract(contract)
    if status not in IN_USE:
        raise ValueError("a unit is assigned shipped or installed")
    in_use = list(EquipmentUnit.objects.filter(contract=contract, status__in=IN_USE))
    premises = _premises_of(contract)
    created: list[EquipmentUnit] = []
    for index, item in enumerate(models):
        model = _model(item)
        already = next((u for u in in_use if u.model_id == model.pk), None)
        if already is not None:
            in_use.remove(already)
            continue
        serial = serials[index] if serials else _serial_new(model)
        created.append(
            EquipmentUnit.objects.create(
                model=model,
                serial=serial,
                contract=contract,
                premises=premises,
                status=status,
                delivered_on=on,
            )
        )
    if created:
        event_record(
            actor=actor,
            verb="equipment.assigned",
            at=_at(on),
            subject_type="contract",
            subject_id=contract.pk,
            customer_id=contract.customer_id,
            summary=f"Matériel confié pour {contract.reference} : "
            + ", ".join(f"{u.model.label} n° {u.serial}" for u in created),
            data={"units": [{"model": u.model.code, "serial": u.serial} for u in created]},
        )
    return created


@transaction.atomic
def equipment_premises_attach(
    *, contract: Contract, on: date, actor: Actor | None = None
) -> list[EquipmentUnit]:
    """C14: new occupants of equipped premises reuse the units installed there.

    Takes over the units left at the premises by a contract that has ended (or is ending):
    they are attached to ``contract`` and the former subscriber's pending return is closed
    without any fee. Idempotent: units already attached to ``contract`` are left alone."""
    actor = actor or Actor.system()
    contract = _lock_contract(contract)
    premises = _premises_of(contract)
    if premises is None:
        return []
    units = list(
        EquipmentUnit.objects.select_for_update(of=("self",))
        .filter(premises=premises, status__in=(*IN_USE, U.AWAITING_RETURN))
        .exclude(contract=contract)
        .select_related("contract", "model")
    )
    taken = [u for u in units if u.contract is None or u.contract.status in LEFT]
    for unit in taken:
        previous = unit.contract
        for open_return in EquipmentReturn.objects.select_for_update().filter(
            unit=unit, outcome=R.OPEN
        ):
            open_return.outcome = R.TRANSFERRED
            open_return.closed_on = on
            open_return.save(update_fields=["outcome", "closed_on"])
            event_record(
                actor=actor,
                verb="equipment.return_transferred",
                at=_at(on),
                subject_type="equipment_return",
                subject_id=open_return.pk,
                customer_id=open_return.contract.customer_id,
                summary=f"Retour {open_return.reference} clos : {unit.model.label} n° "
                f"{unit.serial} repris par les nouveaux occupants du logement",
                data={"reference": open_return.reference, "to_contract": contract.reference},
            )
        unit.contract = contract
        unit.status = U.INSTALLED
        unit.save(update_fields=["contract", "status"])
        event_record(
            actor=actor,
            verb="equipment.transferred",
            at=_at(on),
            subject_type="contract",
            subject_id=contract.pk,
            customer_id=contract.customer_id,
            summary=f"{unit.model.label} n° {unit.serial} déjà installé dans le logement, "
            f"rattaché à {contract.reference}",
            data={
                "serial": unit.serial,
                "model": unit.model.code,
                "from_contract": previous.reference if previous else None,
            },
        )
    return taken


def _return_open(
    *, contract: Contract, unit: EquipmentUnit, reason: str, deadline: date, on: date
) -> EquipmentReturn:
    existing = EquipmentReturn.objects.filter(unit=unit, outcome=R.OPEN).first()
    if existing is not None:
        return existing
    unit.status = U.AWAITING_RETURN
    unit.save(update_fields=["status"])
    return EquipmentReturn.objects.create(
        unit=unit,
        contract=contract,
        reference=_return_reference(),
        reason=reason,
        deadline=deadline,
        opened_on=on,
    )


def equipment_returns_open(
    *, contract: Contract, deadline: date, on: date, actor: Actor
) -> list[EquipmentReturn]:
    """S2 after a termination: every unit the subscriber has must come back by ``deadline``.

    Runs inside the caller's transaction (the termination request); idempotent per unit."""
    units = list(
        EquipmentUnit.objects.select_for_update(of=("self",))
        .filter(contract=contract, status__in=IN_USE)
        .select_related("model")
    )
    returns = [
        _return_open(
            contract=contract,
            unit=unit,
            reason=EquipmentReturn.Reason.TERMINATION,
            deadline=deadline,
            on=on,
        )
        for unit in units
    ]
    if returns:
        event_record(
            actor=actor,
            verb="equipment.returns_opened",
            at=_at(on),
            subject_type="contract",
            subject_id=contract.pk,
            customer_id=contract.customer_id,
            summary=f"Matériel à retourner au plus tard le {deadline:%d/%m/%Y} : "
            + ", ".join(f"{r.unit.model.label} ({r.reference})" for r in returns),
            data={"deadline": deadline.isoformat(), "references": [r.reference for r in returns]},
        )
    return returns


def equipment_returns_cancel(*, contract: Contract, on: date, actor: Actor) -> int:
    """The termination request was withdrawn: its open returns are closed, the units stay."""
    returns = list(
        EquipmentReturn.objects.select_for_update(of=("self",))
        .filter(contract=contract, outcome=R.OPEN, reason=EquipmentReturn.Reason.TERMINATION)
        .select_related("unit")
    )
    for item in returns:
        item.outcome = R.CANCELLED
        item.closed_on = on
        item.save(update_fields=["outcome", "closed_on"])
        item.unit.status = U.INSTALLED
        item.unit.save(update_fields=["status"])
    if returns:
        event_record(
            actor=actor,
            verb="equipment.returns_cancelled",
            at=_at(on),
            subject_type="contract",
            subject_id=contract.pk,
            customer_id=contract.customer_id,
            summary="Retours de matériel annulés : " + ", ".join(r.reference for r in returns),
            data={"references": [r.reference for r in returns]},
        )
    return len(returns)


@transaction.atomic
def equipment_exchange(
    *,
    contract: Contract,
    models: Sequence[EquipmentModel | str],
    delivered: date,
    actor: Actor,
) -> list[EquipmentReturn]:
    """Replace the subscriber's units of ``models`` (S2): the replacements are installed, the
    old units must come back within policy ``exchange_return_days`` counted from the day the
    replacements were delivered. Idempotent: the same exchange recorded twice returns the
    returns opened the first time."""
    contract = _lock_contract(contract)
    deadline = delivered + timedelta(days=Policy.get().exchange_return_days)
    result: list[EquipmentReturn] = []
    for item in models:
        model = _model(item)
        old = (
            EquipmentUnit.objects.select_for_update(of=("self",))
            .filter(contract=contract, model=model, status__in=IN_USE)
            .exclude(delivered_on=delivered)
            .order_by("id")
            .first()
        )
        if old is None:
            done = EquipmentReturn.objects.filter(
                contract=contract,
                unit__model=model,
                reason=EquipmentReturn.Reason.EXCHANGE,
                deadline=deadline,
            ).first()
            if done is not None:
                result.append(done)
                continue
            raise DomainError(
                f"Ce contrat n'a pas d'équipement « {model.label} » à échanger.", field="models"
            )
        replacement = EquipmentUnit.objects.create(
            model=model,
            serial=_serial_new(model),
            contract=contract,
            premises=old.premises,
            status=U.INSTALLED,
            delivered_on=delivered,
        )
        # The old unit has left the premises: new occupants cannot take it over (C14).
        old.premises = None
        old.save(update_fields=["premises"])
        returned = _return_open(
            contract=contract,
            unit=old,
            reason=EquipmentReturn.Reason.EXCHANGE,
            deadline=deadline,
            on=delivered,
        )
        result.append(returned)
        event_record(
            actor=actor,
            verb="equipment.exchanged",
            at=_at(delivered),
            subject_type="contract",
            subject_id=contract.pk,
            customer_id=contract.customer_id,
            summary=f"{model.label} échangé (n° {old.serial} → n° {replacement.serial}) ; "
            f"ancien matériel à retourner au plus tard le {deadline:%d/%m/%Y} "
            f"({returned.reference})",
            data={
                "model": model.code,
                "old_serial": old.serial,
                "new_serial": replacement.serial,
                "delivered": delivered.isoformat(),
                "deadline": deadline.isoformat(),
                "reference": returned.reference,
            },
        )
    return result


def _fee_data(item: EquipmentReturn) -> dict[str, str]:
    return {
        "model": item.unit.model.code,
        "serial": item.unit.serial,
        "deadline": item.deadline.isoformat(),
        "return_reference": item.reference,
    }


def _fee_create(*, item: EquipmentReturn, actor: Actor) -> EquipmentReturn:
    """S2: the model's non-return fee, created the day after the deadline (idempotent)."""
    unit = item.unit
    model = unit.model
    created_on = item.deadline + timedelta(days=1)
    if item.fee_id is None and model.non_return_fee > 0:
        fee = pending_item_add(
            contract=item.contract,
            kind=LineKind.NON_RETURN_FEE,
            label=f"Matériel non restitué : {model.label} (n° {unit.serial})",
            amount=model.non_return_fee,
            vat_rate=model.vat_rate,
            created_on=created_on,
            product=model.code,
            data=_fee_data(item),
            key=f"s2:{item.pk}",
        )
        item.fee = fee
        item.save(update_fields=["fee"])
    if unit.status == U.AWAITING_RETURN:
        unit.status = U.LOST
        unit.save(update_fields=["status"])
    event_record(
        actor=actor,
        verb="equipment.non_return_fee",
        at=_at(created_on),
        subject_type="equipment_return",
        subject_id=item.pk,
        customer_id=item.contract.customer_id,
        summary=f"{model.label} n° {unit.serial} non retourné au {item.deadline:%d/%m/%Y} "
        f"({item.reference})"
        + (f" : frais de non-restitution de {model.non_return_fee} €" if item.fee_id else ""),
        data={**_fee_data(item), "amount": str(model.non_return_fee)},
    )
    return item


@transaction.atomic
def equipment_non_return_fee(
    *, return_: EquipmentReturn, on: date, actor: Actor | None = None
) -> EquipmentReturn:
    """S2 for one return: not back by its deadline (a return on the deadline day is in time)
    → the non-return fee, created the day after the deadline. Nothing when ``on`` is not yet
    past the deadline or the unit is back; idempotent."""
    actor = actor or Actor.system()
    item = (
        EquipmentReturn.objects.select_for_update(of=("self",))
        .select_related("unit__model", "contract")
        .get(pk=return_.pk)
    )
    if item.outcome != R.OPEN or on <= item.deadline:
        return item
    if item.fee_id is not None or item.unit.status == U.LOST:
        return item
    return _fee_create(item=item, actor=actor)


def equipment_deadlines_run(*, on: date, actor: Actor | None = None) -> list[EquipmentReturn]:
    """The daily job of S2: every open return past its deadline gets its fee (idempotent)."""
    due = (
        EquipmentReturn.objects.filter(outcome=R.OPEN, deadline__lt=on, fee__isnull=True)
        .exclude(unit__status=U.LOST)
        .order_by("deadline", "pk")
    )
    return [equipment_non_return_fee(return_=item, on=on, actor=actor) for item in due]


def _refund(*, item: EquipmentReturn, on: date, actor: Actor) -> EquipmentReturn:
    if item.refund_id is not None or item.fee is None or item.fee.cancelled:
        return item
    data = {
        **_fee_data(item),
        "returned_on": item.returned_on.isoformat() if item.returned_on else None,
        "deposit_date": item.deposit_date.isoformat() if item.deposit_date else None,
    }
    refund = pending_item_add(
        contract=item.contract,
        kind=LineKind.NON_RETURN_REFUND,
        label=f"Remboursement des frais de non-restitution : {item.unit.model.label} "
        f"(n° {item.unit.serial})",
        amount=-item.fee.amount,
        vat_rate=item.fee.vat_rate,
        created_on=on,
        product=item.unit.model.code,
        data=data,
        key=f"s2r:{item.pk}",
    )
    item.refund = refund
    item.save(update_fields=["refund"])
    event_record(
        actor=actor,
        verb="equipment.non_return_refund",
        at=_at(on),
        subject_type="equipment_return",
        subject_id=item.pk,
        customer_id=item.contract.customer_id,
        summary=f"Retour {item.reference} confirmé (dépôt le {item.deposit_date:%d/%m/%Y}) : "
        f"frais de non-restitution remboursés ({item.fee.amount} €)",
        data={**data, "amount": str(-item.fee.amount)},
    )
    return item


@transaction.atomic
def equipment_return_record(
    *,
    return_: EquipmentReturn,
    returned_on: date,
    deposit_date: date | None = None,
    actor: Actor,
) -> EquipmentReturn:
    """The unit of ``return_`` is back (S2). On time (by the deadline, inclusive): nothing is
    charged. Late: the non-return fee stands (created now if the daily job has not yet run);
    with a proof of deposit recorded by an agent it is refunded at once, else an agent can
    confirm it later with ``equipment_return_confirm``. Idempotent."""
    item = (
        EquipmentReturn.objects.select_for_update(of=("self",))
        .select_related("unit__model", "contract", "fee")
        .get(pk=return_.pk)
    )
    if item.outcome == R.RETURNED:
        return item
    if item.outcome != R.OPEN:
        raise DomainError(
            f"Le retour {item.reference} est clos : aucun matériel n'est attendu.",
            field="reference",
        )
    if returned_on < item.opened_on:
        raise DomainError(
            "La date de réception précède l'ouverture du retour.", field="returned_on"
        )
    if deposit_date is not None and deposit_date > returned_on:
        raise DomainError(
            "La date de dépôt ne peut pas suivre la date de réception.", field="deposit_date"
        )
    if returned_on > item.deadline and item.fee_id is None and item.unit.status != U.LOST:
        item = _fee_create(item=item, actor=actor)
    item.returned_on = returned_on
    item.deposit_date = deposit_date
    item.outcome = R.RETURNED
    item.closed_on = returned_on
    item.save(update_fields=["returned_on", "deposit_date", "outcome", "closed_on"])
    unit = item.unit
    unit.status = U.RETURNED
    unit.premises = None
    unit.save(update_fields=["status", "premises"])
    late = returned_on > item.deadline
    event_record(
        actor=actor,
        verb="equipment.returned",
        at=_at(returned_on),
        subject_type="equipment_return",
        subject_id=item.pk,
        customer_id=item.contract.customer_id,
        summary=f"{unit.model.label} n° {unit.serial} reçu le {returned_on:%d/%m/%Y} "
        f"({item.reference}, {'en retard' if late else 'dans les délais'})",
        data={
            "reference": item.reference,
            "returned_on": returned_on.isoformat(),
            "deposit_date": deposit_date.isoformat() if deposit_date else None,
            "late": late,
        },
    )
    if late and deposit_date is not None and actor.is_agent:
        item = _refund(item=item, on=returned_on, actor=actor)
    return item


@transaction.atomic
def equipment_return_confirm(
    *,
    return_: EquipmentReturn,
    on: date,
    actor: Actor,
    deposit_date: date | None = None,
) -> EquipmentReturn:
    """An agent confirms a late return with its proof of deposit: the non-return fee is
    refunded (S2), on the next document. Idempotent."""
    if not actor.is_agent:
        raise DomainError("Seul un conseiller peut confirmer un retour de matériel.")
    item = (
        EquipmentReturn.objects.select_for_update(of=("self",))
        .select_related("unit__model", "contract", "fee")
        .get(pk=return_.pk)
    )
    if item.outcome != R.RETURNED:
        raise DomainError(
            f"Le matériel du retour {item.reference} n'a pas encore été reçu.",
            field="reference",
        )
    if deposit_date is not None and item.deposit_date is None:
        assert item.returned_on is not None
        if deposit_date > item.returned_on:
            raise DomainError(
                "La date de dépôt ne peut pas suivre la date de réception.", field="deposit_date"
            )
        item.deposit_date = deposit_date
        item.save(update_fields=["deposit_date"])
    if item.deposit_date is None:
        raise DomainError(
            "Indiquez la date du justificatif de dépôt du colis.", field="deposit_date"
        )
    return _refund(item=item, on=on, actor=actor)
