"""Dunning (P6): what follows an unpaid invoice. Filled in by the payments work."""

from __future__ import annotations

from datetime import date

from raccord.core.events import Actor
from raccord.customers.models import Customer


def dunning_settle(*, customer: Customer, on: date, actor: Actor) -> None:
    """Called after any payment is recorded for ``customer``: closes the dunning cases whose
    invoice is now paid and reactivates lines suspended for them. Idempotent."""
    return None
