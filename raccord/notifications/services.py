"""Emails sent to customers."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from raccord.contracts.models import Contract
from raccord.core.models import OperatorProfile


def password_set_url(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("portal:password_set", kwargs={"uidb64": uid, "token": token})
    return f"{settings.RACCORD_PUBLIC_URL}{path}"


def order_summary_send(*, contract_id: int) -> None:
    """The order summary (C3): order, prices, commitment, CGV version, special mentions, and the
    Mon Compte login with a link to set a password (never a password in clear)."""
    contract = (
        Contract.objects.select_related(
            "customer__user", "cgv_version", "installation_address", "mandate"
        )
        .prefetch_related("options")
        .get(pk=contract_id)
    )
    customer = contract.customer
    if customer.user is None:
        raise ValueError(f"customer {customer.reference} has no login")
    context = {
        "contract": contract,
        "customer": customer,
        "operator": OperatorProfile.get(),
        "password_url": password_set_url(user=customer.user),
        "login": customer.user.email,
        "portal_url": f"{settings.RACCORD_PUBLIC_URL}{reverse('portal:login')}",
    }
    subject = f"Votre commande {contract.reference} – récapitulatif"
    text = render_to_string("notifications/order_summary.txt", context)
    html = render_to_string("notifications/order_summary.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[customer.email])
    message.attach_alternative(html, "text/html")
    message.send()
