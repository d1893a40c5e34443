"""Template helpers shared by the public site, the sign-up funnel and the customer emails."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template

from raccord.contracts.selectors import withdrawal_deadline as contract_withdrawal_deadline
from raccord.core.masking import iban_mask
from raccord.core.models import Policy

register = template.Library()

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"


@register.filter
def euros(value: Decimal | int | str | None) -> str:
    """1234.5 → « 1 234,50 € ». Always the French format, whatever language the browser
    asks for: amounts in euros on a French contract read the French way (no-break spaces)."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = f"{abs(amount):,.2f}".split(".")
    whole = whole.replace(",", NARROW_NBSP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole},{cents}{NBSP}€"


@register.filter
def masked_iban(value: str | None) -> str:
    return iban_mask(value) if value else ""


@register.simple_tag
def withdrawal_deadline(signup_date: date | None) -> date | None:
    """Last day of the legal withdrawal period (C6: sign-up date + policy days)."""
    if signup_date is None:
        return None
    return contract_withdrawal_deadline(signup_date=signup_date)


@register.simple_tag
def raccord_policy() -> Policy:
    """The operator's policies (withdrawal days, activation fallback…) for customer texts."""
    return Policy.get()


@register.inclusion_tag("site/_field.html", takes_context=True)
def field(
    context: template.Context,
    name: str,
    label: str,
    type: str = "text",
    help: str = "",
    autocomplete: str = "",
    required: bool = True,
    inputmode: str = "",
    maxlength: int | None = None,
    **attrs: Any,
) -> dict[str, Any]:
    """One labelled input with its help and error, bound for assistive technologies:
    the error and help ids are listed in aria-describedby, aria-invalid marks an error."""
    values = context.get("values") or {}
    errors = context.get("errors") or {}
    value = values.get(name, "")
    return {
        "name": name,
        "id": f"id_{name}",
        "label": label,
        "type": type,
        "help": help,
        "autocomplete": autocomplete,
        "required": required,
        "inputmode": inputmode,
        "maxlength": maxlength,
        "value": "" if value is None else value,
        "error": errors.get(name, ""),
        "attrs": attrs,
    }
