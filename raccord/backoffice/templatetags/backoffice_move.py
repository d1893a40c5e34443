"""Template filter for the customer page: which contracts get a « Déménagement » link.

The rule (which statuses may move) stays in ``raccord.contracts.move``; the template only asks."""

from __future__ import annotations

from django import template

from raccord.contracts.models import Contract
from raccord.contracts.move import MOVABLE

register = template.Library()


@register.filter
def movable(contract: Contract) -> bool:
    return contract.status in MOVABLE
