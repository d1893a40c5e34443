"""Mon Compte access (C3): login, logout, password set from the emailed link, forgotten password.

Hardening: logins are throttled per client address and per email before any password check;
``login()`` gives the visitor a new session key; logout is POST only (a link or an image cannot
log anybody out); the set-password token leaves the URL at once (it is kept in the session, as
Django's own view does) so it never leaks through the Referer header or the history."""

from __future__ import annotations

import hashlib
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.ratelimit import client_ip, rate_limit_hit, rate_limit_refund
from raccord.customers.selectors import customer_for_user
from raccord.customers.services import (
    customer_login_record,
    customer_logout_record,
    customer_password_reset_request,
    customer_password_set,
)
from raccord.portal import clock
from raccord.portal.emails import password_reset_email_send
from raccord.portal.forms import LoginForm, PasswordResetRequestForm, PasswordSetForm

BACKEND = "raccord.customers.auth.EmailBackend"
SESSION_TOKEN_KEY = "_portal_password_set_token"  # noqa: S105 (a session key name)
# Stands in the URL for the real token once it has moved into the session.
URL_TOKEN_PLACEHOLDER = "nouveau"  # noqa: S105 (not a secret)


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _attempt_refund(*, scope: str, request: HttpRequest, email: str, moment: float) -> None:
    """A login that succeeded no longer counts against the address and the account (in the
    window its attempt was counted in: ``moment`` is the one ``_throttled`` used)."""
    rate_limit_refund(scope=f"{scope}-ip", key=client_ip(request), now=moment)
    if email:
        rate_limit_refund(scope=f"{scope}-email", key=_email_digest(email), now=moment)


def _throttled(*, scope: str, request: HttpRequest, email: str, moment: float) -> bool:
    """Count one attempt per client address and per email; True when either is over the limit.

    Both counters always move (no short-circuit) so that spreading attempts over many addresses
    or over many accounts is caught as well. The email is hashed: cache keys stay short and
    never hold an address in clear."""
    limit = settings.RACCORD_RATE_LIMITS["login"]
    over_ip = rate_limit_hit(scope=f"{scope}-ip", key=client_ip(request), limit=limit, now=moment)
    over_email = False
    if email:
        over_email = rate_limit_hit(
            scope=f"{scope}-email", key=_email_digest(email), limit=limit, now=moment
        )
    return over_ip or over_email


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if customer_for_user(user=request.user) is not None:
        return redirect(_safe_next(request) or "portal:home")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        email = str(request.POST.get("email", ""))
        moment = clock.now().timestamp()
        if _throttled(scope="login", request=request, email=email, moment=moment):
            # Over the limit the password is not even checked: guessing gains nothing.
            form = LoginForm(request.POST)
            form.is_valid()
            form.refuse(
                _(
                    "Trop de tentatives de connexion. Pour protéger votre compte, patientez "
                    "une minute avant de réessayer."
                )
            )
            status = 429
        elif form.is_valid():
            user = authenticate(
                request,
                username=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
            if user is None:
                # One message whether the email is unknown or the password wrong.
                form.refuse(_("Adresse email ou mot de passe incorrect."))
            else:
                customer = customer_for_user(user=user)
                if customer is None:
                    form.refuse(
                        _(
                            "Ce compte d'agent ne donne pas accès à Mon Compte : utilisez "
                            "l'espace de gestion."
                        )
                        if user.is_staff
                        else _(
                            "Ce compte n'est rattaché à aucun abonnement : il ne donne pas "
                            "accès à Mon Compte. Contactez le service client."
                        )
                    )
                else:
                    _attempt_refund(scope="login", request=request, email=email, moment=moment)
                    login(request, user, backend=BACKEND)
                    customer_login_record(customer=customer, at=clock.now(), ip=client_ip(request))
                    return HttpResponseRedirect(_safe_next(request) or reverse("portal:home"))
    return render(
        request,
        "portal/login.html",
        {"form": form, "next": _safe_next(request) or ""},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    customer = customer_for_user(user=request.user)
    if customer is not None:
        customer_logout_record(customer=customer, at=clock.now(), ip=client_ip(request))
    logout(request)
    messages.success(request, _("Vous êtes déconnecté de Mon Compte."))
    return redirect("portal:login")


def _user_from_uid(uidb64: str) -> User | None:
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return get_user_model().objects.filter(pk=pk).first()


@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def password_set_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = _user_from_uid(uidb64)
    # Only customers set their password here; an agent's uid gives the same "invalid" page.
    customer = customer_for_user(user=user) if user is not None and user.is_active else None
    if user is None or customer is None:
        return _password_link_invalid(request)
    if token != URL_TOKEN_PLACEHOLDER:
        if not default_token_generator.check_token(user, token):
            return _password_link_invalid(request)
        request.session[SESSION_TOKEN_KEY] = token
        return redirect("portal:password_set", uidb64=uidb64, token=URL_TOKEN_PLACEHOLDER)
    session_token = request.session.get(SESSION_TOKEN_KEY)
    if not session_token or not default_token_generator.check_token(user, session_token):
        return _password_link_invalid(request)

    form = PasswordSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = customer_password_set(
                customer=customer,
                password=form.cleaned_data["password1"],
                actor=Actor.customer(user),
                at=clock.now(),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            del request.session[SESSION_TOKEN_KEY]
            # login() rotates the session key: the session that held the token is gone.
            login(request, user, backend=BACKEND)
            customer_login_record(customer=customer, at=clock.now(), ip=client_ip(request))
            messages.success(
                request, _("Votre mot de passe est enregistré. Bienvenue dans Mon Compte.")
            )
            return redirect("portal:home")
    return render(
        request,
        "portal/password_set.html",
        {"form": form, "login_email": user.email, "customer": customer},
    )


def _password_link_invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/password_link_invalid.html")


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_view(request: HttpRequest) -> HttpResponse:
    """ "Mot de passe oublié": the answer is the same whether the address has an account or not."""
    form = PasswordResetRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        email = str(request.POST.get("email", ""))
        if _throttled(
            scope="password-reset",
            request=request,
            email=email,
            moment=clock.now().timestamp(),
        ):
            form.is_valid()
            form.add_error(
                None,
                _("Trop de demandes. Patientez une minute avant de faire une nouvelle demande."),
            )
            status = 429
        elif form.is_valid():
            customer = customer_password_reset_request(
                email=form.cleaned_data["email"], at=clock.now(), ip=client_ip(request)
            )
            if customer is not None and customer.user is not None:
                transaction.on_commit(
                    partial(password_reset_email_send, customer=customer, user=customer.user)
                )
            return redirect("portal:password_reset_sent")
    return render(request, "portal/password_reset.html", {"form": form}, status=status)


def password_reset_sent_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/password_reset_sent.html",
        {"days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600)},
    )
