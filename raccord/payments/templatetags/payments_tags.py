"""Panels of the payments app shown on shared pages (Mon Compte home and navigation, the
back-office customer page and navigation). Each tag renders nothing until it has something."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def payments_portal_home(context: dict[str, Any], customer: Any) -> str:
    return ""


@register.simple_tag(takes_context=True)
def payments_portal_nav(context: dict[str, Any]) -> str:
    return ""


@register.simple_tag(takes_context=True)
def payments_backoffice_customer(context: dict[str, Any], customer: Any) -> str:
    return ""


@register.simple_tag(takes_context=True)
def payments_backoffice_nav(context: dict[str, Any]) -> str:
    return ""
