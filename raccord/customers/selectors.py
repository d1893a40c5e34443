"""Reads about customers and their logins (STYLE habit 2: reads live here, writes in services)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from raccord.customers.models import Customer

if TYPE_CHECKING:
    from raccord.contracts.models import Contract


def customer_for_user(*, user: AbstractBaseUser | AnonymousUser | None) -> Customer | None:
    """The customer a login belongs to, or None for anonymous visitors, inactive logins, logins
    without a customer record and agents: an agent never acts in Mon Compte as a customer."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if getattr(user, "is_staff", False):
        return None
    return Customer.objects.filter(user_id=user.pk).first()


def customer_by_login_email(*, email: str) -> Customer | None:
    """The customer whose active, non-agent login is ``email`` (any case), if there is one."""
    email = (email or "").strip()
    if not email:
        return None
    return (
        Customer.objects.select_related("user")
        .filter(user__email__iexact=email, user__is_active=True, user__is_staff=False)
        .order_by("id")
        .first()
    )


def customer_email_taken(*, email: str, customer: Customer | None = None) -> bool:
    """True when ``email`` is already the login or contact address of another account.

    Logins are matched on both email and username (the username is the lower-cased email) so
    that two accounts can never end up with the same login, whatever the case."""
    users = get_user_model().objects.filter(Q(email__iexact=email) | Q(username__iexact=email))
    customers = Customer.objects.filter(email__iexact=email)
    if customer is not None:
        customers = customers.exclude(pk=customer.pk)
        if customer.user_id is not None:
            users = users.exclude(pk=customer.user_id)
    return users.exists() or customers.exists()


def customer_contracts(*, customer: Customer) -> QuerySet[Contract]:
    """The customer's contracts with everything Mon Compte shows about them, in a fixed number
    of queries whatever their count (address, mandate, then the options in one batch)."""
    return (
        customer.contracts.select_related("installation_address", "mandate")
        .prefetch_related("options")
        .order_by("signed_at", "id")
    )
