"""Mon Compte pages. Every page goes through ``customer_required``, which hands the view the
logged-in customer: views read data only through that customer, never through an id taken
from the URL, so one customer can never reach another's contracts, mandates or history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial, wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.customers.models import Customer
from raccord.customers.selectors import customer_contracts, customer_for_user
from raccord.customers.services import (
    customer_email_change_confirm,
    customer_email_change_request,
    customer_phone_change,
    email_change_token_read,
)
from raccord.portal import clock
from raccord.portal.emails import email_change_link_send, email_changed_notice_send
from raccord.portal.forms import EmailChangeForm, PhoneForm
from raccord.portal.presenters import contract_view

CustomerView = Callable[..., HttpResponse]


def customer_required(view: CustomerView) -> Callable[..., HttpResponse]:
    """Login required, and the login must be a customer's: the view receives that customer.

    An agent (or a login without customer record) gets a 403 page that says why, instead of a
    redirect to the login page that would loop."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        customer = customer_for_user(user=request.user)
        if customer is None:
            return render(request, "portal/no_access.html", status=403)
        return view(request, customer, *args, **kwargs)

    return wrapper


def _today() -> date:
    return timezone.localdate(clock.now())


@require_GET
@customer_required
def home_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    today = _today()
    contracts = [contract_view(c, today=today) for c in customer_contracts(customer=customer)]
    return render(
        request,
        "portal/home.html",
        {"customer": customer, "contracts": contracts, "section": "home"},
    )


@require_GET
@customer_required
def offer_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    today = _today()
    contracts = [contract_view(c, today=today) for c in customer_contracts(customer=customer)]
    return render(
        request,
        "portal/offer.html",
        {"customer": customer, "contracts": contracts, "section": "offer"},
    )


def _informations(
    request: HttpRequest,
    customer: Customer,
    *,
    phone_form: PhoneForm | None = None,
    email_form: EmailChangeForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "portal/informations.html",
        {
            "customer": customer,
            "login_email": customer.user.email if customer.user else customer.email,
            "phone_form": phone_form or PhoneForm(initial={"phone": customer.phone}),
            "email_form": email_form or EmailChangeForm(),
            "section": "informations",
        },
    )


@require_GET
@customer_required
def informations_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    return _informations(request, customer)


@require_POST
@customer_required
def phone_change_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    form = PhoneForm(request.POST)
    if form.is_valid():
        try:
            customer_phone_change(
                customer=customer,
                phone=form.cleaned_data["phone"],
                actor=Actor.customer(request.user),
                at=clock.now(),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("Votre numéro de téléphone est enregistré."))
            return redirect("portal:informations")
    return _informations(request, customer, phone_form=form)


@require_POST
@customer_required
def email_change_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            result = customer_email_change_request(
                customer=customer,
                new_email=form.cleaned_data["email"],
                actor=Actor.customer(request.user),
                at=clock.now(),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            if result.token is None:
                messages.success(
                    request,
                    _("Le changement d'adresse est annulé : vous gardez votre adresse actuelle."),
                )
            else:
                transaction.on_commit(
                    partial(
                        email_change_link_send,
                        customer=result.customer,
                        new_email=result.new_email,
                        token=result.token,
                    )
                )
                messages.success(
                    request,
                    _(
                        "Nous avons envoyé un lien de confirmation à %(email)s. Votre adresse "
                        "de connexion changera quand vous l'aurez suivi."
                    )
                    % {"email": result.new_email},
                )
            return redirect("portal:informations")
    return _informations(request, customer, email_form=form)


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link sent to the new address. No login needed (the signed token is the proof), and
    the GET only shows a button: mail scanners that open links must not confirm anything."""
    now = clock.now()
    try:
        data = email_change_token_read(token=token, at=now)
    except DomainError as error:
        return render(request, "portal/email_confirm.html", {"error": error.message}, status=400)
    if request.method == "GET":
        return render(request, "portal/email_confirm.html", {"new_email": data.new_email})
    try:
        done = customer_email_change_confirm(token=token, at=now)
    except DomainError as error:
        already = error.code == "already_used"
        return render(
            request,
            "portal/email_confirm.html",
            {"error": error.message, "already": already},
            status=200 if already else 400,
        )
    transaction.on_commit(
        partial(
            email_changed_notice_send,
            customer=done.customer,
            old_email=done.old_email,
            new_email=done.new_email,
        )
    )
    return render(
        request,
        "portal/email_confirm.html",
        {"done": done, "logged_in": customer_for_user(user=request.user) == done.customer},
    )
