"""Emails sent from Mon Compte: the password link, the email-change confirmation and notice.

They are sent after commit by the views (the links point to portal pages). Plain text only:
every message is short and carries one link."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from raccord.core.models import OperatorProfile
from raccord.customers.models import Customer
from raccord.customers.services import EMAIL_CHANGE_MAX_AGE
from raccord.notifications.services import password_set_url


def _send(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    operator = OperatorProfile.get()
    body = render_to_string(template, {"operator": operator, **context})
    EmailMessage(subject=f"{operator.trade_name} – {subject}", body=body, to=[to]).send()


def password_reset_email_send(*, customer: Customer, user: User) -> None:
    """The "mot de passe oublié" link: to the login address, towards the set-password page."""
    _send(
        to=user.email,
        subject="Choisir un nouveau mot de passe",
        template="portal/emails/password_reset.txt",
        context={
            "customer": customer,
            "login": user.email,
            "url": password_set_url(user=user),
            "days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600),
        },
    )


def email_change_link_send(*, customer: Customer, new_email: str, token: str) -> None:
    """The confirmation link, sent to the NEW address: following it proves the customer owns it."""
    path = reverse("portal:email_confirm", kwargs={"token": token})
    _send(
        to=new_email,
        subject="Confirmez votre nouvelle adresse email",
        template="portal/emails/email_change_link.txt",
        context={
            "customer": customer,
            "new_email": new_email,
            "url": f"{settings.RACCORD_PUBLIC_URL}{path}",
            "hours": int(EMAIL_CHANGE_MAX_AGE.total_seconds() // 3600),
        },
    )


def email_changed_notice_send(*, customer: Customer, old_email: str, new_email: str) -> None:
    """The notice to the OLD address, so that a change the customer did not make is noticed."""
    _send(
        to=old_email,
        subject="L'adresse email de votre compte a changé",
        template="portal/emails/email_changed_notice.txt",
        context={"customer": customer, "old_email": old_email, "new_email": new_email},
    )
