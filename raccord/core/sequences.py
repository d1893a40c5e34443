from __future__ import annotations

from django.db import transaction

from raccord.core.models import Sequence


def sequence_take(name: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers of series ``name``; returns the first one.

    Must run inside the transaction that uses the numbers: the row lock is held until it
    commits, so concurrent workers never share a number, and a rollback gives them back (no gap)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_take must run inside a transaction")
    Sequence.objects.get_or_create(name=name)
    seq = Sequence.objects.select_for_update().get(name=name)
    first = seq.value + 1
    seq.value += count
    seq.save(update_fields=["value"])
    return first


def sequence_next(name: str) -> int:
    """The next number of series ``name``; must run inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside a transaction")
    return sequence_take(name, 1)
