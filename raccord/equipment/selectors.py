"""Reads about equipment: what a subscriber has to send back (S2)."""

from __future__ import annotations

from raccord.contracts.models import Contract
from raccord.equipment.models import EquipmentReturn, EquipmentUnit

# Units the subscriber still holds: in use, or expected back.
HELD = (
    EquipmentUnit.Status.SHIPPED,
    EquipmentUnit.Status.INSTALLED,
    EquipmentUnit.Status.AWAITING_RETURN,
)


def equipment_units_held(*, contract: Contract) -> list[EquipmentUnit]:
    """The units lent to ``contract`` that have not come back yet, with their model."""
    return list(
        EquipmentUnit.objects.filter(contract=contract, status__in=HELD)
        .select_related("model")
        .order_by("model__code", "serial")
    )


def equipment_returns_awaited(*, contract: Contract) -> list[EquipmentReturn]:
    """The returns still awaited for ``contract``, earliest deadline first."""
    return list(
        EquipmentReturn.objects.filter(contract=contract, outcome=EquipmentReturn.Outcome.OPEN)
        .select_related("unit__model")
        .order_by("deadline", "pk")
    )
