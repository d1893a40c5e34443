"""Panels of the payments app shown on shared pages (Mon Compte home and navigation, the
back-office customer page and navigation). Each tag renders nothing until it has something.

The panels render in the page's own context (no second pass of the context processors): they
see ``request``, ``operator``, ``csrf_token`` and ``section`` / ``bo_role`` as the page does."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from raccord.core.models import Policy

register = template.Library()

MONEY_ROLES = ("billing", "admin")
TONE_BADGES = {
    "ok": "badge",
    "info": "badge badge--info",
    "warning": "badge badge--warning",
    "danger": "badge badge--warning",
}


@register.filter
def payment_badge(tone: str) -> str:
    """The badge classes of a status tone (``selectors.Tone``)."""
    return TONE_BADGES.get(tone, "badge")


def _render(context: template.Context, name: str, values: dict[str, Any]) -> SafeString:
    if context.template is not None:
        engine = context.template.engine
    else:  # a Context built by hand (tests): the project's Django engine
        engine = template.engines["django"].engine  # type: ignore[attr-defined]
    tpl = engine.get_template(name)
    with context.push(**values):
        return tpl.render(context)  # already a SafeString: the template escaped its values


def _today() -> Any:
    from raccord.portal import clock

    return timezone.localdate(clock.now())


@register.simple_tag(takes_context=True)
def payments_portal_home(context: template.Context, customer: Any) -> str:
    """Mon Compte home: shown only when the customer has to pay something themselves, a debit
    was rejected, or the mandate lapsed (P7)."""
    from raccord.payments.selectors import customer_dues, customer_mandates

    if customer is None:
        return ""
    dues = customer_dues(customer=customer, today=_today())
    lapsed = False
    if not (dues.action_needed or dues.rejected):
        lapsed = customer_mandates(customer=customer, debit_day=Policy.get().debit_day).lapsed
        if not lapsed:
            return ""
    return _render(
        context,
        "payments/panels/portal_home.html",
        {"payments_dues": dues, "payments_lapsed": lapsed},
    )


@register.simple_tag(takes_context=True)
def payments_portal_nav(context: template.Context) -> str:
    return _render(context, "payments/panels/portal_nav.html", {})


@register.simple_tag(takes_context=True)
def payments_backoffice_customer(context: template.Context, customer: Any) -> str:
    """The money panel of the back-office customer page (any role reads it; the buttons that
    move money are shown to billing and admin only)."""
    from raccord.payments.money_views import customer_panel_context

    if customer is None:
        return ""
    values = customer_panel_context(
        customer, today=timezone.localdate(), role=context.get("bo_role")
    )
    return _render(context, "payments/panels/backoffice_customer.html", values)


def debit_batches_url() -> str:
    """The debit files page (sepa-debits work), if it exists yet."""
    try:
        return reverse("backoffice:debit_batches")
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def payments_backoffice_nav(context: template.Context) -> str:
    if context.get("bo_role") not in MONEY_ROLES:
        return ""
    return _render(
        context, "payments/panels/backoffice_nav.html", {"debit_batches_url": debit_batches_url()}
    )
