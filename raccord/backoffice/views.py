"""Back-office pages: login, dashboard, customer search and page, sign-up taken by an agent.

Views read the clock and pass dates in; every write goes through a domain service that records
the event in the customer's history."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from raccord.backoffice import selectors
from raccord.backoffice.forms import AddressSearchForm, AgentSignupForm, LoginForm, SearchForm
from raccord.backoffice.quotes import contract_quotes
from raccord.backoffice.roles import ROLE_LABELS, role_required, user_role
from raccord.billing.selectors import customer_documents
from raccord.catalog.selectors import cgv_in_force
from raccord.contracts.signup import SignupErrors, signup_check, signup_create
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.ratelimit import client_ip, rate_limit_hit
from raccord.eligibility.selectors import address_get, address_search
from raccord.eligibility.services import eligibility_check
from raccord.payments.selectors import documents_payment_state

logger = logging.getLogger(__name__)

SEARCH_PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50
DOCUMENTS_SHOWN = 24
ADDRESS_RESULTS = 15


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    role = user_role(request.user)
    context = {"bo_role": role, "bo_role_label": ROLE_LABELS.get(role or "", ""), **context}
    return render(request, template, context, status=status)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("backoffice:dashboard")


# --- login / logout -----------------------------------------------------------------------


def _login_throttled(request: HttpRequest, email: str) -> bool:
    """Count one attempt per client address and per typed email; True when over the limit."""
    limit = settings.RACCORD_RATE_LIMITS["login"]
    by_ip = rate_limit_hit(scope="backoffice-login-ip", key=client_ip(request), limit=limit)
    by_email = False
    if email:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        by_email = rate_limit_hit(scope="backoffice-login-email", key=digest, limit=limit)
    return by_ip or by_email


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method != "POST" and user_role(request.user) is not None:
        return HttpResponseRedirect(_safe_next(request, next_url))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _login_throttled(request, request.POST.get("email", "")):
            form.is_valid()
            form.add_error(
                None,
                _("Trop de tentatives de connexion : patientez une minute avant de réessayer."),
            )
            status = 429
        elif form.is_valid():
            user = authenticate(
                request,
                username=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
            # One message for a wrong password and for an account without a role: the page
            # does not tell which emails belong to agents.
            if user is None or user_role(user) is None:
                form.add_error(
                    None,
                    _(
                        "Email ou mot de passe incorrect, ou ce compte n'a pas accès à "
                        "l'espace de gestion."
                    ),
                )
                status = 400
            else:
                login(request, user)
                return HttpResponseRedirect(_safe_next(request, next_url))
        else:
            status = 400
    form.mark_for_assistive_technologies()
    return _render(
        request, "backoffice/login.html", {"form": form, "next": next_url}, status=status
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("Vous êtes déconnecté de l'espace de gestion."))
    return redirect("backoffice:login")


# --- dashboard and search -----------------------------------------------------------------


@role_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = selectors.dashboard_figures(today=timezone.localdate())
    return _render(
        request,
        "backoffice/dashboard.html",
        {"figures": figures, "search_form": SearchForm()},
    )


@role_required()
def customer_search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
    page = None
    if query:
        paginator = Paginator(selectors.customer_search(query=query), SEARCH_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
    return _render(
        request,
        "backoffice/customer_search.html",
        {"search_form": form, "query": query, "page": page},
    )


@role_required()
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.customer_detail(customer_id=customer_id)
    if customer is None:
        raise Http404(_("Client inconnu."))
    history = Paginator(selectors.customer_history(customer_id=customer.pk), HISTORY_PAGE_SIZE)
    # Reading a file is not a change: it goes to the access log, not to the customer's history.
    logger.info("backoffice customer viewed customer=%s agent=%s", customer.pk, request.user.pk)
    contracts = list(customer.contracts.all())
    today = timezone.localdate()
    # The latest documents in one query; the page says when there are more (B9).
    documents = list(
        customer_documents(customer=customer).prefetch_related(None)[: DOCUMENTS_SHOWN + 1]
    )
    return _render(
        request,
        "backoffice/customer_detail.html",
        {
            "customer": customer,
            "contracts": contracts,
            "history": history.get_page(request.GET.get("historique")),
            "documents": [
                (document, state.text)
                for document, state in zip(
                    documents[:DOCUMENTS_SHOWN],
                    documents_payment_state(documents=documents[:DOCUMENTS_SHOWN], today=today),
                    strict=True,
                )
            ],
            "documents_more": len(documents) > DOCUMENTS_SHOWN,
            "quotes": contract_quotes(contracts=contracts, today=today),
        },
    )


# --- sign-up taken by an agent ------------------------------------------------------------

_AGENT_MESSAGES = {
    # The shared checks speak to the customer; here the agent records what the customer did.
    "cgv_accepted": _(
        "Cochez cette case une fois que le client a accepté les conditions générales de vente."
    ),
}


def _signup_errors(error: DomainError) -> dict[str, str]:
    if isinstance(error, SignupErrors):
        return error.by_field()
    return {error.field or "__all__": error.message}


def _add_errors(form: AgentSignupForm, errors: dict[str, str], cgv_accepted: bool) -> None:
    for field_name, message in errors.items():
        if field_name == "cgv_accepted" and not cgv_accepted:
            message = str(_AGENT_MESSAGES["cgv_accepted"])
        target = field_name if field_name in form.fields else None
        if target is not None and target in form.errors:
            continue  # the field did not even parse: that message already says it
        form.add_error(target, message)


@role_required()
def signup_new(request: HttpRequest) -> HttpResponse:
    """Step 1, find the address; step 2, the sign-up form for that address."""
    search_form = AddressSearchForm(request.GET or None)
    raw_address_id = request.POST.get("address_id") or request.GET.get("address_id")
    address = None
    if raw_address_id:
        try:
            address = address_get(address_id=int(raw_address_id))
        except ValueError:
            address = None
    if address is None:
        addresses = []
        query = ""
        if search_form.is_valid():
            query = search_form.cleaned_data["adresse"].strip()
            if query:
                addresses = address_search(query=query, limit=ADDRESS_RESULTS)
        return _render(
            request,
            "backoffice/signup_address.html",
            {
                "search_form": search_form,
                "query": query,
                "addresses": addresses,
                "unknown_address": bool(raw_address_id),
            },
            status=400 if request.method == "POST" else 200,
        )

    now = timezone.localtime()
    eligibility = eligibility_check(address=address)
    options = selectors.signup_options(eligibility=eligibility)
    cgv = cgv_in_force(on=now.date())
    form_kwargs: dict[str, Any] = {
        "eligibility": eligibility,
        "options": options,
        "cgv_label": _("version %(version)s") % {"version": cgv.version} if cgv else "",
    }
    status = 200
    if request.method == "POST":
        form = AgentSignupForm(request.POST, **form_kwargs)
        parsed = form.is_valid()
        signup_request = form.signup_request()
        signup_request.address_id = address.pk
        try:
            if parsed:
                contract = signup_create(
                    request=signup_request,
                    actor=Actor.agent(request.user),  # type: ignore[arg-type]
                    at=now,
                )
                messages.success(
                    request,
                    _("Souscription enregistrée : contrat %(reference)s.")
                    % {"reference": contract.reference},
                )
                return redirect("backoffice:customer_detail", customer_id=contract.customer_id)
            # Some fields did not parse: still run the shared checks, so that the agent sees
            # every problem at once, then write nothing.
            signup_check(request=signup_request, on=now.date())
        except DomainError as error:
            _add_errors(form, _signup_errors(error), signup_request.cgv_accepted)
        status = 400
    else:
        form = AgentSignupForm(
            initial={
                "address_id": address.pk,
                "signup_key": uuid.uuid4(),
                "cgv_version_id": cgv.pk if cgv else None,
                "delivery_same_as_installation": True,
                "payment_method": "sepa",
                "installation_mode": "equipped" if eligibility.premises_equipped else "kit",
            },
            **form_kwargs,
        )
    form.mark_for_assistive_technologies()
    return _render(
        request,
        "backoffice/signup_form.html",
        {
            "form": form,
            "address": address,
            "eligibility": eligibility,
            "cgv": cgv,
            "search_form": AddressSearchForm(),
        },
        status=status,
    )
