"""Dunning (P6): what follows an unpaid invoice. Filled in by the payments work."""

from __future__ import annotations

from datetime import date

from raccord.core.events import Actor
from raccord.customers.models import Customer


def dunning_settle(*, customer: Customer, on: date, actor: Actor) -> None:
    """Called after any payment is recorded for ``customer``: closes the dunning cases whose
    invoice is now paid and reactivates lines suspended for them. Idempotent."""
    return None


def dunning_daily_run(*, on: date, actor: Actor) -> list[str]:
    """Dunning's daily job: suspensions whose date has come (policy ``dunning_suspend_days``).
    Returns what changed, one reference each. Filled in by the payments work."""
    return []
