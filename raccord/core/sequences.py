from __future__ import annotations

from django.db import transaction

from raccord.core.models import Sequence


def sequence_next(name: str) -> int:
    """The next number of series ``name``; must run inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside a transaction")
    Sequence.objects.get_or_create(name=name)
    seq = Sequence.objects.select_for_update().get(name=name)
    seq.value += 1
    seq.save(update_fields=["value"])
    return seq.value
